"""/add_ons: CRUD by code; DELETE is soft."""
from addons.models import AddOn

from .. import errors, services
from ..http import endpoint, ok, paginate, root
from ..parsing import parse
from ..requests import AddOnFields
from ..serializers import serialize_add_on

TEXT = {"invoice_display_name", "description"}


def _values(request):
    _, data = root(request, "add_on")
    values = parse(AddOnFields, data).given()
    for field in TEXT:
        if field in values and values[field] is None:
            values[field] = ""
    if "amount_currency" in values:
        values["amount_currency"] = values["amount_currency"].upper()
    return values, values.pop("tax_codes", None)


def _find(code) -> AddOn:
    add_on = AddOn.objects.active().filter(code=code).first()
    if add_on is None:
        raise errors.not_found("add_on")
    return add_on


def create(request):
    values, tax_codes = _values(request)
    if values.get("code") and AddOn.objects.filter(code=values["code"]).exists():
        raise errors.validation_error({"code": "value_already_exist"})
    return ok({"add_on": serialize_add_on(services.create_add_on(values, request.actor, tax_codes=tax_codes))})


def list_add_ons(request):
    rows, meta = paginate(request, AddOn.objects.active().prefetch_related("taxes").order_by("-created_at"))
    return ok({"add_ons": [serialize_add_on(a) for a in rows], "meta": meta})


def show(request, code):
    return ok({"add_on": serialize_add_on(_find(code))})


def update(request, code):
    add_on = _find(code)
    values, tax_codes = _values(request)
    if values.get("code") not in (None, add_on.code) and AddOn.objects.filter(code=values["code"]).exists():
        raise errors.validation_error({"code": "value_already_exist"})
    return ok({"add_on": serialize_add_on(services.update_add_on(add_on, values, request.actor, tax_codes=tax_codes))})


def destroy(request, code):
    return ok({"add_on": serialize_add_on(services.delete_add_on(_find(code), request.actor))})


collection = endpoint({"GET": list_add_ons, "POST": create})
member = endpoint({"GET": show, "PUT": update, "DELETE": destroy})
