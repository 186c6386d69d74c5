"""/billable_metrics and /plans (with charges and filters): create, find, list, update; audited; nothing half-written."""
import pytest

from audit.models import AuditLogEntry
from plans.models import BillableMetric, Charge, Plan

from . import billing_factories as b
from .api_support import assert_error

pytestmark = pytest.mark.django_db


def metric_body(**kwargs):
    return {"billable_metric": {"name": "API calls", "code": "api_calls", "aggregation_type": "count_agg", **kwargs}}


def plan_body(metric_id, **kwargs):
    return {"plan": {"name": "Startup", "code": "startup", "interval": "monthly", "amount_cents": 1000, "amount_currency": "usd",
                     "pay_in_advance": False, "charges": [{"billable_metric_id": metric_id, "charge_model": "standard",
                                                          "properties": {"amount": "0.05"}}], **kwargs}}


def test_billable_metric_create_find_list(api):
    response = api.post("billable_metrics", metric_body(
        aggregation_type="sum_agg", field_name="bytes", filters=[{"key": "region", "values": ["eu", "us"]}]))
    assert response.status_code == 200, response.content
    body = response.json()["billable_metric"]
    metric = BillableMetric.objects.get(code="api_calls")
    assert (metric.aggregation, metric.field_name, metric.filters) == ("sum", "bytes", {"region": ["eu", "us"]})
    assert body["lago_id"] == str(metric.pk) and body["aggregation_type"] == "sum_agg"
    assert body["filters"] == [{"key": "region", "values": ["eu", "us"]}]
    assert api.get("billable_metrics/api_calls").json()["billable_metric"] == body
    assert [m["code"] for m in api.get("billable_metrics").json()["billable_metrics"]] == ["api_calls"]
    entry = AuditLogEntry.objects.get(action="billable_metric.created")
    assert entry.actor_label == "api key: integration" and entry.object_id == str(metric.pk)


def test_billable_metric_errors(api):
    api.post("billable_metrics", metric_body())
    assert_error(api.post("billable_metrics", metric_body()), 422, error_details={"code": ["value_already_exist"]})
    assert_error(api.post("billable_metrics", metric_body(code="x", aggregation_type="latest_agg")), 422,
                 error_details={"aggregation_type": ["value_is_invalid"]})
    assert_error(api.post("billable_metrics", metric_body(code="y", aggregation_type="sum_agg")), 422,
                 error_details={"field_name": ["value_is_mandatory"]})
    assert_error(api.post("billable_metrics", {"billable_metric": {"code": "z"}}), 422,
                 error_details={"name": ["value_is_mandatory"], "aggregation_type": ["value_is_mandatory"]})
    assert_error(api.post("billable_metrics", metric_body(code="w", filters=[{"key": "r"}])), 422,
                 error_details={"filters": ["value_is_invalid"]})
    assert_error(api.get("billable_metrics/nope"), 404, "billable_metric_not_found")
    assert BillableMetric.objects.count() == 1


def test_plan_with_a_charge_and_filters(api):
    metric = b.metric("count", code="api_calls", filters={"region": ["eu", "us"]})
    body = plan_body(str(metric.pk))
    body["plan"]["charges"][0]["filters"] = [{"values": {"region": ["eu"]}, "properties": {"amount": "0.10"},
                                             "invoice_display_name": "EU calls"}]
    response = api.post("plans", body)
    assert response.status_code == 200, response.content
    plan = Plan.objects.get(code="startup")
    (charge,) = plan.charges.all()
    assert (plan.amount_cents, plan.currency, charge.properties) == (1000, "USD", {"amount": "0.05"})
    assert [(f.values, f.properties) for f in charge.filters.all()] == [({"region": ["eu"]}, {"amount": "0.10"})]
    answer = response.json()["plan"]
    assert answer["amount_currency"] == "USD" and answer["charges"][0]["lago_billable_metric_id"] == str(metric.pk)
    assert answer["charges"][0]["billable_metric_code"] == "api_calls"
    assert answer["charges"][0]["filters"][0]["invoice_display_name"] == "EU calls"
    assert api.get("plans/startup").json()["plan"] == answer
    assert api.get("plans").json()["meta"]["total_count"] == 1
    assert AuditLogEntry.objects.get(action="plan.created").after["charges"][0]["billable_metric"] == "api_calls"


