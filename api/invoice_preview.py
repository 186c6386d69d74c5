"""The invoice a subscription would be billed (Lago's POST /invoices/preview), kept nowhere.

As `invoices.transitions.one_off.preview_one_off_invoice` does for one-off invoices, the real thing runs inside a
transaction that is then rolled back: the customer (an inline one is created), the subscription
(a new one through `api.catalog.create_subscription`, or the existing one, terminated at
`terminated_at` through `billing_run.termination`), coupons (created and applied through the
coupons services), then the billing run's invoice of the period — fees by `subscriptions.fees`,
totals, coupons, credit notes, wallets and the number by `invoices.transitions.finalization` — is rendered
by the caller and everything is thrown away: no invoice, fee, audit row, webhook event or counter
remains, and after-commit work (PDFs, deliveries, the final-invoice task) never runs.

Which period: for a new subscription its first; for an existing one the period running now (or
ending at its termination). Lago bills a new pay-in-advance plan at its start; here, as the billing
run, a period's invoice is issued at its end (with the next period's fee for pay-in-advance plans).
"""
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.actors import Actor


@dataclass
class PreviewRequest:
    customer: object = None  # an existing Customer, or None with `customer_values` for an inline one
    customer_values: dict = field(default_factory=dict)
    billing_entity: object = None  # for an inline customer
    plan: object = None  # a new subscription to this plan
    subscription_at: datetime | None = None
    billing_time: str = "calendar"
    subscription: object = None  # or an existing subscription of the customer
    terminated_at: datetime | None = None
    coupons: list = field(default_factory=list)  # [{code, name?, coupon_type?, amount_cents?, …}]


class _RollBack(Exception):
    def __init__(self, result):
        self.result = result


def preview_invoice(request: PreviewRequest, actor: Actor, render, *, now=None):
    """`render(invoice, draft_number)` is called on the computed invoice (fees, taxes and customer
    loaded) before the rollback; its result is returned. Refusals (ValidationError, ApiError) are
    raised as the services raise them, and write nothing either."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            customer = request.customer or _inline_customer(request)
            subscription = _subscription(request, customer, actor, now)
            for spec in request.coupons:
                _apply_coupon(customer, spec, actor, now)
            invoice = _bill(subscription, actor, now)
            raise _RollBack(render(invoice))
    except _RollBack as rolled_back:
        return rolled_back.result


def _inline_customer(request: PreviewRequest):
    from customers.models import Customer

    values = {k: v for k, v in request.customer_values.items() if v is not None}
    values["external_id"] = values.get("external_id") or f"preview-{uuid.uuid4()}"
    customer = Customer(billing_entity=request.billing_entity, **values)
    customer.full_clean(exclude=["sequential_id"])
    customer.save()
    return customer


def _subscription(request: PreviewRequest, customer, actor, now):
    from api.catalog import create_subscription

    from billing_run.termination import terminate_subscription

    if request.plan is not None:
        return create_subscription(customer, request.plan, {
            "external_id": f"preview-{uuid.uuid4()}", "started_at": request.subscription_at or now,
            "billing_time": request.billing_time or "calendar", "name": "",
        }, actor)
    subscription = request.subscription
    if request.terminated_at is not None:
        subscription = terminate_subscription(subscription, actor, at=request.terminated_at)
    return subscription


def _apply_coupon(customer, spec: dict, actor, now):
    from coupons.catalog import create_coupon
    from coupons.models import Coupon
    from coupons.services import apply_coupon

    coupon = Coupon.objects.filter(code=spec["code"], terminated_at__isnull=True).first()
    if coupon is None:
        fixed = spec.get("coupon_type", "fixed_amount") == "fixed_amount"
        coupon = create_coupon({
            "code": spec["code"], "name": spec.get("name") or spec["code"], "coupon_type": "fixed_amount" if fixed else "percentage",
            "amount_cents": spec.get("amount_cents") if fixed else None,
            "amount_currency": (spec.get("amount_currency") or customer.currency or "").upper() if fixed else "",
            "percentage_rate": None if fixed else spec.get("percentage_rate"),
            "frequency": "recurring" if spec.get("frequency_duration") else "once",
            "frequency_duration": spec.get("frequency_duration"),
        }, actor)
    apply_coupon(customer, coupon, actor, now=now)


def _bill(subscription, actor, now):
    from invoices.transitions.finalization import finalize_invoices
    from invoices.models import Invoice
    from invoices.transitions.refresh import create_fees
    from billing_run.current_usage import current_period

    from subscriptions.fees import compute_fees
    from subscriptions.models import Subscription

    subscription = Subscription.objects.select_related("plan", "customer__billing_entity").get(pk=subscription.pk)
    customer = subscription.customer
    period = current_period(subscription, now)
    if period is None or Invoice.objects.filter(subscription=subscription, period_from=period.start).exists():
        from django.core.exceptions import ValidationError

        raise ValidationError({"subscriptions": ValidationError("Nothing is left to bill on this subscription.", code="value_is_invalid")})
    invoice = Invoice.objects.create(
        customer=customer, billing_entity=customer.billing_entity, invoice_type=Invoice.InvoiceType.SUBSCRIPTION,
        currency=subscription.plan.currency, subscription=subscription, period_from=period.start, period_to=period.last_instant,
    )
    create_fees(invoice, compute_fees(invoice))
    draft_number = invoice.number
    # Issued when the period ends (the billing run's time), finalized at once: what the customer would get.
    outcome = finalize_invoices([invoice.pk], actor, now=max(period.end, now))[0]
    invoice = outcome.invoice
    invoice.preview_draft_number = draft_number
    return invoice
