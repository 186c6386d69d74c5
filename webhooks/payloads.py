"""The JSON object a webhook carries, serialized at delivery time (Lago does the same).

Each app registers the builders of its own object types from its AppConfig.ready()
(`register("invoice", invoice_payload)`), so webhooks imports none of the apps whose
events it carries: they sit above it and call down into it.
"""
from typing import Callable

BUILDERS: dict[str, Callable[[object], dict]] = {}


def register(object_type: str, builder: Callable[[object], dict]) -> None:
    """`builder(object_id) -> dict` makes the payload object of `object_type` events."""
    BUILDERS[object_type] = builder


def serialize_object(object_type: str, object_id) -> dict:
    builder = BUILDERS.get(object_type)
    if builder is None:
        return {"lago_id": str(object_id)}
    return builder(object_id)
