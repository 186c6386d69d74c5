"""Unknown routes and unserved methods are Lago's 404 resource_not_found (Rails has no route for them), never a 405;
issue 10's routes are not swallowed by their neighbours (/invoices/preview is not /invoices/{id})."""
import pytest
from django.urls import get_resolver

from api.openapi import document

from . import factories as f
from .api_support import assert_error

pytestmark = pytest.mark.django_db

NOT_FOUND = {"status": 404, "error": "Not Found", "code": "resource_not_found"}
METHODS = ("get", "post", "put", "delete", "patch")


def _api_patterns():
    """(concrete path, served methods) for every /api/v1 route but the catch-all."""
    [api] = [p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/"]
    seen = set()
    for pattern in api.url_patterns:
        route = str(pattern.pattern)
        handlers = getattr(pattern.callback, "handlers", None)
        if handlers is None or route in seen:  # the catch-all; a route shadowed by issue 10's block
            continue
        seen.add(route)
        concrete = route.replace("<str:", "{").replace(">", "}")
        for name in ("code", "external_id", "invoice_id", "credit_note_id", "transaction_id", "lago_id"):
            concrete = concrete.replace("{" + name + "}", "zz-unknown")
        yield concrete, {m.lower() for m in handlers}


@pytest.mark.parametrize("method,path", [
    ("get", "nope"), ("post", "invoices/zz/unknown_action"), ("get", "invoices/preview"), ("put", "invoices/preview"),
    ("delete", "billing_entities/acme"), ("post", "billing_entities/acme"), ("delete", "organizations"),
    ("patch", "customers/acme"), ("put", "events"), ("delete", "events/batch"), ("get", "credit_notes/estimate"),
    ("post", "customers/zz/current_usage"), ("put", "invoices/zz/void"), ("get", "invoices/zz/finalize"),
    ("post", "plans/zz"), ("put", "subscriptions"), ("delete", "webhooks/json_public_key"),
])
def test_unknown_method_or_route_is_resource_not_found(api, method, path):
    f.billing_entity(code="acme", is_default=True)
    response = api._call(method, path, {})
    body = assert_error(response, 404)
    assert body == NOT_FOUND and "Allow" not in response


def test_no_route_answers_405_for_a_method_it_does_not_serve(api):
    checked = 0
    for path, served in _api_patterns():
        for method in set(METHODS) - served:
            response = api._call(method, path, {})
            assert response.status_code == 404 and response.json() == NOT_FOUND, (method, path, response.content)
            checked += 1
    assert checked > 50


def test_issue_10_routes_are_not_swallowed(api):
    # Their own 404s / 422s / 400s, not an invoice, credit note or customer lookup's.
    assert api.post("invoices/preview", {"customer": {"external_id": "x"}, "plan_code": "p"}).json()["code"] == "customer_not_found"
    assert api.post("credit_notes/estimate", {"credit_note": {"invoice_id": "x"}}).json()["code"] == "invoice_not_found"
    assert api.get("customers/x/current_usage").json()["code"] == "customer_not_found"
    assert api.put("billable_metrics/x", {"billable_metric": {"name": "n"}}).json()["code"] == "billable_metric_not_found"
    assert api.delete("plans/x").json()["code"] == "plan_not_found"
    assert api.put("subscriptions/x", {"subscription": {"name": "n"}}).json()["code"] == "subscription_not_found"
    assert api.put("credit_notes/x", {"credit_note": {"refund_status": "failed"}}).json()["code"] == "credit_note_not_found"
    assert api.get("events").status_code == 200


def test_head_is_served_by_get(api):
    assert api.client.head("/api/v1/events", headers=api.headers).status_code == 200


def test_our_document_lists_the_new_operations():
    paths = document()["paths"]
    assert {"post"} <= set(paths["/invoices/preview"]) and {"post"} <= set(paths["/credit_notes/estimate"])
    assert "get" in paths["/customers/{external_id}/current_usage"] and "get" in paths["/events"]
    assert {"put", "delete"} <= set(paths["/billable_metrics/{code}"]) and "delete" in paths["/plans/{code}"]
    assert "put" in paths["/subscriptions/{external_id}"] and "put" in paths["/credit_notes/{lago_id}"]
    schemas = document()["components"]["schemas"]
    for name in ("InvoicePreviewInput", "CreditNoteEstimateInput", "CreditNoteEstimated", "CustomerUsage", "EventsPaginated",
                 "SubscriptionUpdateInput", "BillableMetricUpdateInput", "CreditNoteUpdateInput"):
        assert name in schemas, name


def test_new_answers_match_our_document(api):
    from datetime import timedelta

    from django.utils import timezone

    from billing_run.current_usage import current_period

    from . import billing_factories as b
    from . import credit_factories as c
    from .test_api_openapi import validate

    entity = f.billing_entity(is_default=True, code="acme")
    customer = f.customer(entity, external_id="hooli", currency="USD")
    plan = b.plan(code="startup", amount_cents=3100, currency="USD")
    b.charge(plan, b.metric("count", code="api_calls"), "standard", {"amount": "2"})
    sub = b.subscription(customer, plan, external_id="sub-1", started_at=timezone.now() - timedelta(days=40))
    b.event(sub, "api_calls", current_period(sub).start + timedelta(seconds=1))
    invoice = c.finalized(customer, fees=[(1, 1000)], taxes=[f.tax(rate="10")])
    fee = invoice.fees.get()
    validate("POST", "/invoices/preview", api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "plan_code": "startup"}))
    validate("POST", "/credit_notes/estimate", api.post("credit_notes/estimate", {"credit_note": {
        "invoice_id": str(invoice.pk), "items": [{"fee_id": str(fee.pk), "amount_cents": 500}]}}))
    validate("GET", "/customers/{external_id}/current_usage", api.get("customers/hooli/current_usage", {"external_subscription_id": "sub-1"}))
    validate("GET", "/events", api.get("events"))
    validate("PUT", "/subscriptions/{external_id}", api.put("subscriptions/sub-1", {"subscription": {"name": "Main"}}))
    validate("PUT", "/billable_metrics/{code}", api.put("billable_metrics/api_calls", {"billable_metric": {"name": "Calls"}}))
    validate("DELETE", "/plans/{code}", api.delete("plans/startup"))
    validate("DELETE", "/billable_metrics/{code}", api.delete("billable_metrics/api_calls"))
