"""/billable_metrics: create, find by code, list (Lago's aggregation names: count_agg, sum_agg, …)."""
from plans.models import BillableMetric

from .. import catalog, errors
from ..http import endpoint, ok, paginate, root
from ..parsing import parse
from ..requests import BillableMetricFields
from ..serializers import AGGREGATION_TYPES, serialize_billable_metric

AGGREGATIONS = {lago: ours for ours, lago in AGGREGATION_TYPES.items()}


def create(request):
    _, data = root(request, "billable_metric")
    values = parse(BillableMetricFields, data).given()
    missing = {f: "value_is_mandatory" for f in ("name", "code", "aggregation_type") if not (values.get(f) or "").strip()}
    if missing:
        raise errors.validation_error(missing)
    if values["aggregation_type"] not in AGGREGATIONS:
        raise errors.validation_error({"aggregation_type": "value_is_invalid"})
    if values.pop("recurring", None):  # recurring (persisted) metrics are not implemented
        raise errors.validation_error({"recurring": "value_is_invalid"})
    aggregation = AGGREGATIONS[values.pop("aggregation_type")]
    if aggregation != "count" and not (values.get("field_name") or "").strip():
        raise errors.validation_error({"field_name": "value_is_mandatory"})
    filters = {}
    for item in values.pop("filters", None) or []:
        if not (isinstance(item, dict) and isinstance(item.get("key"), str) and item["key"]
                and isinstance(item.get("values"), list) and item["values"] and all(isinstance(v, str) for v in item["values"])):
            raise errors.validation_error({"filters": "value_is_invalid"})
        filters[item["key"]] = item["values"]
    values = {**values, "aggregation": aggregation, "filters": filters,
              "description": values.get("description") or "", "field_name": (values.get("field_name") or "").strip()}
    values["code"] = values["code"].strip()
    if BillableMetric.objects.filter(code=values["code"]).exists():
        raise errors.validation_error({"code": "value_already_exist"})
    return ok({"billable_metric": serialize_billable_metric(catalog.create_billable_metric(values, request.actor))})


def list_metrics(request):
    rows, meta = paginate(request, BillableMetric.objects.order_by("-created_at", "code"))
    return ok({"billable_metrics": [serialize_billable_metric(m) for m in rows], "meta": meta})


def show(request, code):
    metric = BillableMetric.objects.filter(code=code).first()
    if metric is None:
        raise errors.not_found("billable_metric")
    return ok({"billable_metric": serialize_billable_metric(metric)})


collection = endpoint({"GET": list_metrics, "POST": create})
member = endpoint({"GET": show})
