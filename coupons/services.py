"""Coupons: applying them to customers, terminating them, what a draft will get.

Consumption (seed 002, reference §1 step 3) happens only inside the finalizing
transaction of a subscription invoice: `invoices.totals.compute_totals` plans it
(each active applied coupon, oldest first, takes its amount off the remaining
pre-tax base, spread over the fees) and `coupons.ledger` records it as Credit
rows; voiding gives it back through the same ledger.
"""
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from core.money import format_amount

from core.errors import field_error
from .models import AppliedCoupon, Coupon, check_terms


def apply_coupon(customer, coupon: Coupon, actor: Actor, *, amount_cents=None, amount_currency=None, percentage_rate=None,
                 frequency=None, frequency_duration=None, now=None) -> AppliedCoupon:
    """Give `coupon` to `customer` (overrides optional). Refuses expired and, unless reusable, repeated coupons.

    Nothing is consumed here: the next finalized subscription invoice does that.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if coupon.terminated_at is not None:
            raise field_error("coupon", f"Coupon {coupon.code} was terminated.", "coupon_is_terminated")
        if coupon.is_expired(now):
            raise field_error("coupon", f"Coupon {coupon.code} expired on {coupon.expiration_at:%Y-%m-%d}.", "coupon_is_expired")
        if not coupon.reusable and AppliedCoupon.objects.filter(customer=customer, coupon=coupon).exists():
            raise field_error("coupon", f"Coupon {coupon.code} is not reusable and was already applied to this customer.", "coupon_is_not_reusable")
        fixed = coupon.coupon_type == Coupon.CouponType.FIXED_AMOUNT
        frequency = frequency or coupon.frequency
        duration = frequency_duration if frequency_duration is not None else coupon.frequency_duration
        applied = AppliedCoupon(
            customer=customer, coupon=coupon, frequency=frequency,
            amount_cents=(amount_cents if amount_cents is not None else coupon.amount_cents) if fixed else None,
            amount_currency=((amount_currency or coupon.amount_currency or customer.currency) if fixed else ""),
            percentage_rate=None if fixed else (Decimal(str(percentage_rate)) if percentage_rate is not None else coupon.percentage_rate),
            frequency_duration=duration if frequency == Coupon.Frequency.RECURRING else None,
            frequency_duration_remaining=duration if frequency == Coupon.Frequency.RECURRING else None,
        )
        check_terms(coupon.coupon_type, applied.amount_cents, applied.amount_currency, applied.percentage_rate, applied.frequency, applied.frequency_duration)
        applied.save()
        audit_log.record("applied_coupon.created", actor, obj=applied, before=None, after=snapshot(applied))
        return applied


def terminate(applied_coupon_id, actor: Actor, *, now=None) -> AppliedCoupon:
    """Stop an applied coupon (operator's choice); what finalized invoices already consumed stays."""
    with transaction.atomic():
        applied = AppliedCoupon.objects.select_for_update().select_related("coupon").get(pk=applied_coupon_id)
        if applied.status == AppliedCoupon.Status.TERMINATED:
            return applied
        before = snapshot(applied)
        applied.status = AppliedCoupon.Status.TERMINATED
        applied.terminated_at = now or timezone.now()
        applied.save(update_fields=["status", "terminated_at", "updated_at"])
        audit_log.record("applied_coupon.terminated", actor, obj=applied, before=before, after=snapshot(applied))
        return applied


# --- what a draft will get -----------------------------------------------------------------------


@dataclass
class PendingCredit:
    kind: str  # coupon | credit_note | wallet
    label: str
    detail: str


def pending_for(invoice) -> list[PendingCredit]:
    """What finalization would apply to this draft, as the invoice page shows it ("applied at finalization").

    Drafts carry no coupons or credits (seed 002); this only lists the customer's
    active coupons, credit-note balances and wallets in the invoice's currency.
    Empty for anything but a subscription draft.
    """
    from credit_notes.models import CreditNote
    from wallets.models import Wallet

    if invoice.status != "draft" or invoice.invoice_type != "subscription":
        return []
    lines = []
    for applied in AppliedCoupon.objects.active().filter(customer_id=invoice.customer_id).select_related("coupon").in_consumption_order():
        if applied.is_fixed and applied.amount_currency != invoice.currency:
            continue
        lines.append(PendingCredit("coupon", applied.coupon.name, describe(applied)))
    for note in CreditNote.objects.filter(
        customer_id=invoice.customer_id, currency=invoice.currency, credit_status=CreditNote.CreditStatus.AVAILABLE, balance_amount_cents__gt=0
    ).order_by("created_at", "pk"):
        lines.append(PendingCredit("credit_note", f"Credit note {note.number}", f"balance {note.display('balance_amount_cents')}"))
    for wallet in Wallet.objects.filter(customer_id=invoice.customer_id, currency=invoice.currency, status=Wallet.Status.ACTIVE, balance_cents__gt=0):
        lines.append(PendingCredit("wallet", wallet.name or "Wallet", f"balance {format_amount(wallet.balance_cents, wallet.currency)}"))
    return lines


def describe(applied: AppliedCoupon) -> str:
    if applied.is_fixed:
        remaining = applied.remaining_amount_cents()
        value = format_amount(remaining, applied.amount_currency)
        value = f"{value} left" if applied.frequency == Coupon.Frequency.ONCE else f"{value} per invoice"
    else:
        value = f"{applied.percentage_rate.normalize()} %"
    if applied.frequency == Coupon.Frequency.RECURRING:
        return f"{value}, {applied.frequency_duration_remaining} of {applied.frequency_duration} invoices left"
    return f"{value}, {applied.get_frequency_display().lower()}"


def snapshot(applied: AppliedCoupon) -> dict:
    return {
        "customer": applied.customer.external_id,
        "coupon_code": applied.coupon.code,
        "amount_cents": applied.amount_cents,
        "amount_currency": applied.amount_currency,
        "percentage_rate": str(applied.percentage_rate) if applied.percentage_rate is not None else None,
        "frequency": applied.frequency,
        "frequency_duration_remaining": applied.frequency_duration_remaining,
        "status": applied.status,
    }
