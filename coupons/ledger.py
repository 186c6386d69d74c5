"""The coupon ledger: what finalizing invoices may take from applied coupons, taking it, giving it back.

`invoices.totals.compute_totals` decides how much each coupon gives to which fee
(a `CouponUse`) from rows this module loaded under the finalization's locks;
`apply` records those uses (Credit rows, the coupon's count of uses); voiding calls
`give_back`. Nothing here imports `invoices`: the invoice is only passed in.
"""
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.money import round_cents

from .models import AppliedCoupon, Coupon, Credit

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CouponUse:
    """One applied coupon's part of a finalizing invoice: its amount and each fee's share (fee pk, minor units)."""

    applied_coupon: AppliedCoupon
    amount_cents: int
    fee_shares: tuple[tuple[object, int], ...]


def any_available(outer: str = "pk") -> Exists:
    """Whether the customer at OuterRef(outer) has a coupon `lock_available` would return (to annotate customers, or invoices: outer="customer_id")."""
    return Exists(AppliedCoupon.objects.filter(customer_id=OuterRef(outer)).active())


def lock_available(customer_ids) -> dict:
    """{customer_id: [AppliedCoupon]}: the active applied coupons of these customers, row-locked, oldest first.

    One query for the whole batch. Each row carries `used_cents`, what finalized (not voided)
    invoices already took from it, so `remaining_cents` needs no further query. The caller
    holds the customers' locks, so no other finalization changes these rows meanwhile.
    """
    used = (
        Credit.objects.filter(applied_coupon=OuterRef("pk")).exclude(invoice__status="voided")
        .values("applied_coupon").annotate(total=Sum("amount_cents")).values("total")
    )
    by_customer: dict = {}
    rows = (
        AppliedCoupon.objects.select_for_update(of=("self",)).select_related("coupon")
        .filter(customer_id__in=customer_ids).active().in_consumption_order()
        .annotate(used_cents=Coalesce(Subquery(used), Value(0)))
    )
    for applied in rows:
        by_customer.setdefault(applied.customer_id, []).append(applied)
    return by_customer


def is_available(applied: AppliedCoupon) -> bool:
    return applied.status == AppliedCoupon.Status.ACTIVE


def remaining_cents(applied: AppliedCoupon) -> int | None:
    """`AppliedCoupon.remaining_amount_cents` from the row as `lock_available` loaded it (no query)."""
    if not applied.is_fixed:
        return None
    if applied.frequency != Coupon.Frequency.ONCE:
        return applied.amount_cents
    return max(applied.amount_cents - applied.used_cents, 0)


def coupon_amount(applied: AppliedCoupon, base: int) -> int:
    """Fixed: min(amount left, base). Percentage: rate x base, rounded half away from zero, capped at base."""
    if applied.is_fixed:
        return min(remaining_cents(applied), base)
    return min(round_cents(Decimal(base) * applied.percentage_rate / HUNDRED), base)


def apply(uses, invoice) -> None:
    """Record what a finalizing invoice takes from its coupons: a Credit row each, and one use counted.

    The rows in `uses` are those `lock_available` loaded; they are updated in place, so a later
    invoice of the same batch sees what this one consumed.
    """
    for use in uses:
        Credit.objects.create(
            invoice=invoice, applied_coupon=use.applied_coupon, amount_cents=use.amount_cents,
            amount_currency=invoice.currency, before_taxes=True,
        )
        use.applied_coupon.used_cents += use.amount_cents
        _advance(use.applied_coupon)


def _advance(applied: AppliedCoupon) -> None:
    """Count one use: `once` ends (fixed: when used up), `recurring` counts down, `forever` goes on."""
    if applied.frequency == Coupon.Frequency.RECURRING:
        applied.frequency_duration_remaining = max((applied.frequency_duration_remaining or 0) - 1, 0)
        if applied.frequency_duration_remaining == 0:
            applied.status = AppliedCoupon.Status.TERMINATED
    elif applied.frequency == Coupon.Frequency.ONCE:
        if not applied.is_fixed or remaining_cents(applied) <= 0:
            applied.status = AppliedCoupon.Status.TERMINATED
    if applied.status == AppliedCoupon.Status.TERMINATED:
        applied.terminated_at = timezone.now()
    applied.save(update_fields=["status", "terminated_at", "frequency_duration_remaining", "updated_at"])


def give_back(invoice) -> list[dict]:
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
