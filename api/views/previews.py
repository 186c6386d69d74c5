"""What would be billed, written nowhere: POST /invoices/preview, POST /credit_notes/estimate and
GET /customers/{external_customer_id}/current_usage (issue 10).

The preview runs the billing of the period and rolls it back (api/invoice_preview.py); the estimate
and the usage are computed by the services' own rules without writing (credit_notes/estimate.py,
billing_run/current_usage.py).
"""
from django.core.exceptions import ValidationError
from django.db.models import Prefetch

from core.money import round_cents
from core.serialization import decimal_str, iso_date, iso_datetime
from credit_notes.estimate import estimate_credit_note
from customers.models import BillingEntity, Customer
from invoices.models import Fee, Invoice
from invoices.serializers import serialize_invoice
from plans.models import Plan
from subscriptions.models import Subscription
from api.invoice_preview import PreviewRequest, preview_invoice
from billing_run.current_usage import current_usage

from .. import errors
from ..http import endpoint, json_body, ok, query_bool, root
from ..parsing import parse
from ..requests_issue10 import CreditNoteEstimateFields, InvoicePreviewInput
from ..serializers import AGGREGATION_TYPES

# --- POST /invoices/preview ------------------------------------------------------------------

UPPER = {"currency", "country"}


def invoice_preview(request):
    values = parse(InvoicePreviewInput, json_body(request)).given()  # no root key; nulls mean "not given"
    given = {k: v for k, v in (values.get("customer") or {}).items() if v is not None}
    for name in UPPER & set(given):
        given[name] = given[name].upper()
    entity = _billing_entity(values.get("billing_entity_code"))
    external_id = (given.get("external_id") or "").strip()
    customer = None
    if external_id:
        customer = Customer.objects.select_related("billing_entity").filter(external_id=external_id, deleted_at__isnull=True).first()
        if customer is None:
            raise errors.not_found("customer")
    elif values.get("customer") is None:
        raise errors.bad_request("param is missing or the value is empty: customer")
    billing_time = values.get("billing_time") or Subscription.BillingTime.CALENDAR
    if billing_time not in Subscription.BillingTime.values:
        raise errors.validation_error({"billing_time": "value_is_invalid"})
    preview = PreviewRequest(customer=customer, customer_values=given, billing_entity=entity, billing_time=billing_time,
                             subscription_at=values.get("subscription_at"), coupons=_coupons(values.get("coupons") or []))
    subscriptions = values.get("subscriptions")
    if subscriptions:
        if subscriptions.get("plan_code"):
            raise errors.validation_error({"subscriptions.plan_code": "value_is_invalid"})  # plan changes: not previewed
        external_ids = subscriptions.get("external_ids") or []
        if len(external_ids) != 1:
            raise errors.validation_error({"subscriptions.external_ids": "value_is_invalid"})  # one subscription per invoice here
        preview.subscription = customer and Subscription.objects.filter(
            customer=customer, external_id=external_ids[0], status=Subscription.Status.ACTIVE).first()
        if preview.subscription is None:
            raise errors.not_found("subscription")
        preview.terminated_at = subscriptions.get("terminated_at")
    elif values.get("plan_code"):
        preview.plan = Plan.objects.filter(code=values["plan_code"]).first()
        if preview.plan is None:
            raise errors.not_found("plan")
    else:
        raise errors.not_found("subscription")  # as Lago: nothing to bill
    return ok({"invoice": preview_invoice(preview, request.actor, _render)})


def _billing_entity(code):
    entity = (BillingEntity.objects.filter(code=code) if code else BillingEntity.objects.filter(is_default=True)).first()
    if entity is None:
        raise errors.not_found("billing_entity")
    return entity


def _coupons(items):
    for n, item in enumerate(items):
        if not (item.get("code") or "").strip():
            raise errors.validation_error({f"coupons.{n}.code": "value_is_mandatory"})
    return [{k: v for k, v in item.items() if v is not None} for item in items]


def _render(invoice) -> dict:
    """The invoice as GET /invoices/{id} answers it, shown as what it is: not issued (a draft, no number yet)."""
    fees = Prefetch("fees", queryset=Fee.objects.select_related("add_on", "charge__billable_metric", "subscription__plan")
                    .prefetch_related("applied_taxes"))
    loaded = (Invoice.objects.select_related("customer__billing_entity", "billing_entity")
              .prefetch_related("applied_taxes", "customer__taxes", fees).get(pk=invoice.pk))
    data = serialize_invoice(loaded, detailed=True)
    # The answer's JSON, not the (rolled back) row: shown as not issued.
    data["status"], data["number"], data["finalized_at"] = "draft", invoice.preview_draft_number, None
    data.pop("sequential_id", None)  # none is taken (Lago's preview invoice is never saved)
    return data


# --- POST /credit_notes/estimate -------------------------------------------------------------

