"""Billing periods, computed in the customer's time zone.

A period runs from a local midnight (inclusive) to the next boundary's local midnight
(exclusive), clipped to the subscription's start and termination:
- calendar: boundaries are Mondays (weekly), the 1st of a month, of Jan/Apr/Jul/Oct, of January;
  the first period runs from the start date to the first boundary and its fee is prorated by days.
- anniversary: boundaries fall k intervals after the start date; a day the month lacks
  becomes its last day (Jan 31 -> Feb 28/29 -> Mar 31: the anchor stays the 31st).
"""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive: the next period's start, or the termination
    days: int  # local days billed
    full_days: int  # local days of the whole interval it belongs to (for proration)

    @property
    def last_instant(self) -> datetime:
        """The inclusive end stored on invoices and used for aggregation (end - 1 microsecond)."""
        return self.end - timedelta(microseconds=1)

    @property
    def ratio(self) -> Decimal:
        return Decimal(1) if self.days >= self.full_days else Decimal(self.days) / Decimal(self.full_days)


def add_months(anchor: date, months: int) -> date:
    """`anchor` + months, the anchor's day clamped to the month's length."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def next_boundary(day: date, interval: str, billing_time: str, anchor: date) -> date:
    """The first period boundary strictly after `day`."""
    if interval == "weekly":
        weekday = 0 if billing_time == "calendar" else anchor.weekday()
        return day + timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)
    step = MONTHS[interval]
    if billing_time == "calendar":
        month_index = day.year * 12 + day.month - 1
        following = (month_index // step + 1) * step
        return date(following // 12, following % 12 + 1, 1)
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    k = max(elapsed // step * step, 0)
    while add_months(anchor, k) <= day:
        k += step
    return add_months(anchor, k)


def previous_boundary(day: date, interval: str, billing_time: str, anchor: date) -> date:
    """The last period boundary on or before `day` (for the full length of a partial period)."""
    if interval == "weekly":
        weekday = 0 if billing_time == "calendar" else anchor.weekday()
        return day - timedelta(days=(day.weekday() - weekday) % 7)
    step = MONTHS[interval]
    if billing_time == "calendar":
        month_index = (day.year * 12 + day.month - 1) // step * step
        return date(month_index // 12, month_index % 12 + 1, 1)
    return anchor if day < anchor else _prev_anniversary(day, step, anchor)


def _prev_anniversary(day, step, anchor):
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    k = elapsed // step * step
    while add_months(anchor, k) > day:
        k -= step
    return add_months(anchor, k)


def local_midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def invoice_period(subscription, start: datetime, last_instant: datetime, tz) -> Period:
    """The Period an invoice stored as (period_from, period_to), for a refresh."""
    end = last_instant + timedelta(microseconds=1)
    anchor = subscription.started_at.astimezone(tz).date()
    interval, billing_time = subscription.plan.interval, subscription.billing_time
    start_day, end_local = start.astimezone(tz).date(), end.astimezone(tz)
    days = (end_local.date() - start_day).days + (0 if end_local.timetz().replace(tzinfo=None) == time.min else 1)
    full_start = previous_boundary(start_day, interval, billing_time, anchor)
    full_days = (next_boundary(full_start, interval, billing_time, anchor) - full_start).days
    return Period(start, end, days, full_days)


def periods(subscription, *, until: datetime, after: datetime | None = None, tz=None) -> list[Period]:
    """Every period of `subscription` that has ended at `until`, oldest first.

    `after` (the end of the last period already billed) skips the periods before it, so an
    old subscription is not walked from its start every hour.
    """
    tz = tz or subscription.customer.tzinfo
    plan = subscription.plan
    anchor = subscription.started_at.astimezone(tz).date()
    terminated = subscription.terminated_at
    result = []
    start_day = anchor
    if after is not None and after > subscription.started_at:
        if terminated is not None and after >= terminated:
            return []  # the termination period is billed: nothing follows
        start_day = after.astimezone(tz).date()
    while True:
        end_day = next_boundary(start_day, plan.interval, subscription.billing_time, anchor)
        start, end = local_midnight(start_day, tz), local_midnight(end_day, tz)
        full_start = previous_boundary(start_day, plan.interval, subscription.billing_time, anchor)
        full_days = (next_boundary(full_start, plan.interval, subscription.billing_time, anchor) - full_start).days
        days = (end_day - start_day).days
        if terminated is not None and terminated < end:
            if terminated <= start:
                break
            days = min((terminated.astimezone(tz).date() - start_day).days + 1, days)
            end = terminated
        if end > until:
            break
        result.append(Period(start, end, days, full_days))
        if end != local_midnight(end_day, tz):
            break  # terminated
        start_day = end_day
    return result


def following_period(subscription, period: Period, tz=None) -> Period | None:
    """The period right after `period` (pay-in-advance fees), None once terminated."""
    tz = tz or subscription.customer.tzinfo
    if subscription.terminated_at is not None and subscription.terminated_at <= period.end:
        return None
    anchor = subscription.started_at.astimezone(tz).date()
    start_day = period.end.astimezone(tz).date()
    end_day = next_boundary(start_day, subscription.plan.interval, subscription.billing_time, anchor)
    days = (end_day - start_day).days
    return Period(local_midnight(start_day, tz), local_midnight(end_day, tz), days, days)
