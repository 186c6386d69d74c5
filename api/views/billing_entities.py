"""/billing_entities and /organizations (the organization is the default billing entity)."""
from customers.models import BillingEntity
from customers.serializers import serialize_billing_entity

from .. import errors, services
from ..http import endpoint, ok, root
from ..parsing import parse
from ..requests import BillingEntityFields
from ..serializers import serialize_organization

TEXT = {"email", "legal_name", "legal_number", "tax_identification_number", "address_line1", "address_line2",
        "city", "state", "zipcode", "country", "invoice_footer", "document_number_prefix"}


def _values(data: dict) -> tuple[dict, list | None]:
    """Request → model values. Grace period, footer and locale are nested in billing_configuration
    (the client), or flat (seed 003's "organization" example); the nested value wins."""
    values = parse(BillingEntityFields, data).given()
    values.update(values.pop("billing_configuration", None) or {})
    tax_codes = values.pop("tax_codes", None)
    for field in TEXT:
        if field in values and values[field] is None:
            values[field] = ""
    if "country" in values:
        values["country"] = values["country"].upper()
    if "default_currency" in values:
        values["default_currency"] = values["default_currency"].upper()
    for field in ("net_payment_term", "invoice_grace_period"):
        if values.get(field, 0) < 0:
            raise errors.validation_error({field: "value_is_invalid"})
    return values, tax_codes


def _find(code) -> BillingEntity:
    entity = BillingEntity.objects.filter(code=code).first()
    if entity is None:
        raise errors.not_found("billing_entity")
    return entity


def list_entities(request):
    entities = BillingEntity.objects.prefetch_related("taxes").order_by("created_at")
    return ok({"billing_entities": [serialize_billing_entity(e) for e in entities]})


def show(request, code):
    return ok({"billing_entity": serialize_billing_entity(_find(code))})


def update(request, code):
    entity = _find(code)
    _, data = root(request, "billing_entity", "organization")
    values, tax_codes = _values(data)
    entity = services.update_billing_entity(entity, values, request.actor, tax_codes=tax_codes)
    return ok({"billing_entity": serialize_billing_entity(entity)})


def update_organization(request):
    entity = BillingEntity.objects.filter(is_default=True).first() or BillingEntity.objects.order_by("created_at").first()
    if entity is None:
        raise errors.not_found("organization")
    _, data = root(request, "organization")
    values, tax_codes = _values(data)
    entity = services.update_billing_entity(entity, values, request.actor, tax_codes=tax_codes)
    return ok({"organization": serialize_organization(entity)})


collection = endpoint({"GET": list_entities})
member = endpoint({"GET": show, "PUT": update})
organization = endpoint({"PUT": update_organization})