def credit_note_estimate(request):
    _, data = root(request, "credit_note")
    values = parse(CreditNoteEstimateFields, data).given()
    invoice = None
    if values.get("invoice_id"):
        try:
            invoice = Invoice.objects.visible().select_related("customer__billing_entity").filter(pk=values["invoice_id"]).first()
        except ValidationError:  # not a uuid
            invoice = None
    if invoice is None:
        raise errors.not_found("invoice")
    items = []
    for n, item in enumerate(values.get("items") or []):
        for name in ("fee_id", "amount_cents"):
            if item.get(name) is None:
                raise errors.validation_error({f"items.{n}.{name}": "value_is_mandatory"})
        items.append(item)
    estimate = estimate_credit_note(invoice, items)  # refusals: 422 with the service's codes, as POST /credit_notes
    return ok({"estimated_credit_note": serialize_estimate(estimate)})


def serialize_estimate(estimate) -> dict:
    invoice, computed = estimate.invoice, estimate.computed
    return {
        "lago_invoice_id": str(invoice.pk),
        "invoice_number": invoice.number,
        "currency": invoice.currency,
        "taxes_amount_cents": computed.taxes_amount_cents,
        "precise_taxes_amount_cents": float(estimate.precise_taxes),
        "taxes_rate": float(estimate.taxes_rate),
        "sub_total_excluding_taxes_amount_cents": computed.sub_total_excluding_taxes_amount_cents,
        "max_creditable_amount_cents": estimate.max_creditable_amount_cents,
        "max_refundable_amount_cents": estimate.max_refundable_amount_cents,
        "max_offsettable_amount_cents": estimate.max_offsettable_amount_cents,
        "coupons_adjustment_amount_cents": computed.coupons_adjustment_amount_cents,
        "precise_coupons_adjustment_amount_cents": float(estimate.precise_coupons_adjustment),
        "items": [{"lago_fee_id": str(fee.pk), "amount_cents": amount} for fee, amount in computed.items],
        "applied_taxes": [
            {"lago_tax_id": str(tax.tax_id) if tax.tax_id else None, "tax_name": tax.tax_name, "tax_code": tax.tax_code,
             "tax_rate": float(tax.tax_rate), "tax_description": (tax.tax.description if tax.tax_id else "") or "",
             "base_amount_cents": round_cents(base), "amount_cents": round_cents(amount), "amount_currency": invoice.currency}
            for tax, base, amount in estimate.taxes
        ],
    }


# --- GET /customers/{external_customer_id}/current_usage ---------------------------------------

def customer_current_usage(request, external_id):
    customer = Customer.objects.select_related("billing_entity").filter(external_id=external_id, deleted_at__isnull=True).first()
    if customer is None:
        raise errors.not_found("customer")
    subscription = Subscription.objects.select_related("plan").filter(
        customer=customer, external_id=request.GET.get("external_subscription_id") or "", status=Subscription.Status.ACTIVE).first()
    if subscription is None:
        raise errors.not_found("subscription")
    subscription.customer = customer
    apply_taxes = query_bool(request, "apply_taxes")
    usage = current_usage(subscription, apply_taxes=apply_taxes is not False)
    if usage is None:
        raise errors.not_found("subscription")
    return ok({"customer_usage": serialize_usage(usage)})


def serialize_usage(usage) -> dict:
    return {
        "from_datetime": iso_datetime(usage.from_datetime),
        "to_datetime": iso_datetime(usage.to_datetime),
        "issuing_date": iso_date(usage.issuing_date),
        "lago_invoice_id": None,
        "currency": usage.currency,
        "amount_cents": usage.amount_cents,
        "taxes_amount_cents": usage.taxes_amount_cents,
        "total_amount_cents": usage.total_amount_cents,
        "charges_usage": [_charge_usage(item, usage.currency) for item in usage.charges],
    }


def _charge_usage(item, currency) -> dict:
    charge, metric = item.charge, item.charge.billable_metric
    return {
        "units": decimal_str(item.units),
        "total_aggregated_units": decimal_str(item.units),
        "events_count": item.events_count,
        "amount_cents": item.amount_cents,
        "amount_currency": currency,
        "charge": {"lago_id": str(charge.pk), "charge_model": charge.charge_model, "invoice_display_name": charge.invoice_display_name or None},
        "billable_metric": {"lago_id": str(metric.pk), "name": metric.name, "code": metric.code,
                            "aggregation_type": AGGREGATION_TYPES[metric.aggregation]},
        "filters": [{"invoice_display_name": f.charge_filter.display_name, "values": f.charge_filter.values,
                     "units": decimal_str(f.units), "total_aggregated_units": decimal_str(f.units),
                     "events_count": f.events_count, "amount_cents": f.amount_cents} for f in item.filters],
        "grouped_usage": [],
    }


invoice_preview_view = endpoint({"POST": invoice_preview})
credit_note_estimate_view = endpoint({"POST": credit_note_estimate})
current_usage_view = endpoint({"GET": customer_current_usage})
