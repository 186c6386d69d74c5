"""The coupon catalogue's writes from the API: create, update, terminate (Lago's DELETE).

Each is one transaction with its audit entry; the model's `full_clean` (and its
`check_terms`) is the one rule for a coupon's figures, so a refused coupon writes
nothing. Applied coupons keep their own copy of the terms: editing a coupon never
changes what customers were given.
"""
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor

from core.errors import field_error
from .models import AppliedCoupon, Coupon
from .services import terminate


def create_coupon(values: dict, actor: Actor) -> Coupon:
    try:
        with transaction.atomic():
            coupon = Coupon(**values)
            coupon.full_clean()
            coupon.save()
            audit_log.record("coupon.created", actor, obj=coupon, before=None, after=snapshot(coupon))
    except IntegrityError:  # lost the race for the code to a concurrent create
        raise field_error("code", "A coupon with this code exists.", "value_already_exist")
    return coupon


def update_coupon(coupon: Coupon, values: dict, actor: Actor) -> Coupon:
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        before = snapshot(coupon)
        for field, value in values.items():
            setattr(coupon, field, value)
        after = snapshot(coupon)
        if after != before:
            coupon.full_clean()
            coupon.save()
            changed = [k for k in after if after[k] != before[k]]
            audit_log.record("coupon.updated", actor, obj=coupon, before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return coupon


def terminate_coupon(coupon: Coupon, actor: Actor, *, now=None) -> Coupon:
    """Lago's coupon DELETE: the coupon can no longer be applied and its active applications end.

    What finalized invoices already consumed stays; the row is kept (credits point at it).
    """
    now = now or timezone.now()
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        if coupon.terminated_at is not None:
            return coupon
        coupon.terminated_at = now
        coupon.save(update_fields=["terminated_at", "updated_at"])
        audit_log.record("coupon.terminated", actor, obj=coupon, before={"terminated_at": None}, after={"terminated_at": now.isoformat()})
        for applied_id in AppliedCoupon.objects.filter(coupon=coupon).active().order_by("pk").values_list("pk", flat=True):
            terminate(applied_id, actor, now=now)
    return coupon


def snapshot(coupon: Coupon) -> dict:
    return {
        "code": coupon.code, "name": coupon.name, "description": coupon.description, "coupon_type": coupon.coupon_type,
        "amount_cents": coupon.amount_cents, "amount_currency": coupon.amount_currency,
        "percentage_rate": str(coupon.percentage_rate) if coupon.percentage_rate is not None else None,
        "frequency": coupon.frequency, "frequency_duration": coupon.frequency_duration, "expiration": coupon.expiration,
        "expiration_at": coupon.expiration_at.isoformat() if coupon.expiration_at else None, "reusable": coupon.reusable,
    }
