"""PUT /subscriptions/{external_id}, PUT and DELETE /billable_metrics/{code}, DELETE /plans/{code} (issue 10)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLogEntry
from invoices.models import Fee, Invoice
from billing_run.tasks import run_billing
from plans.models import BillableMetric, Charge, Plan
from billing_run.billing import bill_period
from subscriptions.periods import periods
from billing_run.termination import terminate_ended_subscriptions

from . import billing_factories as b
from . import factories as f
from .api_support import assert_error
from .lago_spec import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    customer = f.customer(f.billing_entity(invoice_grace_period=3), external_id="hooli", currency="USD")
    plan = b.plan(code="startup", amount_cents=3100, currency="USD")
    metric = b.metric("count", code="api_calls")
    charge = b.charge(plan, metric, "standard", {"amount": "2"})
    sub = b.subscription(customer, plan, external_id="sub-1", started_at=timezone.now() - timedelta(days=70))
    return customer, plan, metric, charge, sub


# --- subscriptions ---------------------------------------------------------------------------

def test_update_subscription_name_and_ending_at(api, catalogue):
    *_, sub = catalogue
    ending = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = api.put("subscriptions/sub-1", {"subscription": {"name": "Main", "ending_at": ending.isoformat()}})
    assert response.status_code == 200, response.content
    answer = response.json()["subscription"]
    sub.refresh_from_db()
    assert sub.name == "Main" and sub.ending_at == ending
    assert answer["name"] == "Main" and answer["ending_at"] == ending.isoformat().replace("+00:00", "Z")
    entry = AuditLogEntry.objects.get(action="subscription.updated")
    assert entry.source == "api" and entry.after["name"] == "Main"
    # subscription_at of a started subscription is ignored, as Lago (only pending ones move)
    started = sub.started_at
    api.put("subscriptions/sub-1", {"subscription": {"subscription_at": "2030-01-01T00:00:00Z"}})
    sub.refresh_from_db()
    assert sub.started_at == started
    # null ending_at: renews forever
    api.put("subscriptions/sub-1", {"subscription": {"ending_at": None}})
    sub.refresh_from_db()
    assert sub.ending_at is None


def test_subscription_ending_at_terminates_at_the_billing_run(api, catalogue):
    *_, sub = catalogue
    ending = timezone.now() + timedelta(days=1)
    api.put("subscriptions/sub-1", {"subscription": {"ending_at": ending.isoformat()}})
    assert terminate_ended_subscriptions(timezone.now()) == 0
    run_billing(ending + timedelta(minutes=5))
    sub.refresh_from_db()
    assert sub.status == "terminated" and sub.terminated_at == ending
    assert Invoice.objects.filter(subscription=sub, period_to__gte=ending - timedelta(seconds=1)).exists()


def test_pending_subscription_moves_its_start(api, catalogue):
    customer, plan, *_ = catalogue
    later = b.subscription(customer, plan, external_id="sub-later", started_at=timezone.now() + timedelta(days=10))
    response = api.put("subscriptions/sub-later", {"subscription": {"subscription_at": "2031-02-03T00:00:00Z"}})
    assert response.status_code == 200, response.content
    later.refresh_from_db()
    assert later.started_at.isoformat() == "2031-02-03T00:00:00+00:00"
    assert response.json()["subscription"]["subscription_at"] == "2031-02-03T00:00:00Z"


def test_update_subscription_errors_write_nothing(api, catalogue):
    assert_error(api.put("subscriptions/nope", {"subscription": {"name": "x"}}), 404, "subscription_not_found")
    assert_error(api.put("subscriptions/sub-1", {"subscription": {"ending_at": "2000-01-01T00:00:00Z"}}), 422,
                 error_details={"ending_at": ["invalid_date"]})
    assert_error(api.put("subscriptions/sub-1", {"subscription": {"ending_at": "soon"}}), 422,
                 error_details={"ending_at": ["invalid_date"]})
    assert_error(api.put("subscriptions/sub-1", {"other": {}}), 400)
    assert not AuditLogEntry.objects.filter(action="subscription.updated").exists()


# --- billable metrics ------------------------------------------------------------------------

def test_update_metric(api, catalogue):
    free = b.metric("count", code="free")
    response = api.put("billable_metrics/free", {"billable_metric": {
        "name": "Storage", "code": "storage", "aggregation_type": "sum_agg", "field_name": "gb",
        "filters": [{"key": "region", "values": ["eu"]}]}})
    assert response.status_code == 200, response.content
    free.refresh_from_db()
    assert (free.name, free.code, free.aggregation, free.field_name, free.filters) == ("Storage", "storage", "sum", "gb", {"region": ["eu"]})
    assert response.json()["billable_metric"]["aggregation_type"] == "sum_agg"
    assert AuditLogEntry.objects.get(action="billable_metric.updated").after["code"] == "storage"
    # Charged by a plan: only name and description change (Lago).
    response = api.put("billable_metrics/api_calls", {"billable_metric": {"name": "Calls", "aggregation_type": "max_agg",
                                                                           "field_name": "x", "code": "renamed"}})
    metric = BillableMetric.objects.get(code="api_calls")
    assert response.status_code == 200 and metric.name == "Calls" and metric.aggregation == "count"


def test_update_metric_errors(api, catalogue):
    b.metric("count", code="free")
    assert_error(api.put("billable_metrics/nope", {"billable_metric": {"name": "x"}}), 404, "billable_metric_not_found")
    assert_error(api.put("billable_metrics/free", {"billable_metric": {"code": "api_calls"}}), 422,
                 error_details={"code": ["value_already_exist"]})
    assert_error(api.put("billable_metrics/free", {"billable_metric": {"aggregation_type": "avg"}}), 422,
                 error_details={"aggregation_type": ["value_is_invalid"]})
    assert_error(api.put("billable_metrics/free", {"billable_metric": {"aggregation_type": "sum_agg"}}), 422)  # field_name needed
    assert BillableMetric.objects.get(code="free").aggregation == "count"
    assert not AuditLogEntry.objects.filter(action="billable_metric.updated").exists()


def test_delete_metric_soft_deletes_it_and_its_charges_and_refreshes_drafts(api, catalogue, actor):
    customer, plan, metric, charge, sub = catalogue
    period = periods(sub, until=timezone.now())[-1]
    b.event(sub, "api_calls", period.start + timedelta(seconds=1))
    assert bill_period(sub, period, now=timezone.now(), actor=actor) == "drafts"
    draft = Invoice.objects.get(subscription=sub, period_from=period.start)
    assert draft.fees.filter(charge=charge).exists()

    response = api.delete("billable_metrics/api_calls")
    assert response.status_code == 200, response.content
    assert response.json()["billable_metric"]["code"] == "api_calls"
    metric = BillableMetric.all_objects.get(pk=metric.pk)
    assert metric.deleted_at is not None and Charge.all_objects.get(pk=charge.pk).deleted_at is not None
    assert not BillableMetric.objects.filter(code="api_calls").exists() and not plan.charges.exists()
    assert not draft.fees.filter(charge=charge).exists()  # the draft no longer bills it
    assert AuditLogEntry.objects.get(action="billable_metric.deleted").after["refreshed_drafts"] == [str(draft.pk)]
    assert_error(api.get("billable_metrics/api_calls"), 404, "billable_metric_not_found")
    assert_error(api.delete("billable_metrics/api_calls"), 404, "billable_metric_not_found")
    # Its code can be used again, as in Lago.
    created = api.post("billable_metrics", {"billable_metric": {"name": "Calls", "code": "api_calls", "aggregation_type": "count_agg"}})
    assert created.status_code == 200, created.content


# --- plans -----------------------------------------------------------------------------------

def test_delete_plan_terminates_bills_and_soft_deletes(api, catalogue, actor):
    customer, plan, metric, charge, sub = catalogue
    ended = periods(sub, until=timezone.now())[-1]
    bill_period(sub, ended, now=timezone.now(), actor=actor)  # a draft (grace period 3 days)
    draft = Invoice.objects.get(subscription=sub, period_from=ended.start)
    b.event(sub, "api_calls", ended.end + timedelta(seconds=1))  # usage of the running period

    response = api.delete("plans/startup")
    assert response.status_code == 200, response.content
    answer = response.json()["plan"]
    assert answer["code"] == "startup" and [c["lago_id"] for c in answer["charges"]] == [str(charge.pk)]
    sub.refresh_from_db()
    assert sub.status == "terminated" and sub.terminated_at is not None
    draft.refresh_from_db()
    assert draft.status == "finalized"
    final = Invoice.objects.get(subscription=sub, period_from=ended.end)
    assert final.fees.filter(charge=charge, units=1).exists()  # billed before the charges went
    assert final.status == "finalized"
    assert Plan.all_objects.get(pk=plan.pk).deleted_at is not None and not Plan.objects.filter(code="startup").exists()
    assert Charge.all_objects.get(pk=charge.pk).deleted_at is not None
    entry = AuditLogEntry.objects.get(action="plan.deleted")
    assert entry.source == "api" and entry.after["terminated_subscriptions"] == ["sub-1"]
    assert_error(api.get("plans/startup"), 404, "plan_not_found")
    assert_error(api.delete("plans/startup"), 404, "plan_not_found")
    assert_error(api.post("subscriptions", {"subscription": {"external_customer_id": "hooli", "plan_code": "startup"}}),
                 404, "plan_not_found")
    # Issued invoices keep their fees and still answer.
    assert api.get(f"invoices/{final.pk}").status_code == 200
    assert Fee.objects.filter(charge=charge).count() >= 1


@pytest.mark.lago_spec
def test_subscription_answer_conforms_to_lagos_spec(api, catalogue):
    assert_conforms("PUT", "/subscriptions/{external_id}", api.put("subscriptions/sub-1", {"subscription": {"name": "Main"}}), status=200)


@pytest.mark.lago_spec
def test_conform_to_lagos_spec(api, catalogue):
    b.metric("count", code="free")
    assert_conforms("PUT", "/subscriptions/{external_id}", api.put("subscriptions/nope", {"subscription": {"name": "x"}}), status=404)
    assert_conforms("PUT", "/subscriptions/{external_id}", api.put("subscriptions/sub-1", {"subscription": {"ending_at": "x"}}),
                    status=422)
    assert_conforms("PUT", "/billable_metrics/{code}",
                    api.put("billable_metrics/free", {"billable_metric": {"name": "F"}}), status=200)
    assert_conforms("PUT", "/billable_metrics/{code}", api.put("billable_metrics/free", {"billable_metric": {"code": "api_calls"}}),
                    status=422)
    assert_conforms("DELETE", "/billable_metrics/{code}", api.delete("billable_metrics/free"), status=200)
    assert_conforms("DELETE", "/billable_metrics/{code}", api.delete("billable_metrics/free"), status=404)
    assert_conforms("DELETE", "/plans/{code}", api.delete("plans/startup"), status=200)
    assert_conforms("DELETE", "/plans/{code}", api.delete("plans/startup"), status=404)
