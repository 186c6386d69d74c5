"""A subscription's usage in its current billing period (Lago's GET /customers/{id}/current_usage).

Read only: the period comes from subscriptions.periods, the units from usage.aggregation and the
amounts from plans.pricing, through the very fee computation the billing run uses
(subscriptions.fees.compute_fees_many on an unsaved invoice), so the usage shown is what the
period's invoice would bill for its charges. Nothing is written.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from core.money import round_cents

HUNDRED = Decimal(100)


@dataclass
class FilterUsage:
    charge_filter: object
    units: Decimal
    events_count: int
    amount_cents: int


@dataclass
class ChargeUsage:
    charge: object
    units: Decimal = Decimal(0)
    events_count: int = 0
    amount_cents: int = 0
    filters: list = field(default_factory=list)


@dataclass
class CurrentUsage:
    subscription: object
    from_datetime: datetime
    to_datetime: datetime
    issuing_date: object
    currency: str
    charges: list
    amount_cents: int
    taxes_amount_cents: int

    @property
    def total_amount_cents(self) -> int:
        return self.amount_cents + self.taxes_amount_cents


def current_period(subscription, now=None, tz=None):
    """The period `now` falls in (the one being accumulated), or the first one if not started yet;
    for a terminated subscription, its last period."""
    from subscriptions.periods import periods

    now = now or timezone.now()
    tz = tz or subscription.customer.tzinfo
    # Periods are at most a year long: walking to a year after `now` always reaches the current one.
    horizon = max(now, subscription.started_at) + timedelta(days=370)
    found = periods(subscription, until=horizon, tz=tz)
    for period in found:
        if period.end > now:
            return period
    return found[-1] if found else None


def current_usage(subscription, *, now=None, apply_taxes=True) -> CurrentUsage | None:
    """None when the subscription has no period (terminated before it started)."""
    from invoices.models import Invoice
    from subscriptions.fees import compute_fees_many

    customer = subscription.customer
    period = current_period(subscription, now)
    if period is None:
        return None
    currency = subscription.plan.currency
    # Never saved: compute_fees_many reads the invoice's subscription, customer, currency and period only.
    probe = Invoice(customer=customer, billing_entity=customer.billing_entity, subscription=subscription, currency=currency,
                    invoice_type=Invoice.InvoiceType.SUBSCRIPTION, period_from=period.start, period_to=period.last_instant)
    specs = [spec for spec in compute_fees_many([probe])[probe.pk] if spec.kind == "charge"]
    by_charge = {charge.pk: ChargeUsage(charge) for charge in subscription.plan.charges.select_related("billable_metric")}
    for spec in specs:
        usage = by_charge.get(spec.charge.pk)
        if usage is None:
            continue
        usage.units += spec.units
        usage.events_count += spec.events_count
        usage.amount_cents += spec.amount_cents
        if spec.charge_filter is not None:
            usage.filters.append(FilterUsage(spec.charge_filter, spec.units, spec.events_count, spec.amount_cents))
    charges = list(by_charge.values())
    amount = sum(usage.amount_cents for usage in charges)
    taxes = Decimal(0)
    if apply_taxes:
        rates = sum((tax.rate for tax in customer.applicable_taxes()), Decimal(0))
        taxes = Decimal(amount) * rates / HUNDRED
    return CurrentUsage(
        subscription=subscription, from_datetime=period.start, to_datetime=period.last_instant,
        issuing_date=period.end.astimezone(customer.tzinfo).date(), currency=currency, charges=charges,
        amount_cents=amount, taxes_amount_cents=round_cents(taxes),
    )
