"""Recording usage events: the one entry point for the API, the admin and the tests.

A transaction_id is the sender's idempotency key: a duplicate is refused with
code "value_already_exist" and changes nothing (Lago answers 422 the same way).
"""
from datetime import datetime, timezone as dt_timezone

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.money import to_decimal

from . import watermark
from .models import Event


def record_event(*, transaction_id, external_subscription_id, code, timestamp=None, properties=None,
                 precise_total_amount_cents=None) -> Event:
    return record_events([dict(
        transaction_id=transaction_id, external_subscription_id=external_subscription_id, code=code, timestamp=timestamp,
        properties=properties, precise_total_amount_cents=precise_total_amount_cents,
    )])[0]


def record_events(items: list[dict]) -> list[Event]:
    """Record a batch all or nothing: one bad or duplicate event refuses the whole batch."""
    events = [_build(item) for item in items]
    ids = [e.transaction_id for e in events]
    if len(set(ids)) != len(ids):
        raise ValidationError({"transaction_id": ValidationError("The batch repeats a transaction_id.", code="value_already_exist")})
    taken = list(Event.objects.filter(transaction_id__in=ids).values_list("transaction_id", flat=True)[:5])
    if taken:
        raise _duplicate(taken)
    try:
        with transaction.atomic():
            created = Event.objects.bulk_create(events)
            watermark.advance(e.external_subscription_id for e in events)
            return created
    except IntegrityError:  # lost a race with another sender of the same transaction_id
        raise _duplicate(ids)


def _duplicate(ids):
    message = f"An event with transaction_id {', '.join(map(str, ids))} was already recorded."
    return ValidationError({"transaction_id": ValidationError(message, code="value_already_exist")})


def _build(item: dict) -> Event:
    errors = {}
    for field in ("transaction_id", "external_subscription_id", "code"):
        if not str(item.get(field) or "").strip():
            errors[field] = "This field is required."
    stamp = item.get("timestamp")
    if stamp in (None, ""):
        stamp = timezone.now()
    elif isinstance(stamp, (int, float)) or (isinstance(stamp, str) and stamp.replace(".", "", 1).isdigit()):
        stamp = datetime.fromtimestamp(float(stamp), tz=dt_timezone.utc)  # Lago sends Unix seconds
    elif isinstance(stamp, str):
        parsed = parse_datetime(stamp)
        if parsed is None:
            errors["timestamp"] = "Not a Unix timestamp nor an ISO 8601 date-time."
        stamp = parsed
    if isinstance(stamp, datetime) and timezone.is_naive(stamp):
        errors["timestamp"] = "The timestamp needs a time zone."
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        errors["properties"] = "Properties are a JSON object."
    precise = item.get("precise_total_amount_cents")
    if precise not in (None, ""):
        try:
            precise = to_decimal(precise)
        except ValidationError:
            errors["precise_total_amount_cents"] = "Not a number."
    else:
        precise = None
    if errors:
        raise ValidationError({field: ValidationError(message, code="invalid_value") for field, message in errors.items()})
    return Event(
        transaction_id=str(item["transaction_id"]).strip(), external_subscription_id=str(item["external_subscription_id"]).strip(),
        code=str(item["code"]).strip(), timestamp=stamp, properties=properties, precise_total_amount_cents=precise,
    )
