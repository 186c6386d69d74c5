"""What a subscription invoice bills for its period: the subscription fee and one fee per charge (and filter).

Used by the billing run (a new invoice) and by a refresh (the same invoice, current events).
Units are aggregated in the database; a charge with 0 units and a plan amount of 0 produce no fee.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.money import round_cents
from plans.pricing import price
from usage.aggregation import aggregate_units_many

from .periods import following_period, invoice_period


@dataclass
class FeeSpec:
    key: tuple
    kind: str
    description: str
    units: Decimal
    amount_cents: int
    precise_amount_cents: Decimal
    from_datetime: datetime
    to_datetime: datetime
    charge: object = None
    charge_filter: object = None
    events_count: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def precise_unit_amount(self) -> Decimal:
        return self.precise_amount_cents / self.units if self.units else Decimal(0)


def fee_key(fee) -> tuple | None:
    """How a stored fee is matched to a freshly computed one; None for fees a refresh leaves alone."""
    if fee.kind == "subscription" and fee.subscription_id:
        return ("subscription",)
    if fee.kind == "charge" and fee.charge_id:
        return ("charge", fee.charge_id, fee.charge_filter_id)
    return None


def compute_fees(invoice, charges=None) -> list[FeeSpec]:
    """The fees of a subscription invoice for its stored period, from current events."""
    return compute_fees_many([invoice])[invoice.pk]


def compute_fees_many(invoices) -> dict:
    """compute_fees for a batch: invoice pk -> specs. Usage is aggregated with one GROUP BY query per
    charge (and filter) for all invoices of the same plan and period."""
    from plans.models import Charge

    plan_ids = {invoice.subscription.plan_id for invoice in invoices}
    charges_by_plan: dict = {}
    for charge in Charge.objects.filter(plan_id__in=plan_ids).select_related("billable_metric").prefetch_related("filters"):
        charges_by_plan.setdefault(charge.plan_id, []).append(charge)
    result, groups = {}, {}
    for invoice in invoices:
        subscription = invoice.subscription
        plan = subscription.plan
        tz = invoice.customer.tzinfo
        period = invoice_period(subscription, invoice.period_from, invoice.period_to, tz)
        specs = result[invoice.pk] = []
        fee_period = following_period(subscription, period, tz) if plan.pay_in_advance else period
        if fee_period is not None and plan.amount_cents:
            precise = Decimal(plan.amount_cents) * fee_period.ratio
            specs.append(FeeSpec(
                ("subscription",), "subscription", plan.display_name, Decimal(1), round_cents(precise), precise,
                fee_period.start, fee_period.last_instant,
            ))
        groups.setdefault((plan.pk, period.start, period.last_instant), []).append(invoice)
    for (plan_id, start, last_instant), members in groups.items():
        for charge in charges_by_plan.get(plan_id, []):
            for invoice, spec in _charge_fees(members, charge, start, last_instant):
                result[invoice.pk].append(spec)
    return result


def _charge_fees(invoices, charge, start, last_instant):
    """(invoice, spec) for each invoice of one plan and period with usage on `charge`."""
    metric = charge.billable_metric
    filters = list(charge.filters.all())
    buckets = [(f, f.values, [], f.properties, f.display_name) for f in filters]
    # With filters, the charge's own price applies to events that match none of them.
    buckets.append((None, None, [f.values for f in filters], charge.properties, charge.display_name))
    by_external_id = {invoice.subscription.external_id: invoice for invoice in invoices}
    for charge_filter, include, exclude, properties, name in buckets:
        usage = aggregate_units_many(metric, by_external_id, start, last_instant, include=include, exclude=exclude)
        for external_id, (units, events) in usage.items():
            if not units:
                continue
            invoice = by_external_id[external_id]
            result = price(charge.charge_model, properties, units, invoice.currency)
            yield invoice, FeeSpec(
                ("charge", charge.pk, charge_filter.pk if charge_filter else None), "charge", name, units,
                result.amount_cents, result.precise_amount_cents, start, last_instant,
                charge=charge, charge_filter=charge_filter, events_count=events,
            )
