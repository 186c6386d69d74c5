"""/subscriptions: create, find, list with filters; DELETE terminates (status, date, final invoice billed)."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from audit.models import AuditLogEntry
from invoices.models import Invoice
from subscriptions.models import Subscription

from . import billing_factories as b
from . import factories as f
from .api_support import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    customer = f.customer(external_id="hooli", currency="")
    plan = b.plan(code="startup", amount_cents=3100, currency="USD")
    b.charge(plan, b.metric("count", code="api_calls"), "standard", {"amount": "2"})
    return customer, plan


def body(**kwargs):
    return {"subscription": {"external_customer_id": "hooli", "plan_code": "startup", "external_id": "sub-1",
                             "subscription_at": "2026-01-01T00:00:00Z", "billing_time": "calendar", **kwargs}}


def test_create_find_list(api, catalogue):
    customer, plan = catalogue
    response = api.post("subscriptions", body(name="Main"))
    assert response.status_code == 200, response.content
    sub = Subscription.objects.get(external_id="sub-1")
    assert (sub.customer, sub.plan, sub.started_at, sub.status) == (customer, plan, datetime(2026, 1, 1, tzinfo=dt_timezone.utc), "active")
    answer = response.json()["subscription"]
    assert answer["lago_id"] == str(sub.pk) and answer["external_customer_id"] == "hooli" and answer["plan_code"] == "startup"
    assert answer["status"] == "active" and answer["subscription_at"] == "2026-01-01T00:00:00Z" and answer["terminated_at"] is None
    customer.refresh_from_db()
    assert customer.currency == "USD"  # a customer without a currency takes the plan's
    assert AuditLogEntry.objects.get(action="subscription.created").actor_label == "api key: integration"
    assert api.get("subscriptions/sub-1").json()["subscription"] == answer
    assert api.post("subscriptions", body()).json()["subscription"]["lago_id"] == str(sub.pk)  # asked again: the same one
    other = f.customer(external_id="other", currency="USD")
    b.subscription(other, plan, external_id="sub-2")
    listed = api.get("subscriptions", {"external_customer_id": "hooli"}).json()
    assert [s["external_id"] for s in listed["subscriptions"]] == ["sub-1"] and listed["meta"]["total_count"] == 1
    assert api.get("subscriptions").json()["meta"]["total_count"] == 2


def test_create_errors_write_nothing(api, catalogue):
    assert_error(api.post("subscriptions", body(external_customer_id="nobody")), 404, "customer_not_found")
    assert_error(api.post("subscriptions", body(plan_code="nope")), 404, "plan_not_found")
    assert_error(api.post("subscriptions", body(billing_time="weekly")), 422, error_details={"billing_time": ["value_is_invalid"]})
    assert_error(api.post("subscriptions", body(subscription_at="tomorrow")), 422, error_details={"subscription_at": ["invalid_date"]})
    assert_error(api.post("subscriptions", {"subscription": {"name": "x"}}), 422)
    f.customer(external_id="euro", currency="EUR")
    assert_error(api.post("subscriptions", body(external_customer_id="euro")), 422,
                 error_details={"currency": ["currencies_does_not_match"]})
    assert not Subscription.objects.exists() and not AuditLogEntry.objects.exists()
    api.post("subscriptions", body())
    f.customer(external_id="third", currency="USD")
    assert_error(api.post("subscriptions", body(external_customer_id="third")), 422, error_details={"external_id": ["value_already_exist"]})


def test_external_id_is_made_up_when_missing(api, catalogue):
    answer = api.post("subscriptions", body(external_id=None)).json()["subscription"]
    assert Subscription.objects.get().external_id == answer["external_id"] and len(answer["external_id"]) == 36


def test_delete_terminates_and_bills_the_final_period(api, catalogue, django_capture_on_commit_callbacks):
    customer, _ = catalogue
    now = datetime.now(dt_timezone.utc)
    api.post("subscriptions", body(subscription_at=(now - timedelta(days=1)).isoformat()))
    api.post("events", {"event": {"transaction_id": "t1", "external_subscription_id": "sub-1", "code": "api_calls",
                                  "timestamp": str((now - timedelta(seconds=60)).timestamp())}})
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete("subscriptions/sub-1")
    assert response.status_code == 200, response.content
    answer = response.json()["subscription"]
    sub = Subscription.objects.get()
    assert sub.status == "terminated" and sub.terminated_at is not None
    assert answer["status"] == "terminated" and answer["terminated_at"] is not None
    entry = AuditLogEntry.objects.get(action="subscription.terminated")
    assert entry.before == {"status": "active"} and entry.after["status"] == "terminated"
    invoice = Invoice.objects.filter(subscription=sub).latest("period_from")  # the final invoice, billed at once
    assert invoice.period_to < sub.terminated_at and sub.terminated_at - invoice.period_to < timedelta(seconds=1)
    charge_fees = [fee for fee in invoice.fees.all() if fee.kind == "charge"]
    assert [(fee.units, fee.amount_cents) for fee in charge_fees] == [(1, 200)]
    assert_error(api.delete("subscriptions/sub-1"), 404, "subscription_not_found")  # only an active one is terminated
    assert_error(api.get("subscriptions/sub-1"), 404, "subscription_not_found")
    assert api.get("subscriptions/sub-1", {"status": "terminated"}).json()["subscription"]["status"] == "terminated"
    assert api.get("subscriptions", {"status[]": "terminated"}).json()["meta"]["total_count"] == 1
    assert api.get("subscriptions").json()["meta"]["total_count"] == 0
