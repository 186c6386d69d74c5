"""Small helpers for Lago-shaped JSON: ISO-8601 datetimes in UTC with Z, dates as YYYY-MM-DD."""
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal
from functools import lru_cache


@lru_cache(maxsize=4096)  # a body repeats its fees' periods and creation times: ~35 per invoice, most seen already
def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def plain_decimal(value) -> str:
    """A decimal as plain digits, trailing zeros dropped: 400 (never "4E+2"), 2.5, 0.
    The one place decimals become text for audit snapshots and Lago bodies alike."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def decimal_str(value: Decimal | None) -> str | None:
    """Lago sends decimals (units, precise amounts) as strings, e.g. "3.0"."""
    if value is None:
        return None
    text = plain_decimal(value)
    return text if "." in text else f"{text}.0"
