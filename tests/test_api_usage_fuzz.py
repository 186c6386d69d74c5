"""Events, billable metrics, plans and subscriptions: no value of any type gives a 500, and a refusal writes nothing."""
import pytest

from audit.models import AuditLogEntry
from plans.models import BillableMetric, Charge, Plan
from subscriptions.models import Subscription
from usage.models import Event

from . import billing_factories as b
from . import factories as f
from .test_api_errors import WEIRD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    f.customer(external_id="hooli", currency="USD")
    metric = b.metric("count", code="calls", filters={"region": ["eu"]})
    b.plan(code="basic", currency="USD")
    return metric


def counts():
    return (Event.objects.count(), BillableMetric.objects.count(), Plan.objects.count(), Charge.objects.count(),
            Subscription.objects.count(), AuditLogEntry.objects.count())


def check(response, field, value):
    assert response.status_code in (200, 400, 404, 422), (field, value, response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    return response.status_code == 200


def test_events(api, world):
    base = {"transaction_id": "t", "external_subscription_id": "s", "code": "calls", "timestamp": 1, "properties": {},
            "precise_total_amount_cents": "1"}
    for n, field in enumerate(base):
        for m, value in enumerate(WEIRD):
            item = {**base, field: value, "transaction_id": base["transaction_id"] if field == "transaction_id" else f"t{n}-{m}"}
            before = counts()
            if not check(api.post("events", {"event": item}), field, value):
                assert counts() == before
            item["transaction_id"] = f"b{n}-{m}" if field != "transaction_id" else value
            before = counts()
            if not check(api.post("events/batch", {"events": [item]}), field, value):
                assert counts() == before


def test_billable_metrics(api, world):
    base = {"name": "N", "code": "c", "aggregation_type": "sum_agg", "field_name": "n", "filters": [], "recurring": False,
            "description": "d"}
    for field in base:
        for value in WEIRD:
            before = counts()
            ok = check(api.post("billable_metrics", {"billable_metric": {**base, field: value}}), field, value)
            if ok:
                BillableMetric.objects.filter(code=base["code"] if field != "code" else value).delete()
            else:
                assert counts() == before


def test_plans_and_charges(api, world):
    charge = {"billable_metric_id": str(world.pk), "charge_model": "standard", "properties": {"amount": "1"},
              "filters": [{"values": {"region": ["eu"]}, "properties": {"amount": "2"}}], "invoice_display_name": "x"}
    base = {"name": "P", "code": "p", "interval": "monthly", "amount_cents": 1, "amount_currency": "USD", "pay_in_advance": False,
            "description": "d", "charges": [charge]}
    cases = [({**base, field: value}, field, value) for field in base for value in WEIRD]
    cases += [({**base, "charges": [{**charge, field: value}]}, f"charges.{field}", value) for field in charge for value in WEIRD]
    for body, field, value in cases:
        before = counts()
        if check(api.post("plans", {"plan": body}), field, value):
            Charge.objects.all().delete()
            Plan.objects.exclude(code="basic").delete()
        else:
            assert counts() == before
        before = counts()
        if not check(api.put("plans/basic", {"plan": {k: v for k, v in body.items() if k != "code"}}), field, value):
            assert counts() == before


def test_subscriptions(api, world):
    base = {"external_customer_id": "hooli", "plan_code": "basic", "external_id": "s", "name": "n",
            "subscription_at": "2026-01-01T00:00:00Z", "billing_time": "calendar"}
    for field in base:
        for value in WEIRD:
            before = counts()
            if check(api.post("subscriptions", {"subscription": {**base, field: value}}), field, value):
                Subscription.objects.all().delete()
            else:
                assert counts() == before
    for value in ["", "x" * 5000, "ü", "a b"]:
        check(api.delete(f"subscriptions/{value}") if value else api.get("subscriptions", {"status[]": value}), "path", value)
