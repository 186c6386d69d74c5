"""/customers: upsert by external_id (POST), find, list with filters, soft delete."""
import re

from django.db.models import Prefetch, Q

from customers.models import Customer, CustomerMetadata
from customers.serializers import serialize_customer

from .. import errors, services
from ..http import endpoint, ok, paginate, query_bool, query_list, query_metadata, root
from ..parsing import parse
from ..requests import CustomerFields

TEXT = {"name", "legal_name", "legal_number", "tax_identification_number", "email", "phone", "url", "address_line1",
        "address_line2", "city", "state", "zipcode", "country", "timezone", "firstname", "lastname", "logo_url",
        "customer_type", "document_locale", "payment_provider", "payment_provider_code", "provider_customer_id"}
# Lago's enums of the customer: any other value is refused, never stored or dropped.
CHOICES = {"account_type": Customer.AccountType.values, "customer_type": Customer.CustomerType.values,
           "payment_provider": Customer.PaymentProvider.values}
SHIPPING = {"address_line1": "shipping_address_line1", "address_line2": "shipping_address_line2", "city": "shipping_city",
            "state": "shipping_state", "zipcode": "shipping_zipcode", "country": "shipping_country"}
LOCALE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2})?$")


def _find(external_id) -> Customer:
    customer = _queryset().filter(external_id=external_id).first()
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
    if "shipping_address" in values:
        shipping = values.pop("shipping_address") or {}
        for key, field in SHIPPING.items():
            if key in shipping or not shipping:
                values[field] = (shipping.get(key) or "").upper() if key == "country" else shipping.get(key) or ""
    metadata = _metadata(values.pop("metadata", None))
    for flag in ("sync", "sync_with_provider", "account_type"):
        if flag in values and values[flag] is None:
            del values[flag]  # null: unchanged (account_type defaults to customer)
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
    invalid = {field: "value_is_invalid" for field in ("net_payment_term", "invoice_grace_period") if (values.get(field) or 0) < 0}
    invalid |= {field: "value_is_invalid" for field, allowed in CHOICES.items() if values.get(field) and values[field] not in allowed}
    if values.get("document_locale") and not LOCALE.match(values["document_locale"]):
        invalid["document_locale"] = "invalid_value"
    if invalid:
        raise errors.validation_error(invalid)
    customer, _ = services.upsert_customer(
        external_id, values, request.actor, billing_entity_code=billing_entity_code, tax_codes=tax_codes, metadata=metadata,
    )
    return ok({"customer": serialize_customer(customer)})


def _metadata(items):
    """The metadata list, checked as Lago checks it: at most 5 entries, each with a key and a value, keys unique."""
    if items is None:
        return None
    if len(items) > CustomerMetadata.MAX_PER_CUSTOMER:
        raise errors.validation_error({"metadata": "invalid_count"})
    details = {}
    for index, item in enumerate(items):
        for field in ("key", "value"):
            if item.get(field) in (None, ""):
                details[f"metadata.{index}.{field}"] = "value_is_mandatory"
    keys = [item.get("key") for item in items]
    if not details and len(set(keys)) != len(keys):
        details["metadata"] = "value_already_exist"
    if details:
        raise errors.validation_error(details)
    return items


def _queryset():
    return (Customer.objects.filter(deleted_at__isnull=True).select_related("billing_entity")
            .prefetch_related("taxes", Prefetch("metadata", queryset=CustomerMetadata.objects.order_by("created_at", "key"))))


def list_customers(request):
    customers = _queryset()
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
    if states := query_list(request, "states"):
        customers = customers.filter(state__in=states)
    if zipcodes := query_list(request, "zipcodes"):
        customers = customers.filter(zipcode__in=zipcodes)
    for name, allowed in (("account_type", Customer.AccountType.values), ("customer_type", Customer.CustomerType.values)):
        if values := query_list(request, name):
            if set(values) - set(allowed):
                raise errors.validation_error({name: "value_is_invalid"})
            customers = customers.filter(**{f"{name}__in": values})
    if (has_tin := query_bool(request, "has_tax_identification_number")) is not None:
        customers = customers.exclude(tax_identification_number="") if has_tin else customers.filter(tax_identification_number="")
    if (has_type := query_bool(request, "has_customer_type")) is not None:
        customers = customers.exclude(customer_type="") if has_type else customers.filter(customer_type="")
    for key, value in query_metadata(request).items():
        customers = customers.filter(metadata__key=key, metadata__value=value)
    rows, meta = paginate(request, customers.order_by("-created_at", "-sequential_id"))
    return ok({"customers": [serialize_customer(c) for c in rows], "meta": meta})


def show(request, external_id):
    return ok({"customer": serialize_customer(_find(external_id))})


def destroy(request, external_id):
    customer = services.delete_customer(_find(external_id), request.actor)
    return ok({"customer": serialize_customer(customer)})


collection = endpoint({"GET": list_customers, "POST": upsert})
member = endpoint({"GET": show, "DELETE": destroy})
