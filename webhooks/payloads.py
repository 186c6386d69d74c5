"""Webhook bodies, rendered when the event happens (in the change's transaction) and stored on the event.

As Lago (Webhooks::BaseService): the body is `{"webhook_type", "object_type", "organization_id",
"<object_type>": {…}}` and every attempt sends the stored bytes, so a retry of one X-Lago-Unique-Key
carries the same body, and an `invoice.drafted` says "draft" even if the invoice was finalized before
the delivery ran.

Each app owns the serializer of its objects (the one its API answers with) and registers a batch
builder here from its AppConfig.ready(): `register("invoice", webhook_invoices)`, where a builder takes
object ids and returns {str(id): object dict}. Webhooks import no app: apps import webhooks.

A writer that already holds what the body shows (finalization: the invoice, its fees and taxes, as it
wrote them) can spare the read-back: the app registers a second builder, `held=`, that takes those
objects and returns the same {str(id): object dict}, byte for byte what the read-back gives (the app's
tests render both ways and compare), and the writer marks its events `outbox.event(..., held=True)`.
"""
import json
from collections.abc import Callable, Iterable

from django.conf import settings

Builder = Callable[[list], dict]

BUILDERS: dict[str, Builder] = {}
HELD_BUILDERS: dict[str, Builder] = {}


def register(object_type: str, builder: Builder, *, held: Builder | None = None) -> None:
    BUILDERS[object_type] = builder
    if held is not None:
        HELD_BUILDERS[object_type] = held


def render_objects(object_type: str, object_ids: Iterable) -> dict[str, dict]:
    """{str(id): object} for these ids; every id must exist (the event is written with its object)."""
    builder = BUILDERS.get(object_type)
    if builder is None:
        raise LookupError(f"No webhook payload builder for object type {object_type!r} (see webhooks/payloads.py).")
    ids = list(dict.fromkeys(str(i) for i in object_ids))
    objects = builder(ids)
    missing = [i for i in ids if i not in objects]
    if missing:
        raise LookupError(f"Webhook objects not found: {object_type} {', '.join(missing)}")
    return objects


def render_held(object_type: str, objects: list) -> dict[str, dict]:
    """{str(pk): object} from instances the writer holds (see the module's docstring); the read-back
    builder where the type has no `held` one."""
    builder = HELD_BUILDERS.get(object_type)
    if builder is None:
        return render_objects(object_type, [obj.pk for obj in objects])
    return builder(list({str(obj.pk): obj for obj in objects}.values()))


def body(webhook_type: str, object_type: str, obj: dict) -> str:
    """The exact body: compact JSON, ASCII only (so the stored text and the bytes sent are one thing)."""
    payload = {
        "webhook_type": webhook_type,
        "object_type": object_type,
        "organization_id": settings.ORGANIZATION_ID,
        object_type: obj,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