def test_plan_create_errors_write_nothing(api):
    metric = b.metric("count", code="api_calls")
    assert_error(api.post("plans", plan_body("9b4bd1a3-8e4a-4bd6-9cb9-5b7d8f2b0a11")), 404, "billable_metric_not_found")
    assert_error(api.post("plans", plan_body("not-a-uuid")), 404, "billable_metric_not_found")
    bad = plan_body(str(metric.pk))
    bad["plan"]["charges"][0]["properties"] = {"amount": "-1"}
    assert_error(api.post("plans", bad), 422, error_details={"properties": ["invalid_charge_properties"]})
    bad["plan"]["charges"][0].update(charge_model="dynamic")
    assert_error(api.post("plans", bad), 422, error_details={"charges.0.charge_model": ["value_is_invalid"]})
    assert_error(api.post("plans", plan_body(str(metric.pk), interval="semiannual")), 422, error_details={"interval": ["value_is_invalid"]})
    assert_error(api.post("plans", {"plan": {"code": "p"}}), 422)
    filtered = plan_body(str(metric.pk))
    filtered["plan"]["charges"][0]["filters"] = [{"values": {"region": ["eu"]}, "properties": {"amount": "1"}}]
    assert_error(api.post("plans", filtered), 422)  # the metric has no such filter
    assert not Plan.objects.exists() and not Charge.objects.exists() and not AuditLogEntry.objects.exists()
    assert api.post("plans", plan_body(str(metric.pk))).status_code == 200
    assert_error(api.post("plans", plan_body(str(metric.pk))), 422, error_details={"code": ["value_already_exist"]})
    assert_error(api.get("plans/nope"), 404, "plan_not_found")


def test_plan_update_partial_and_charges_replaced(api):
    calls, storage = b.metric("count", code="api_calls"), b.metric("sum", field_name="gb", code="storage")
    charge_id = api.post("plans", plan_body(str(calls.pk))).json()["plan"]["charges"][0]["lago_id"]
    response = api.put("plans/startup", {"plan": {"amount_cents": 2500, "charges": [
        {"id": charge_id, "properties": {"amount": "0.07"}},
        {"lago_billable_metric_id": str(storage.pk), "charge_model": "package",
         "properties": {"amount": "5", "package_size": 10, "free_units": 0}},
    ]}})
    assert response.status_code == 200, response.content
    plan = Plan.objects.get(code="startup")
    assert plan.amount_cents == 2500 and plan.name == "Startup"
    assert [(str(c.pk) == charge_id, c.charge_model, c.properties["amount"]) for c in plan.charges.all()] == [
        (True, "standard", "0.07"), (False, "package", "5")]
    entry = AuditLogEntry.objects.get(action="plan.updated")
    assert entry.before["amount_cents"] == 1000 and entry.after["amount_cents"] == 2500 and len(entry.after["charges"]) == 2
    api.put("plans/startup", {"plan": {"charges": [{"id": charge_id}]}})
    assert [str(c.pk) for c in plan.charges.all()] == [charge_id]
    assert api.put("plans/startup", {"plan": {"name": "Startup"}}).status_code == 200
    assert AuditLogEntry.objects.filter(action="plan.updated").count() == 2  # a no-op is not audited
    assert_error(api.put("plans/startup", {"plan": {"charges": [{"id": "nope"}]}}), 404, "charge_not_found")
    assert_error(api.put("plans/startup", {"plan": {"amount_cents": -1}}), 422)
    assert_error(api.put("plans/nope", {"plan": {"name": "x"}}), 404, "plan_not_found")
