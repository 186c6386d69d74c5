"""Coupons: applying them to customers, consuming them at finalization, giving them back on void.

Consumption (seed 002, reference §1 step 3) happens only inside the finalizing
transaction of a subscription invoice, through `invoices.totals.apply_coupons`:
the customer's active applied coupons are locked oldest first, each takes its
amount off the remaining pre-tax base, the amount is spread over the fees
(integer cents, largest remainder) and recorded as a Credit row.
"""
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from billing_console.money import format_amount, round_cents

from .errors import field_error
from .models import AppliedCoupon, Coupon, Credit, check_terms

HUNDRED = Decimal(100)


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


# --- at finalization ---------------------------------------------------------------------------


def customers_with_coupons(customer_ids) -> set:
    """Which of these customers have an active applied coupon (lets a batch skip the others)."""
    return set(AppliedCoupon.objects.filter(customer_id__in=customer_ids).active().values_list("customer_id", flat=True))


def consume_coupons(invoice, fees) -> int:
    """Apply the customer's active coupons to a finalizing subscription invoice; return the total taken off.

    Called by `invoices.totals.apply_coupons` inside the finalizing transaction. The
    applied-coupon rows are locked in consumption order, so of two drafts competing
    for one coupon the second waits and then sees what the first consumed.
    """
    applied_coupons = list(
        AppliedCoupon.objects.select_for_update(of=("self",)).select_related("coupon")
        .filter(customer_id=invoice.customer_id).active().in_consumption_order()
    )
    fees_amount = sum(fee.amount_cents for fee in fees)
    total = 0
    for applied in applied_coupons:
        base = fees_amount - invoice.progressive_billing_credit_amount_cents - total
        if base <= 0:
            break
        if applied.is_fixed and applied.amount_currency != invoice.currency:
            continue  # a fixed amount only applies to invoices in its currency
        amount = coupon_amount(applied, base)
        if amount <= 0:
            continue
        spread(amount, fees)
        Credit.objects.create(invoice=invoice, applied_coupon=applied, amount_cents=amount, amount_currency=invoice.currency, before_taxes=True)
        _advance(applied, amount)
        total += amount
    return total


def coupon_amount(applied: AppliedCoupon, base: int) -> int:
    """Fixed: min(amount left, base). Percentage: rate x base, rounded half away from zero, capped at base."""
    if applied.is_fixed:
        return min(applied.remaining_amount_cents(), base)
    return min(round_cents(Decimal(base) * applied.percentage_rate / HUNDRED), base)


def spread(amount: int, fees) -> None:
    """Add `amount` to the fees' coupon shares pro rata to what each has left, in whole cents.

    Largest remainder: every fee gets the floor of its exact share, and the cents
    left over go one each to the largest fractional parts, ties to the earlier fee.
    The shares always add up to `amount` exactly, so taxes are computed on it.
    """
    bases = [Decimal(fee.amount_cents) - fee.precise_coupons_amount_cents for fee in fees]
    total_base = sum(bases, Decimal(0))
    if total_base <= 0:
        return
    exact = [Decimal(amount) * base / total_base for base in bases]
    shares = [int(share) for share in exact]  # floor: shares are non-negative
    left = amount - sum(shares)
    by_remainder = sorted(range(len(fees)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    for fee, share in zip(fees, shares):
        fee.precise_coupons_amount_cents += Decimal(share)


def _advance(applied: AppliedCoupon, amount: int) -> None:
    """Count one use: `once` ends (fixed: when used up), `recurring` counts down, `forever` goes on."""
    if applied.frequency == Coupon.Frequency.RECURRING:
        applied.frequency_duration_remaining = max((applied.frequency_duration_remaining or 0) - 1, 0)
        if applied.frequency_duration_remaining == 0:
            applied.status = AppliedCoupon.Status.TERMINATED
    elif applied.frequency == Coupon.Frequency.ONCE:
        if not applied.is_fixed or applied.remaining_amount_cents() <= 0:
            applied.status = AppliedCoupon.Status.TERMINATED
    if applied.status == AppliedCoupon.Status.TERMINATED:
        applied.terminated_at = timezone.now()
    applied.save(update_fields=["status", "terminated_at", "frequency_duration_remaining", "updated_at"])


# --- on void -----------------------------------------------------------------------------------


def recredit_coupons(invoice) -> list[dict]:
    """Give back what a voided invoice consumed from coupons; return what was given back (for the audit).

    A fixed `once` coupon's remaining amount excludes credits of voided invoices, so
    re-activating it is enough; a recurring one gets its period back.
    """
    credits = list(Credit.objects.filter(invoice=invoice, applied_coupon__isnull=False).values_list("applied_coupon_id", "amount_cents"))
    if not credits:
        return []
    ids = sorted({applied_id for applied_id, _ in credits})
    locked = {a.pk: a for a in AppliedCoupon.objects.select_for_update(of=("self",)).select_related("coupon").filter(pk__in=ids).order_by("pk")}
    given_back = []
    for applied_id, amount in credits:
        applied = locked[applied_id]
        if applied.frequency == Coupon.Frequency.RECURRING:
            applied.frequency_duration_remaining = (applied.frequency_duration_remaining or 0) + 1
        applied.status = AppliedCoupon.Status.ACTIVE
        applied.terminated_at = None
        applied.save(update_fields=["status", "terminated_at", "frequency_duration_remaining", "updated_at"])
        given_back.append({"applied_coupon_id": str(applied.pk), "coupon_code": applied.coupon.code, "amount_cents": amount})
    return given_back


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
