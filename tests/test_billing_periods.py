"""Billing periods in the customer's time zone: month lengths, calendar vs anniversary, every interval."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from subscriptions.periods import add_months, next_boundary, periods

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db


def local_days(result, tz):
    return [(p.start.astimezone(tz).date(), p.end.astimezone(tz).date()) for p in result]


def test_anniversary_on_jan_31_clamps_to_month_end_and_keeps_the_anchor():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)  # leap year
    sub = b.subscription(f.customer(), b.plan(), started_at=b.utc(2028, 1, 31, 10), billing_time="anniversary")
    utc = ZoneInfo("UTC")
    assert local_days(periods(sub, until=b.utc(2028, 5, 1)), utc) == [
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2028, 2, 29), date(2028, 3, 31)),
        (date(2028, 3, 31), date(2028, 4, 30)),
    ]
    sub.started_at = b.utc(2027, 1, 31)
    assert local_days(periods(sub, until=b.utc(2027, 3, 31)), utc)[:2] == [
        (date(2027, 1, 31), date(2027, 2, 28)), (date(2027, 2, 28), date(2027, 3, 31)),
    ]


def test_calendar_first_period_is_partial_and_prorated():
    sub = b.subscription(f.customer(), b.plan(), started_at=b.utc(2026, 1, 11), billing_time="calendar")
    first, second = periods(sub, until=b.utc(2026, 3, 1))
    assert (first.start, first.end) == (b.utc(2026, 1, 11), b.utc(2026, 2, 1))
    assert (first.days, first.full_days) == (21, 31)
    assert (second.start, second.end, second.ratio) == (b.utc(2026, 2, 1), b.utc(2026, 3, 1), 1)


def test_periods_follow_the_customer_time_zone():
    paris = ZoneInfo("Europe/Paris")
    cust = f.customer(f.billing_entity(timezone="America/New_York"), timezone="Europe/Paris")
    sub = b.subscription(cust, b.plan(), started_at=datetime(2026, 1, 1, tzinfo=paris))
    (january,) = periods(sub, until=b.utc(2026, 2, 1))  # Feb 1 00:00 Paris = Jan 31 23:00 UTC
    assert january.start == b.utc(2025, 12, 31, 23)
    assert january.end == b.utc(2026, 1, 31, 23)
    assert january.last_instant.astimezone(paris) == datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=paris)
    # The entity's zone applies when the customer has none: New York's month ends 5 hours after UTC's.
    ny = f.customer(f.billing_entity(timezone="America/New_York"))
    sub_ny = b.subscription(ny, b.plan(), started_at=datetime(2026, 1, 1, tzinfo=ZoneInfo("America/New_York")))
    assert periods(sub_ny, until=b.utc(2026, 2, 1, 4, 59)) == []
    assert periods(sub_ny, until=b.utc(2026, 2, 1, 5))[0].end == b.utc(2026, 2, 1, 5)


def test_a_local_day_start_before_utc_midnight_is_the_next_local_day():
    tokyo = ZoneInfo("Asia/Tokyo")
    cust = f.customer(timezone="Asia/Tokyo")
    sub = b.subscription(cust, b.plan(), started_at=b.utc(2026, 1, 31, 16), billing_time="anniversary")  # Feb 1 01:00 Tokyo
    (first,) = periods(sub, until=b.utc(2026, 3, 1))
    assert local_days([first], tokyo) == [(date(2026, 2, 1), date(2026, 3, 1))]


@pytest.mark.parametrize("interval, billing_time, day, expected", [
    ("weekly", "calendar", date(2026, 1, 7), date(2026, 1, 12)),  # a Wednesday -> next Monday
    ("weekly", "anniversary", date(2026, 1, 7), date(2026, 1, 14)),
    ("monthly", "calendar", date(2026, 1, 31), date(2026, 2, 1)),
    ("quarterly", "calendar", date(2026, 2, 15), date(2026, 4, 1)),
    ("quarterly", "anniversary", date(2026, 1, 31), date(2026, 4, 30)),
    ("yearly", "calendar", date(2026, 6, 1), date(2027, 1, 1)),
    ("yearly", "anniversary", date(2028, 2, 29), date(2029, 2, 28)),
])
def test_next_boundary_for_every_interval(interval, billing_time, day, expected):
    assert next_boundary(day, interval, billing_time, anchor=day) == expected


def test_termination_clips_the_last_period():
    sub = b.subscription(f.customer(), b.plan(), started_at=b.utc(2026, 1, 1), status="terminated",
                         terminated_at=b.utc(2026, 2, 10, 12))
    result = periods(sub, until=b.utc(2026, 6, 1))
    assert [(p.start, p.end) for p in result] == [(b.utc(2026, 1, 1), b.utc(2026, 2, 1)), (b.utc(2026, 2, 1), b.utc(2026, 2, 10, 12))]
    assert (result[1].days, result[1].full_days) == (10, 28)
