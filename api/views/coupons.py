"""/coupons (CRUD by code; DELETE terminates, as Lago) and /applied_coupons (apply to a customer, list).

Writes go through coupons.catalog and coupons.services.apply_coupon (audited with the
API key); their ValidationError codes become Lago's 422 error_details.
"""
from decimal import Decimal

from django.core.exceptions import ValidationError

from core.money import validate_currency

from coupons.catalog import create_coupon, terminate_coupon, update_coupon
from coupons.models import AppliedCoupon, Coupon
from coupons.serializers import serialize_applied_coupon, serialize_coupon
from coupons.services import apply_coupon
from customers.models import Customer

from .. import errors
from ..http import endpoint, ok, paginate, root
from ..parsing import parse
from ..requests import AppliedCouponFields, CouponFields

def _coupon_values(request) -> dict:
    _, data = root(request, "coupon")
    values = parse(CouponFields, data).given()
    values.pop("applies_to", None)  # accepted, not implemented
    for field in ("description", "amount_currency"):
        if field in values and values[field] is None:
            values[field] = ""
    if values.get("amount_currency"):
        values["amount_currency"] = values["amount_currency"].upper()
    return values


def _find(code) -> Coupon:
    coupon = Coupon.objects.filter(code=code, terminated_at__isnull=True).first()
    if coupon is None:
        raise errors.not_found("coupon")
    return coupon


def create(request):
    return ok({"coupon": serialize_coupon(create_coupon(_coupon_values(request), request.actor))})


def list_coupons(request):
    rows, meta = paginate(request, Coupon.objects.filter(terminated_at__isnull=True).order_by("-created_at", "pk"))
    return ok({"coupons": [serialize_coupon(c) for c in rows], "meta": meta})


def show(request, code):
    return ok({"coupon": serialize_coupon(_find(code))})


def update(request, code):
    coupon = _find(code)
    return ok({"coupon": serialize_coupon(update_coupon(coupon, _coupon_values(request), request.actor))})


def destroy(request, code):
    return ok({"coupon": serialize_coupon(terminate_coupon(_find(code), request.actor))})


# --- applied coupons ---------------------------------------------------------------------------

def apply(request):
    _, data = root(request, "applied_coupon")
    values = parse(AppliedCouponFields, data).given()
    rate = values.get("percentage_rate")
    for field in ("external_customer_id", "coupon_code"):
        if not values.get(field):
            raise errors.validation_error({field: "value_is_mandatory"})
    customer = Customer.objects.filter(external_id=values["external_customer_id"], deleted_at__isnull=True).first()
    if customer is None:
        raise errors.not_found("customer")
    coupon = _find(values["coupon_code"])
    if values.get("frequency") is not None and values["frequency"] not in Coupon.Frequency.values:
        raise errors.validation_error({"frequency": "value_is_invalid"})
    for field, limit in (("amount_cents", 2**63), ("frequency_duration", 2**31)):  # the columns' ranges
        if values.get(field) is not None and not 0 < values[field] < limit:
            raise errors.validation_error({field: "value_is_invalid"})
    if values.get("amount_currency"):
        try:
            validate_currency(values["amount_currency"])
        except ValidationError:
            raise errors.validation_error({"amount_currency": "value_is_invalid"})
    if rate is not None and (not 0 < rate <= 100 or rate != rate.quantize(Decimal("0.0001"))):  # the column keeps 4 decimals
        raise errors.validation_error({"percentage_rate": "value_is_invalid"})
    applied = apply_coupon(
        customer, coupon, request.actor, amount_cents=values.get("amount_cents"),
        amount_currency=(values.get("amount_currency") or "").upper() or None, percentage_rate=rate,
        frequency=values.get("frequency"), frequency_duration=values.get("frequency_duration"),
    )
    return ok({"applied_coupon": serialize_applied_coupon(_applied_queryset().get(pk=applied.pk))})


def _applied_queryset():
    return AppliedCoupon.objects.select_related("coupon", "customer")


def list_applied(request):
    rows = _applied_queryset().order_by("-created_at", "pk")
    if request.GET.get("external_customer_id"):
        rows = rows.filter(customer__external_id=request.GET["external_customer_id"])
    status = request.GET.get("status")
    if status:
        if status not in AppliedCoupon.Status.values:
            raise errors.validation_error({"status": "value_is_invalid"})
        rows = rows.filter(status=status)
    codes = request.GET.getlist("coupon_code[]") + request.GET.getlist("coupon_code")
    if codes:
        rows = rows.filter(coupon__code__in=codes)
    page, meta = paginate(request, rows)
    return ok({"applied_coupons": [serialize_applied_coupon(a) for a in page], "meta": meta})


collection = endpoint({"GET": list_coupons, "POST": create})
member = endpoint({"GET": show, "PUT": update, "DELETE": destroy})
applied_collection = endpoint({"GET": list_applied, "POST": apply})
