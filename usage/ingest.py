"""Ingesting usage events from /api/v1/events at volume: Lago's rules, one INSERT per request.

Lago's rules (Events::CreateService, Events::CreateBatchService):
- `timestamp` is Unix seconds, a JSON number or a numeric string, decimals allowed; anything
  else (an ISO date included) is `invalid_format`; null means "now".
- Neither the subscription nor the metric code is checked: an event for an unknown one is
  stored and simply never billed (Lago flags it later, asynchronously).
- A batch is all or nothing: one bad or duplicate event refuses the whole batch, with the
  errors keyed by the event's index. A transaction_id already recorded (or repeated in the
  batch) is `value_already_exist` and changes nothing.

The happy path is one `INSERT … ON CONFLICT (transaction_id) DO NOTHING RETURNING` per
request: fewer rows back than sent means duplicates, and the transaction is rolled back.
`usage.services.record_events` stays the entry point for Python callers (admin, tests).
"""
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone

from . import watermark
from .models import Event

MAX_BATCH = 100
_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z
_MAX_PRECISE = Decimal(10) ** 25  # numeric(40, 15)
_LENGTHS = {"transaction_id": 255, "external_subscription_id": 255, "code": 100}


class EventErrors(Exception):
    """Validation or duplicate errors: {field: [code]} for one event, {index: {field: [code]}} for a batch."""

    def __init__(self, details: dict):
        super().__init__(details)
        self.details = details


@dataclass
class IngestedEvent:
    id: int
    transaction_id: str
    external_subscription_id: str
    code: str
    timestamp: datetime
    properties: dict
    precise_total_amount_cents: Decimal | None
    created_at: datetime


def ingest(items: list, *, audit=None) -> list[IngestedEvent]:
    """Validate and store `items` (dicts as sent) all or nothing; EventErrors keyed by index.

    `audit(events)` runs inside the transaction once the rows are in (the caller's audit entry).
    """
    now = timezone.now()
    rows, errors = [], {}
    for index, item in enumerate(items):
        row, problems = _parse(item, now)
        if problems:
            errors[index] = problems
        else:
            rows.append(row)
    if errors:
        raise EventErrors(errors)
    with transaction.atomic():
        inserted = _insert(rows, now)
        if len(inserted) != len(rows):
            raise EventErrors(_duplicates(rows, inserted))
        watermark.advance(row[1] for row in rows)  # drafts priced before this batch re-price at finalization
        events = [IngestedEvent(inserted[row[0]], *row, now) for row in rows]
        if audit is not None:
            audit(events)
    return events


def _parse(item, now):
    """((transaction_id, external_subscription_id, code, timestamp, properties, precise), {field: [code]})."""
    if not isinstance(item, dict):
        return None, {"event": ["value_is_invalid"]}
    problems = {}
    values = []
    for field, limit in _LENGTHS.items():
        value = item.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems[field] = ["value_is_mandatory"]
        elif not isinstance(value, str) or len(value) > limit:
            problems[field] = ["value_is_invalid"]
        else:
            value = value.strip()
        values.append(value)
    stamp = item.get("timestamp")
    if stamp is None:
        stamp = now
    else:
        stamp = _unix_seconds(stamp)
        if stamp is None:
            problems["timestamp"] = ["invalid_format"]
    properties = item.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        problems["properties"] = ["value_is_invalid"]
    precise = item.get("precise_total_amount_cents")
    if precise is not None:
        precise = _decimal(precise)
        if precise is None:
            problems["precise_total_amount_cents"] = ["value_is_invalid"]
    if problems:
        return None, problems
    return (*values, stamp, properties, precise), None


def _unix_seconds(value) -> datetime | None:
    """Lago's Float(timestamp): seconds as a number or a numeric string; None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)  # an instant, not money: microsecond precision is all a datetime keeps
    except ValueError:
        return None
    if not math.isfinite(seconds) or abs(seconds) > _MAX_SECONDS:
        return None
    return datetime.fromtimestamp(seconds, tz=dt_timezone.utc)


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < _MAX_PRECISE else None


def uses_postgres_fast_path() -> bool:
    """True where the unnest() INSERT replaces the portable VALUES list (tests patch it to False)."""
    return connection.vendor == "postgresql"


def _insert(rows, now) -> dict[str, int]:
    """One INSERT for all rows; returns {transaction_id: id} of the rows actually inserted.

    On PostgreSQL the rows travel as seven arrays through unnest(): a short statement whatever
    the batch size, so the driver's query parsing is cached (a VALUES list of 700 placeholders
    costs more to build than to insert). Elsewhere (SQLite in the demo), a plain VALUES list.
    """
    columns = list(zip(*[(transaction_id, subscription_id, code, stamp, json.dumps(properties), precise)
                         for transaction_id, subscription_id, code, stamp, properties, precise in rows]))
    if uses_postgres_fast_path():
        sql = _PG_INSERT
        params = [now] + [list(c) for c in columns]
    else:
        ops = connection.ops
        sql = _values_insert(len(rows))
        params = []
        for transaction_id, subscription_id, code, stamp, properties, precise in zip(*columns):
            params += [transaction_id, subscription_id, code, ops.adapt_datetimefield_value(stamp), properties,
                       None if precise is None else ops.adapt_decimalfield_value(precise, 40, 15), ops.adapt_datetimefield_value(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {transaction_id: pk for pk, transaction_id in cursor.fetchall()}


_TABLE = Event._meta.db_table
_COLUMNS = "transaction_id, external_subscription_id, code, timestamp, properties, precise_total_amount_cents, created_at"
_PG_INSERT = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) "
    "SELECT t, s, c, ts, p::jsonb, a, %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::text[], "
    "%s::numeric[]) AS v(t, s, c, ts, p, a) "
    "ON CONFLICT (transaction_id) DO NOTHING RETURNING id, transaction_id"
)


def _values_insert(count: int) -> str:
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * count)
    return f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES {values} ON CONFLICT (transaction_id) DO NOTHING RETURNING id, transaction_id"


def _duplicates(rows, inserted) -> dict:
    """{index: {"transaction_id": ["value_already_exist"]}} for rows recorded before or earlier in the batch."""
    errors, taken = {}, set()
    for index, row in enumerate(rows):
        if row[0] in inserted and row[0] not in taken:
            taken.add(row[0])
        else:
            errors[index] = {"transaction_id": ["value_already_exist"]}
    return errors
