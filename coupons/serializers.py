"""Lago's JSON shape of an applied coupon (AppliedCouponResponse of the API contract)."""
from core.serialization import iso_datetime

from .models import AppliedCoupon, Coupon


def serialize_applied_coupon(applied: AppliedCoupon) -> dict:
    coupon = applied.coupon
    return {
        "lago_id": str(applied.pk),
        "lago_coupon_id": str(coupon.pk),
        "coupon_code": coupon.code,
        "coupon_name": coupon.name,
        "lago_customer_id": str(applied.customer_id),
        "external_customer_id": applied.customer.external_id,
        "status": applied.status,
        "amount_cents": applied.amount_cents,
        "amount_cents_remaining": applied.remaining_amount_cents() if applied.frequency == "once" else None,
        "amount_currency": applied.amount_currency or None,
        "percentage_rate": float(applied.percentage_rate) if applied.percentage_rate is not None else None,
        "frequency": applied.frequency,
        "frequency_duration": applied.frequency_duration,
        "frequency_duration_remaining": applied.frequency_duration_remaining,
        "expiration_at": iso_datetime(coupon.expiration_at),
        "created_at": iso_datetime(applied.created_at),
        "terminated_at": iso_datetime(applied.terminated_at),
        "credits": [
            {"lago_id": str(credit.pk), "amount_cents": credit.amount_cents, "amount_currency": credit.amount_currency,
             "before_taxes": credit.before_taxes, "invoice": {"lago_id": str(credit.invoice_id), "payment_status": credit.invoice.payment_status}}
            for credit in applied.credits.select_related("invoice").order_by("created_at")
        ],
    }


def serialize_coupon(coupon: Coupon) -> dict:
    """Lago's CouponResponse; plan and metric limitations are not implemented (always unlimited)."""
    return {
        "lago_id": str(coupon.pk),
        "name": coupon.name,
        "code": coupon.code,
        "description": coupon.description or None,
        "coupon_type": coupon.coupon_type,
        "amount_cents": coupon.amount_cents,
        "amount_currency": coupon.amount_currency or None,
        "percentage_rate": float(coupon.percentage_rate) if coupon.percentage_rate is not None else None,
        "frequency": coupon.frequency,
        "frequency_duration": coupon.frequency_duration,
        "reusable": coupon.reusable,
        "limited_plans": False,
        "plan_codes": [],
        "limited_billable_metrics": False,
        "billable_metric_codes": [],
        "created_at": iso_datetime(coupon.created_at),
        "expiration": coupon.expiration,
        "expiration_at": iso_datetime(coupon.expiration_at),
        "terminated_at": iso_datetime(coupon.terminated_at),
    }
