from django.core.management.base import CommandError
from datetime import timezone as dt_timezone

from django.utils import timezone
from django.utils.dateparse import parse_datetime


def parse_at(value):
    """--at ISO-DATETIME (naive = UTC), or now."""
    if not value:
        return timezone.now()
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--at {value!r} is not an ISO 8601 date-time (e.g. 2026-02-01T00:00:00Z).")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt_timezone.utc)
