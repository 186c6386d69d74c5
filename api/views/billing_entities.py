"""/billing_entities and /organizations (the organization is the default billing entity)."""
from customers.models import BillingEntity
from customers.serializers import serialize_billing_entity

from .. import errors, services
from ..http import endpoint, ok, root
from ..parsing import parse
from ..requests import BillingEntityCreateFields, BillingEntityFields
from ..serializers import serialize_organization

TEXT = {"email", "legal_name", "legal_number", "tax_identification_number", "address_line1", "address_line2",
        "city", "state", "zipcode", "country", "invoice_footer", "document_number_prefix"}


def _values(data: dict, model=BillingEntityFields) -> tuple[dict, list | None]:
    """Request → model values. Grace period, footer and locale are nested in billing_configuration
    (the client), or flat (seed 003's "organization" example); the nested value wins."""
    values = parse(model, data).given()
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


def create(request):
    _, data = root(request, "billing_entity")
    values, tax_codes = _values(data, BillingEntityCreateFields)
    entity = services.create_billing_entity(values, request.actor, tax_codes=tax_codes)
    return ok({"billing_entity": serialize_billing_entity(entity)})


def show(request, code):
    return ok({"billing_entity": serialize_billing_entity(_find(code))})


def update(request, code):
    entity = _find(code)
    _, data = root(request, "billing_entity", "organization")
    values, tax_codes = _values(data)
    entity = services.update_billing_entity(entity, values, request.actor, tax_codes=tax_codes)
    return ok({"billing_entity": serialize_billing_entity(entity)})


def _default_entity() -> BillingEntity:
    entity = BillingEntity.objects.filter(is_default=True).first()
    if entity is None:  # only if someone deleted it: the next `migrate` creates it again
        raise errors.not_found("organization")
    return entity


# Lago's organization says per_organization where its billing entities say per_billing_entity.
NUMBERING_FROM_ORGANIZATION = {"per_organization": BillingEntity.DocumentNumbering.PER_BILLING_ENTITY}


def show_organization(request):
    return ok({"organization": serialize_organization(_default_entity())})


def update_organization(request):
    """Lago's organization settings are its default billing entity's; the organization's own name
    and id are the instance's (settings), so `name` is not taken here (Lago's input has none)."""
    entity = _default_entity()
    _, data = root(request, "organization")
    values, tax_codes = _values({k: v for k, v in data.items() if k != "name"})
    if "document_numbering" in values:
        values["document_numbering"] = NUMBERING_FROM_ORGANIZATION.get(values["document_numbering"], values["document_numbering"])
    entity = services.update_billing_entity(entity, values, request.actor, tax_codes=tax_codes)
    return ok({"organization": serialize_organization(entity)})


collection = endpoint({"GET": list_entities, "POST": create})
member = endpoint({"GET": show, "PUT": update})
organization = endpoint({"GET": show_organization, "PUT": update_organization})
