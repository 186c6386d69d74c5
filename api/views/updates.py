"""Issue 10's updates, deletes and lists on resources served elsewhere: PUT /subscriptions/{external_id},
PUT and DELETE /billable_metrics/{code}, DELETE /plans/{code}, GET /events, PUT /credit_notes/{lago_id}.

Each member view below serves the methods of the resource's own view plus the new ones (api/urls.py
routes the path here); writes go through api/catalog_updates.py and credit_notes/updates.py.
"""
from datetime import timezone as dt_timezone

from django.utils.dateparse import parse_datetime

from credit_notes.updates import UNSET, update_credit_note
from plans.models import BillableMetric
from subscriptions.models import Subscription
from usage.models import Event

from .. import catalog_updates, errors
from ..http import endpoint, ok, paginate, query_bool, root
from ..parsing import parse
from ..requests import BillableMetricFields
from ..requests_issue10 import CreditNoteUpdateFields, SubscriptionUpdateFields
from ..serializers import AGGREGATION_TYPES, serialize_billable_metric, serialize_event, serialize_plan, serialize_subscription
from . import billable_metrics, credit_notes, events, plans, subscriptions

AGGREGATIONS = {lago: ours for ours, lago in AGGREGATION_TYPES.items()}


# --- PUT /subscriptions/{external_id} ---------------------------------------------------------

def update_subscription(request, external_id):
    subscription = subscriptions._find(external_id)  # the active one, as Lago without ?status=pending
    _, data = root(request, "subscription")
    values = parse(SubscriptionUpdateFields, data).given()
    subscription = catalog_updates.update_subscription(subscription, values, request.actor)
    return ok({"subscription": serialize_subscription(subscription)})


# --- PUT / DELETE /billable_metrics/{code} ----------------------------------------------------

def _metric(code) -> BillableMetric:
    metric = BillableMetric.objects.filter(code=code).first()
    if metric is None:
        raise errors.not_found("billable_metric")
    return metric


def update_metric(request, code):
    metric = _metric(code)
    _, data = root(request, "billable_metric")
    values = parse(BillableMetricFields, data).given()
    changes = {}
    for name in ("name", "code"):
        if name in values:
            changes[name] = (values[name] or "").strip()
            if not changes[name]:
                raise errors.validation_error({name: "value_is_mandatory"})
    if "description" in values:
        changes["description"] = values["description"] or ""
    if "field_name" in values:
        changes["field_name"] = (values["field_name"] or "").strip()
    if "aggregation_type" in values:
        if values["aggregation_type"] not in AGGREGATIONS:
            raise errors.validation_error({"aggregation_type": "value_is_invalid"})
        changes["aggregation"] = AGGREGATIONS[values["aggregation_type"]]
    if values.get("recurring"):  # recurring (persisted) metrics are not implemented
        raise errors.validation_error({"recurring": "value_is_invalid"})
    if values.get("filters") is not None:
        changes["filters"] = _filters(values["filters"])
    if changes.get("code") not in (None, metric.code) and BillableMetric.objects.filter(code=changes["code"]).exists():
        raise errors.validation_error({"code": "value_already_exist"})
    metric = catalog_updates.update_billable_metric(metric, changes, request.actor)
    return ok({"billable_metric": serialize_billable_metric(metric)})


def _filters(items) -> dict:
    filters = {}
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("key"), str) and item["key"]
                and isinstance(item.get("values"), list) and item["values"] and all(isinstance(v, str) for v in item["values"])):
            raise errors.validation_error({"filters": "value_is_invalid"})
        filters[item["key"]] = item["values"]
    return filters


def destroy_metric(request, code):
    metric = catalog_updates.delete_billable_metric(_metric(code), request.actor)
    return ok({"billable_metric": serialize_billable_metric(metric)})


# --- DELETE /plans/{code} ---------------------------------------------------------------------

def destroy_plan(request, code):
    plan = plans._find(code)
    answer = serialize_plan(plan)  # as Lago answers it: the plan with its charges, as they were
    catalog_updates.delete_plan(plan, request.actor)
    return ok({"plan": answer})


# --- GET /events ------------------------------------------------------------------------------

def _timestamp(request, name):
    value = request.GET.get(name)
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise errors.validation_error({name: "invalid_date"})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt_timezone.utc)


def list_events(request):
    rows = Event.objects.all()
    external_subscription_id = request.GET.get("external_subscription_id")
    if external_subscription_id:
        rows = rows.filter(external_subscription_id=external_subscription_id)
    if code := request.GET.get("code"):
        rows = rows.filter(code=code)
    if (start := _timestamp(request, "timestamp_from")) is not None:
        rows = rows.filter(timestamp__gte=start)
    if (end := _timestamp(request, "timestamp_to")) is not None:
        rows = rows.filter(timestamp__lte=end)
    if query_bool(request, "timestamp_from_started_at"):
        started = Subscription.objects.filter(external_id=external_subscription_id or "").order_by("-started_at").values_list(
            "started_at", flat=True).first()
        if not external_subscription_id or started is None:
            raise errors.validation_error({"external_subscription_id": "value_is_mandatory"})
        rows = rows.filter(timestamp__gte=started)
    page, meta = paginate(request, rows.order_by("-timestamp", "-created_at", "-id"))
    ids = events._subscription_ids(e.external_subscription_id for e in page)
    return ok({"events": [serialize_event(e, ids) for e in page], "meta": meta})


# --- PUT /credit_notes/{lago_id} --------------------------------------------------------------

def update_credit_note_view(request, credit_note_id):
    note = credit_notes._find(credit_note_id)
    _, data = root(request, "credit_note")
    values = parse(CreditNoteUpdateFields, data).given()
    note = update_credit_note(note.pk, request.actor, refund_status=values.get("refund_status", UNSET),
                              metadata=values.get("metadata", UNSET))
    return credit_notes._answer(request, note)


subscription_member = endpoint({**subscriptions.member.handlers, "PUT": update_subscription})
billable_metric_member = endpoint({**billable_metrics.member.handlers, "PUT": update_metric, "DELETE": destroy_metric})
plan_member = endpoint({**plans.member.handlers, "DELETE": destroy_plan})
events_collection = endpoint({"GET": list_events, **events.collection.handlers})
credit_note_member = endpoint({**credit_notes.member.handlers, "PUT": update_credit_note_view})
