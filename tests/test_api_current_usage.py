"""GET /customers/{external_customer_id}/current_usage: the current period's usage, priced, nothing written."""
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone
from lago_python_client.client import Client

from api.models import ApiKey
from audit.models import AuditLogEntry
from invoices.models import Fee, Invoice
from billing_run.current_usage import current_period

from . import billing_factories as b
from . import factories as f
from .api_support import assert_error
from .lago_spec import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    entity = f.billing_entity(is_default=True, code="acme")
    entity.taxes.add(f.tax(code="vat-10", rate="10"))
    customer = f.customer(entity, external_id="hooli", currency="USD")
    plan = b.plan(code="startup", amount_cents=3100, currency="USD")
    calls = b.charge(plan, b.metric("count", code="api_calls", filters={"region": ["eu", "us"]}), "standard", {"amount": "2"})
    b.charge_filter(calls, {"region": ["eu"]}, {"amount": "3"})
    b.charge(plan, b.metric("sum", "gb", code="storage"), "graduated", {"graduated_ranges": [
        {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
        {"from_value": 10, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"}]})
    b.charge(plan, b.metric("count", code="unused"), "standard", {"amount": "1"})
    sub = b.subscription(customer, plan, external_id="sub-1", started_at=timezone.now() - timedelta(days=100))
    period = current_period(sub)
    at = period.start + timedelta(seconds=5)
    b.event(sub, "api_calls", at, {"region": "eu"})
    b.event(sub, "api_calls", at, {"region": "eu"})
    b.event(sub, "api_calls", at, {"region": "us"})
    b.event(sub, "storage", at, {"gb": "14"})
    b.event(sub, "api_calls", period.start - timedelta(seconds=1))  # the previous period
    return customer, sub, period


def test_current_usage(api, setup):
    customer, sub, period = setup
    before = (Invoice.objects.count(), Fee.objects.count(), AuditLogEntry.objects.count())
    response = api.get("customers/hooli/current_usage", {"external_subscription_id": "sub-1"})
    assert response.status_code == 200, response.content
    usage = response.json()["customer_usage"]
    assert before == (Invoice.objects.count(), Fee.objects.count(), AuditLogEntry.objects.count())
    assert usage["from_datetime"] == period.start.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")
    assert usage["to_datetime"].startswith(period.last_instant.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    assert usage["lago_invoice_id"] is None and usage["currency"] == "USD"
    by_code = {item["billable_metric"]["code"]: item for item in usage["charges_usage"]}
    calls = by_code["api_calls"]
    # eu: 2 x 3.00 (the filter's price), us: 1 x 2.00 (the charge's own price)
    assert calls["units"] == "3.0" and calls["events_count"] == 3 and calls["amount_cents"] == 800
    assert [(x["values"], x["units"], x["amount_cents"]) for x in calls["filters"]] == [({"region": ["eu"]}, "2.0", 600)]
    assert by_code["storage"]["units"] == "14.0" and by_code["storage"]["amount_cents"] == 1200  # 10 x 1 + 4 x 0.5
    assert by_code["unused"]["units"] == "0.0" and by_code["unused"]["amount_cents"] == 0
    assert by_code["storage"]["billable_metric"]["aggregation_type"] == "sum_agg"
    assert usage["amount_cents"] == 2000 and usage["taxes_amount_cents"] == 200 and usage["total_amount_cents"] == 2200
    no_taxes = api.get("customers/hooli/current_usage", {"external_subscription_id": "sub-1", "apply_taxes": "false"}).json()
    assert no_taxes["customer_usage"]["taxes_amount_cents"] == 0 and no_taxes["customer_usage"]["total_amount_cents"] == 2000


def test_errors(api, setup):
    assert_error(api.get("customers/nobody/current_usage", {"external_subscription_id": "sub-1"}), 404, "customer_not_found")
    assert_error(api.get("customers/hooli/current_usage", {"external_subscription_id": "nope"}), 404, "subscription_not_found")
    assert_error(api.get("customers/hooli/current_usage"), 404, "subscription_not_found")
    other = f.customer(external_id="other")
    assert_error(api.get(f"customers/{other.external_id}/current_usage", {"external_subscription_id": "sub-1"}), 404,
                 "subscription_not_found")


def test_lago_client(live_server, transactional_db):
    entity = f.billing_entity(is_default=True, code="acme")
    customer = f.customer(entity, external_id="hooli", currency="USD")
    plan = b.plan(code="startup", amount_cents=100, currency="USD")
    b.charge(plan, b.metric("count", code="api_calls"), "standard", {"amount": "2"})
    sub = b.subscription(customer, plan, external_id="sub-1", started_at=timezone.now() - timedelta(days=40))
    b.event(sub, "api_calls", current_period(sub).start + timedelta(seconds=1))
    _, raw = ApiKey.issue("lago-client")
    usage = Client(api_key=raw, api_url=live_server.url).customers.current_usage("hooli", "sub-1")
    assert usage.amount_cents == 200 and usage.charges_usage[0].units == "1.0"


@pytest.mark.lago_spec
def test_conforms_to_lagos_spec(api, setup):
    assert_conforms("GET", "/customers/{external_customer_id}/current_usage",
                    api.get("customers/hooli/current_usage", {"external_subscription_id": "sub-1"}), status=200)
    assert_conforms("GET", "/customers/{external_customer_id}/current_usage",
                    api.get("customers/nobody/current_usage", {"external_subscription_id": "sub-1"}), status=404)
