"""/customers: upsert by external_id (POST), find, list with filters, soft delete."""
from django.db.models import Q

from customers.models import Customer
from customers.serializers import serialize_customer

from .. import errors, services
from ..http import endpoint, ok, paginate, query_list, root
from ..parsing import parse
from ..requests import CustomerFields

TEXT = {"name", "legal_name", "legal_number", "tax_identification_number", "email", "phone", "url", "address_line1",
        "address_line2", "city", "state", "zipcode", "country", "timezone"}


def _find(external_id) -> Customer:
    customer = Customer.objects.select_related("billing_entity").filter(external_id=external_id, deleted_at__isnull=True).first()
    if customer is None:
        raise errors.not_found("customer")
    return customer


def upsert(request):
    _, data = root(request, "customer")
    # Any value but the three strings (a bool, as billing entities take, included) is invalid_value, as in Lago.
    policy = data.get("finalize_zero_amount_invoice")
    if "finalize_zero_amount_invoice" in data and policy not in Customer.FinalizeZeroAmount.values:
        raise errors.validation_error({"finalize_zero_amount_invoice": "invalid_value"})
    values = parse(CustomerFields, data).given()
    values.pop("finalize_zero_amount_invoice", None)  # checked above
    external_id = (values.pop("external_id", "") or "").strip()
    if not external_id:
        raise errors.validation_error({"external_id": "value_is_mandatory"})
    values.update(values.pop("billing_configuration", None) or {})
    values.pop("metadata", None)  # accepted, not stored: the console keeps no customer metadata
    tax_codes = values.pop("tax_codes", None)
    billing_entity_code = values.pop("billing_entity_code", None)
    for field in TEXT:
        if field in values and values[field] is None:
            values[field] = ""
    if values.get("currency") is None:
        values.pop("currency", None)
    else:
        values["currency"] = values["currency"].upper()
    if "country" in values:
        values["country"] = values["country"].upper()
    if "finalize_zero_amount_invoice" in data:
        values["finalize_zero_amount_invoice"] = policy
    for field in ("net_payment_term", "invoice_grace_period"):
        if (values.get(field) or 0) < 0:
            raise errors.validation_error({field: "value_is_invalid"})
    customer, _ = services.upsert_customer(
        external_id, values, request.actor, billing_entity_code=billing_entity_code, tax_codes=tax_codes
    )
    return ok({"customer": serialize_customer(customer)})


def list_customers(request):
    customers = Customer.objects.filter(deleted_at__isnull=True).select_related("billing_entity").prefetch_related("taxes")
    term = request.GET.get("search_term")
    if term:
        customers = customers.filter(Q(name__icontains=term) | Q(external_id__icontains=term) | Q(email__icontains=term)
                                     | Q(legal_name__icontains=term))
    if currencies := query_list(request, "currencies"):
        customers = customers.filter(currency__in=[c.upper() for c in currencies])
    if countries := query_list(request, "countries"):
        customers = customers.filter(country__in=[c.upper() for c in countries])
    if codes := query_list(request, "billing_entity_codes"):
        customers = customers.filter(billing_entity__code__in=codes)
    rows, meta = paginate(request, customers.order_by("-created_at", "-sequential_id"))
    return ok({"customers": [serialize_customer(c) for c in rows], "meta": meta})


def show(request, external_id):
    return ok({"customer": serialize_customer(_find(external_id))})


def destroy(request, external_id):
    customer = services.delete_customer(_find(external_id), request.actor)
    return ok({"customer": serialize_customer(customer)})


collection = endpoint({"GET": list_customers, "POST": upsert})
member = endpoint({"GET": show, "DELETE": destroy})
