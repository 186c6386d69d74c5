"""/taxes: CRUD by code, through customers.taxes (the admin's service; audited with the API key).

Lago's semantics, kept: DELETE detaches the tax from what used it (finalized invoices keep their
snapshot; drafts drop it and are recomputed), PUT restates drafts that carry it (customers/taxes.py).
"""
from customers.models import Tax
from customers.serializers import serialize_tax
from customers.taxes import create_tax, delete_tax, update_tax

from .. import errors
from ..http import endpoint, ok, paginate, root
from ..parsing import parse
from ..requests_billing import TaxCreateFields, TaxFields


def _values(request, model) -> dict:
    _, data = root(request, "tax")
    values = parse(model, data).given()
    values.pop("applied_to_organization", None)  # deprecated in Lago; billing entities carry taxes here
    for field in ("name", "code", "rate"):
        if field in values and values[field] in (None, ""):
            raise errors.validation_error({field: "value_is_mandatory"})
    if values.get("description", "") is None:
        values["description"] = ""
    return values


def _find(code) -> Tax:
    tax = Tax.objects.filter(code=code).first()
    if tax is None:
        raise errors.not_found("tax")
    return tax


def create(request):
    values = _values(request, TaxCreateFields)
    missing = {f: "value_is_mandatory" for f in ("name", "code", "rate") if f not in values}
    if missing:
        raise errors.validation_error(missing)
    return ok({"tax": serialize_tax(create_tax(values, request.actor))})


def list_taxes(request):
    rows, meta = paginate(request, Tax.objects.order_by("-created_at", "pk"))
    return ok({"taxes": [serialize_tax(t) for t in rows], "meta": meta})


def show(request, code):
    return ok({"tax": serialize_tax(_find(code))})


def update(request, code):
    tax = _find(code)
    return ok({"tax": serialize_tax(update_tax(tax, _values(request, TaxFields), request.actor))})


def destroy(request, code):
    return ok({"tax": serialize_tax(delete_tax(_find(code), request.actor))})


collection = endpoint({"GET": list_taxes, "POST": create})
member = endpoint({"GET": show, "PUT": update, "DELETE": destroy})
