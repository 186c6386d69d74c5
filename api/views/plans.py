"""/plans: create with charges, find by code, list, update (PUT /plans/{code}, partial; `charges` replaces the list)."""
import uuid

from plans.models import BillableMetric, Charge, Plan

from .. import catalog, errors
from ..http import endpoint, ok, paginate, root
from ..parsing import parse
from ..requests import PlanFields
from ..serializers import serialize_plan

TEXT = {"invoice_display_name", "description"}
REQUIRED = ("name", "code", "interval", "amount_cents", "amount_currency")


def _plans():
    return Plan.objects.prefetch_related("charges__billable_metric", "charges__filters")


def _find(code) -> Plan:
    plan = _plans().filter(code=code).first()
    if plan is None:
        raise errors.not_found("plan")
    return plan


def _values(request, *, creating: bool):
    _, data = root(request, "plan")
    values = parse(PlanFields, data).given()  # charges and their filters included; amount_cents: minor units
    if creating:
        missing = {f: "value_is_mandatory" for f in REQUIRED if values.get(f) in (None, "")}
        if missing:
            raise errors.validation_error(missing)
    for field in TEXT:
        if field in values and values[field] is None:
            values[field] = ""
    if "interval" in values and values["interval"] not in Plan.Interval.values:
        raise errors.validation_error({"interval": "value_is_invalid"})
    if "amount_currency" in values:
        values["currency"] = values.pop("amount_currency").upper()
    charges = values.pop("charges", None)
    if charges is None and creating:
        charges = []
    return values, None if charges is None else [_charge(item, index, creating) for index, item in enumerate(charges)]


def _charge(spec, index, creating) -> dict:
    prefix = f"charges.{index}."
    metric_id = spec.pop("billable_metric_id", None) or spec.pop("lago_billable_metric_id", None)
    spec.pop("lago_billable_metric_id", None)
    if spec.get("id") is None:  # a new charge: what it is billed on and how are required
        spec.pop("id", None)
        missing = {prefix + f: "value_is_mandatory" for f, v in (("billable_metric_id", metric_id),
                                                                 ("charge_model", spec.get("charge_model"))) if not v}
        if missing:
            raise errors.validation_error(missing)
    if metric_id is not None:
        spec["billable_metric"] = _metric(metric_id)
    if "charge_model" in spec and spec["charge_model"] not in Charge.ChargeModel.values:
        raise errors.validation_error({prefix + "charge_model": "value_is_invalid"})
    if "properties" in spec and spec["properties"] is None:
        spec["properties"] = {}
    if "invoice_display_name" in spec and spec["invoice_display_name"] is None:
        spec["invoice_display_name"] = ""
    if spec.get("filters") is not None:
        filters = []
        for n, f in enumerate(spec["filters"]):
            if not f.get("values"):
                raise errors.validation_error({f"{prefix}filters.{n}.values": "value_is_mandatory"})
            filters.append(f)
        spec["filters"] = filters
    return spec


def _metric(lago_id) -> BillableMetric:
    try:
        metric = BillableMetric.objects.filter(pk=uuid.UUID(lago_id)).first()
    except ValueError:
        metric = None
    if metric is None:
        raise errors.not_found("billable_metric")
    return metric


def create(request):
    values, charges = _values(request, creating=True)
    values["code"] = values["code"].strip()
    if Plan.objects.filter(code=values["code"]).exists():
        raise errors.validation_error({"code": "value_already_exist"})
    plan = catalog.create_plan(values, charges, request.actor)
    return ok({"plan": serialize_plan(_find(plan.code))})


def list_plans(request):
    rows, meta = paginate(request, _plans().order_by("-created_at", "code"))
    return ok({"plans": [serialize_plan(p) for p in rows], "meta": meta})


def show(request, code):
    return ok({"plan": serialize_plan(_find(code))})


def update(request, code):
    plan = _find(code)
    values, charges = _values(request, creating=False)
    if values.get("code") not in (None, plan.code) and Plan.objects.filter(code=values["code"]).exists():
        raise errors.validation_error({"code": "value_already_exist"})
    plan = catalog.update_plan(plan, values, charges, request.actor)
    return ok({"plan": serialize_plan(_find(plan.code))})


collection = endpoint({"GET": list_plans, "POST": create})
member = endpoint({"GET": show, "PUT": update})
