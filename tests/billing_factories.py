"""Factories for plans, metrics, charges, subscriptions and events (plain functions)."""
import itertools
from datetime import datetime, timezone as dt_timezone

from plans.models import BillableMetric, Charge, ChargeFilter, Plan
from subscriptions.models import Subscription
from usage.services import record_event

from . import factories as f

_counter = itertools.count(1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


def metric(aggregation="count", field_name="", **kwargs) -> BillableMetric:
    n = next(_counter)
    kwargs.setdefault("code", f"metric-{n}")
    kwargs.setdefault("name", f"Metric {n}")
    return BillableMetric.objects.create(aggregation=aggregation, field_name=field_name, **kwargs)


def plan(amount_cents=0, interval="monthly", currency="USD", **kwargs) -> Plan:
    n = next(_counter)
    kwargs.setdefault("code", f"plan-{n}")
    kwargs.setdefault("name", f"Plan {n}")
    return Plan.objects.create(amount_cents=amount_cents, interval=interval, currency=currency, **kwargs)


def charge(pl, bm=None, charge_model="standard", properties=None, **kwargs) -> Charge:
    return Charge.objects.create(
        plan=pl, billable_metric=bm or metric(), charge_model=charge_model, properties=properties or {"amount": "1"}, **kwargs
    )


def charge_filter(ch, values, properties, **kwargs) -> ChargeFilter:
    return ChargeFilter.objects.create(charge=ch, values=values, properties=properties, **kwargs)


def subscription(cust=None, pl=None, started_at=None, billing_time="calendar", **kwargs) -> Subscription:
    n = next(_counter)
    kwargs.setdefault("external_id", f"sub-{n}")
    return Subscription.objects.create(
        customer=cust or f.customer(), plan=pl or plan(), started_at=started_at or utc(2026, 1, 1),
        billing_time=billing_time, **kwargs,
    )


def event(sub, code, timestamp, properties=None, transaction_id=None):
    return record_event(
        transaction_id=transaction_id or f"tx-{next(_counter)}", external_subscription_id=sub.external_id,
        code=code, timestamp=timestamp, properties=properties or {},
    )
