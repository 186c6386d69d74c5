"""/customers/{external_customer_id}/invoices|credit_notes|subscriptions|applied_coupons, and
DELETE …/applied_coupons/{applied_coupon_id}.

The lists are the top-level lists' own handlers (same filters, order and pagination) scoped to the
customer, after Lago's 404 `customer_not_found`; the delete terminates through coupons.services.terminate.
"""
from django.core.exceptions import ValidationError

from coupons.models import AppliedCoupon
from coupons.serializers import serialize_applied_coupon
from coupons.services import terminate
from customers.models import Customer

from .. import errors
from ..http import endpoint, ok
from . import coupons, credit_notes, invoices, subscriptions


def _customer(external_customer_id) -> Customer:
    customer = Customer.objects.filter(external_id=external_customer_id, deleted_at__isnull=True).first()
    if customer is None:
        raise errors.not_found("customer")
    return customer


def _scoped(handler):
    def scoped(request, external_customer_id):
        customer = _customer(external_customer_id)
        request.GET = request.GET.copy()
        request.GET.setlist("external_customer_id", [customer.external_id])
        return handler(request)
    return scoped


def delete_applied_coupon(request, external_customer_id, applied_coupon_id):
    customer = _customer(external_customer_id)
    try:
        applied = AppliedCoupon.objects.filter(pk=applied_coupon_id, customer=customer).first()
    except ValidationError:  # not a uuid
        applied = None
    if applied is None:
        raise errors.not_found("applied_coupon")
    applied = terminate(applied.pk, request.actor)
    return ok({"applied_coupon": serialize_applied_coupon(
        AppliedCoupon.objects.select_related("coupon", "customer").get(pk=applied.pk))})


invoices_view = endpoint({"GET": _scoped(invoices.list_invoices)})
credit_notes_view = endpoint({"GET": _scoped(credit_notes.list_credit_notes)})
subscriptions_view = endpoint({"GET": _scoped(subscriptions.list_subscriptions)})
applied_coupons_view = endpoint({"GET": _scoped(coupons.list_applied)})
applied_coupon_member = endpoint({"DELETE": delete_applied_coupon})
