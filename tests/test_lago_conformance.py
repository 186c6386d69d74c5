"""Every operation /api/v1 serves, judged by Lago's own OpenAPI document (issue 10).

Each answer here is a real one, made through the API (and, for subscription invoices, the billing
run the schedule would trigger), and validated with tests/lago_spec.py against the operation's
documented answer for its status: successes and the documented error answers (401, 404, 405, 422).
`test_every_route_is_covered` holds the list honest: each (method, route) of api/urls.py is either
checked below (ROUTES) or listed in NOT_IN_LAGO with the reason.

Where Lago's file disagrees with Lago's server and official client (shared/reference/lago-api-contract.md
§9), we follow the server: the billing-entity answers are wrapped in `billing_entity` there, so their
object is judged against the spec's unwrapped schema (`conforms_unwrapped`).
"""
import re
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

import pytest
from django.urls import URLPattern

from api import urls as api_urls
from billing_run.billing import run_billing

from . import lago_spec
from .api_support import ApiClient

pytestmark = [pytest.mark.lago_spec, pytest.mark.django_db]

# (METHOD, our route) → Lago's path template.
ROUTES = {
    ("GET", "billing_entities"): "/billing_entities",
    ("POST", "billing_entities"): "/billing_entities",
    ("GET", "billing_entities/<str:code>"): "/billing_entities/{code}",
    ("PUT", "billing_entities/<str:code>"): "/billing_entities/{code}",
    ("PUT", "organizations"): "/organizations",
    ("GET", "customers"): "/customers",
    ("POST", "customers"): "/customers",
    ("GET", "customers/<str:external_id>"): "/customers/{external_customer_id}",
    ("DELETE", "customers/<str:external_id>"): "/customers/{external_customer_id}",
    ("GET", "add_ons"): "/add_ons",
    ("POST", "add_ons"): "/add_ons",
    ("GET", "add_ons/<str:code>"): "/add_ons/{code}",
    ("PUT", "add_ons/<str:code>"): "/add_ons/{code}",
    ("DELETE", "add_ons/<str:code>"): "/add_ons/{code}",
    ("GET", "invoices"): "/invoices",
    ("POST", "invoices"): "/invoices",
    ("GET", "invoices/<str:invoice_id>"): "/invoices/{lago_id}",
    ("PUT", "invoices/<str:invoice_id>"): "/invoices/{lago_id}",
    ("DELETE", "invoices/<str:invoice_id>"): "/invoices/{lago_id}",
    ("PUT", "invoices/<str:invoice_id>/finalize"): "/invoices/{lago_id}/finalize",
    ("POST", "invoices/<str:invoice_id>/download"): "/invoices/{lago_id}/download",
    ("POST", "invoices/<str:invoice_id>/void"): "/invoices/{lago_id}/void",
    ("PUT", "invoices/<str:invoice_id>/refresh"): "/invoices/{lago_id}/refresh",
    ("GET", "coupons"): "/coupons",
    ("POST", "coupons"): "/coupons",
    ("GET", "coupons/<str:code>"): "/coupons/{code}",
    ("PUT", "coupons/<str:code>"): "/coupons/{code}",
    ("DELETE", "coupons/<str:code>"): "/coupons/{code}",
    ("GET", "applied_coupons"): "/applied_coupons",
    ("POST", "applied_coupons"): "/applied_coupons",
    ("GET", "credit_notes"): "/credit_notes",
    ("POST", "credit_notes"): "/credit_notes",
    ("GET", "credit_notes/<str:credit_note_id>"): "/credit_notes/{lago_id}",
    ("PUT", "credit_notes/<str:credit_note_id>/void"): "/credit_notes/{lago_id}/void",
    ("POST", "credit_notes/<str:credit_note_id>/download"): "/credit_notes/{lago_id}/download",
    ("POST", "events"): "/events",
    ("POST", "events/batch"): "/events/batch",
    ("GET", "events/<str:transaction_id>"): "/events/{transaction_id}",
    ("GET", "billable_metrics"): "/billable_metrics",
    ("POST", "billable_metrics"): "/billable_metrics",
    ("GET", "billable_metrics/<str:code>"): "/billable_metrics/{code}",
    ("GET", "plans"): "/plans",
    ("POST", "plans"): "/plans",
    ("GET", "plans/<str:code>"): "/plans/{code}",
    ("PUT", "plans/<str:code>"): "/plans/{code}",
    ("GET", "subscriptions"): "/subscriptions",
    ("POST", "subscriptions"): "/subscriptions",
    ("GET", "subscriptions/<str:external_id>"): "/subscriptions/{external_id}",
    ("DELETE", "subscriptions/<str:external_id>"): "/subscriptions/{external_id}",
    ("GET", "webhook_endpoints"): "/webhook_endpoints",
    ("POST", "webhook_endpoints"): "/webhook_endpoints",
    ("GET", "webhook_endpoints/<str:lago_id>"): "/webhook_endpoints/{lago_id}",
    ("PUT", "webhook_endpoints/<str:lago_id>"): "/webhook_endpoints/{lago_id}",
    ("DELETE", "webhook_endpoints/<str:lago_id>"): "/webhook_endpoints/{lago_id}",
    ("GET", "webhooks/json_public_key"): "/webhooks/json_public_key",
    ("GET", "webhooks/public_key"): "/webhooks/public_key",
}

ROUTES.update({  # issue 10, part A: checked in their own modules (tests/test_api_taxes.py, _wallets, _fees, …)
    ("GET", "taxes"): "/taxes", ("POST", "taxes"): "/taxes",
    ("GET", "taxes/<str:code>"): "/taxes/{code}", ("PUT", "taxes/<str:code>"): "/taxes/{code}",
    ("DELETE", "taxes/<str:code>"): "/taxes/{code}",
    ("GET", "wallets"): "/wallets", ("POST", "wallets"): "/wallets",
    ("GET", "wallets/<str:lago_id>"): "/wallets/{lago_id}", ("PUT", "wallets/<str:lago_id>"): "/wallets/{lago_id}",
    ("DELETE", "wallets/<str:lago_id>"): "/wallets/{lago_id}",
    ("GET", "wallets/<str:lago_id>/wallet_transactions"): "/wallets/{lago_id}/wallet_transactions",
    ("POST", "wallet_transactions"): "/wallet_transactions",
    ("GET", "fees"): "/fees", ("GET", "fees/<str:lago_id>"): "/fees/{lago_id}",
    ("PUT", "fees/<str:lago_id>"): "/fees/{lago_id}", ("DELETE", "fees/<str:lago_id>"): "/fees/{lago_id}",
    ("GET", "customers/<str:external_customer_id>/invoices"): "/customers/{external_customer_id}/invoices",
    ("GET", "customers/<str:external_customer_id>/credit_notes"): "/customers/{external_customer_id}/credit_notes",
    ("GET", "customers/<str:external_customer_id>/subscriptions"): "/customers/{external_customer_id}/subscriptions",
    ("GET", "customers/<str:external_customer_id>/applied_coupons"): "/customers/{external_customer_id}/applied_coupons",
    ("DELETE", "customers/<str:external_customer_id>/applied_coupons/<str:applied_coupon_id>"):
        "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
    ("GET", "activity_logs"): "/activity_logs", ("GET", "activity_logs/<str:activity_id>"): "/activity_logs/{activity_id}",
    # part B: tests/test_api_preview.py, _credit_note_estimate, _current_usage, _catalog_updates, _events_list, _credit_note_update
    ("POST", "invoices/preview"): "/invoices/preview",
    ("POST", "credit_notes/estimate"): "/credit_notes/estimate",
    ("GET", "customers/<str:external_id>/current_usage"): "/customers/{external_customer_id}/current_usage",
    ("PUT", "credit_notes/<str:credit_note_id>"): "/credit_notes/{lago_id}",
    ("GET", "events"): "/events",
    ("PUT", "billable_metrics/<str:code>"): "/billable_metrics/{code}",
    ("DELETE", "billable_metrics/<str:code>"): "/billable_metrics/{code}",
    ("DELETE", "plans/<str:code>"): "/plans/{code}",
    ("PUT", "subscriptions/<str:external_id>"): "/subscriptions/{external_id}",
})

NOT_IN_LAGO = {
    ("GET", "openapi.json"): "our own OpenAPI document (api/openapi.py); Lago serves none",
    ("GET", "organizations"): "Lago's file documents only PUT /organizations; GET answers the same Organization object "
                              "(checked against OrganizationObject in test_organization)",
    ("*", "^(?P<rest>.*)$"): "the catch-all answering Lago's 404 resource_not_found for unknown routes "
                             "(checked against ApiErrorNotFound in test_unknown_route_and_auth)",
}


def check(method, template, response, status=200):
    """assert_conforms, with the documented template spelled out at every call (test_every_route_is_covered reads
    them); the same answer is then checked against our own document (api/openapi.py), which must describe it too."""
    body = lago_spec.assert_conforms(method, template, response, status=status)
    conforms_to_ours(method, template, status, body)
    return body


OUR_DOC = None


def conforms_to_ours(method, template, status, body):
    import jsonschema

    from api.openapi import document

    global OUR_DOC
    OUR_DOC = OUR_DOC or document()
    ours = OUR_DOC["paths"][template.replace("{external_customer_id}", "{external_id}")][method.lower()]
    answer = ours["responses"].get(str(status))
    assert answer is not None, f"api/openapi.py documents no {status} for {method} {template}"
    content = answer["content"].get("application/json")
    if content is None or body is None:
        return
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": OUR_DOC["components"], **content["schema"]}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(body))
    assert not errors, f"{method} {template} {status} vs api/openapi.py: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:10])


def conforms_unwrapped(method, template, response, key, status=200):
    """Billing entities: Lago's server and client wrap the object in `key`; its file does not (contract §9.1)."""
    assert response.status_code == status, response.content
    body = response.json()
    lago_spec.assert_conforms(method, template, (status, body[key]), status=status)
    conforms_to_ours(method, template, status, body)
    return body


def conforms_schema(name, value):
    """Validate a value against one of Lago's component schemas."""
    import jsonschema
    validator = jsonschema.Draft202012Validator({"$ref": f"{lago_spec.SPEC_URI}#/components/schemas/{name}"},
                                                registry=lago_spec._registry())
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:25])


def unix(*args):
    return str(int(datetime(*args, tzinfo=dt_timezone.utc).timestamp()))


# --- the scenario, built through the API ------------------------------------------------------

CUSTOMER = {
    "external_id": "hooli", "name": "Hooli", "firstname": "Gavin", "lastname": "Belson", "account_type": "customer",
    "customer_type": "company", "email": "billing@hooli.example", "currency": "USD", "country": "US",
    "address_line1": "1 Hacker Way", "city": "Palo Alto", "zipcode": "94025", "logo_url": "https://hooli.example/logo.png",
    "timezone": "America/Los_Angeles", "net_payment_term": 30,
    "shipping_address": {"address_line1": "2 Dock St", "city": "Oakland", "zipcode": "94607", "country": "US"},
    "billing_configuration": {"invoice_grace_period": 0, "document_locale": "fr", "payment_provider": "stripe",
                              "payment_provider_code": "stripe-main", "provider_customer_id": "cus_123", "sync": True,
                              "sync_with_provider": True, "provider_payment_methods": ["card", "sepa_debit"]},
    "metadata": [{"key": "vat_note", "value": "reverse charge", "display_in_invoice": True},
                 {"key": "crm_id", "value": "42", "display_in_invoice": False}],
}


def customer(api, **overrides):
    response = api.post("customers", {"customer": {**CUSTOMER, **overrides}})
    assert response.status_code == 200, response.content
    return response


def add_on(api, code="setup", amount_cents=50000):
    return api.post("add_ons", {"add_on": {"name": "Setup", "code": code, "amount_cents": amount_cents,
                                           "amount_currency": "USD", "description": "One-time setup"}})


def one_off(api, external_customer_id="hooli", code="setup", units=1):
    response = api.post("invoices", {"invoice": {"external_customer_id": external_customer_id, "currency": "USD",
                                                 "fees": [{"add_on_code": code, "units": units}]}})
    assert response.status_code == 200, response.content
    return response


def usage_catalogue(api):
    metric = api.post("billable_metrics", {"billable_metric": {
        "name": "API calls", "code": "api_calls", "aggregation_type": "count_agg",
        "filters": [{"key": "region", "values": ["eu", "us"]}]}})
    assert metric.status_code == 200, metric.content
    plan = api.post("plans", {"plan": {
        "name": "Startup", "code": "startup", "interval": "monthly", "amount_cents": 3100, "amount_currency": "USD",
        "pay_in_advance": False,
        "charges": [{"billable_metric_id": metric.json()["billable_metric"]["lago_id"], "charge_model": "standard",
                     "properties": {"amount": "2"},
                     "filters": [{"values": {"region": ["eu"]}, "properties": {"amount": "3"}, "invoice_display_name": "EU"}]}]}})
    assert plan.status_code == 200, plan.content
    return metric, plan


def subscription(api, external_id="sub-1", external_customer_id="hooli"):
    response = api.post("subscriptions", {"subscription": {
        "external_customer_id": external_customer_id, "plan_code": "startup", "external_id": external_id,
        "subscription_at": "2025-01-01T08:00:00Z", "billing_time": "calendar"}})
    assert response.status_code == 200, response.content
    return response


def billed_subscription(api, settings, *, grace=0):
    """A subscription invoice made as the schedule makes it: API writes, then the billing run."""
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    customer(api, billing_configuration={**CUSTOMER["billing_configuration"], "invoice_grace_period": grace})
    usage_catalogue(api)
    subscription(api)
    for i, region in enumerate(["eu", "us", "us"]):
        assert api.post("events", {"event": {"transaction_id": f"tx-{i}", "external_subscription_id": "sub-1",
                                             "code": "api_calls", "timestamp": unix(2025, 1, 10 + i),
                                             "properties": {"region": region}}}).status_code == 200
    run_billing(datetime(2025, 2, 2, tzinfo=dt_timezone.utc))
    listed = api.get("invoices", {"external_customer_id": "hooli", "invoice_type": "subscription"}).json()["invoices"]
    assert len(listed) == 1, listed
    return listed[0]["lago_id"]


# --- the coverage of the module ----------------------------------------------------------------

def _routes():
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        handlers = getattr(pattern.callback, "handlers", None)
        for method in (handlers or {"*": None}):
            yield method, route


def test_every_route_is_covered():
    """Every served (method, route) is checked against Lago's spec by a lago_spec test, here or in the resource's
    own test module (found by its literal template), or listed in NOT_IN_LAGO with the reason."""
    source = "\n".join(path.read_text() for path in sorted(Path(__file__).parent.glob("test_*.py")))
    served = set(_routes())
    known = set(ROUTES) | set(NOT_IN_LAGO)
    assert served == known, f"not covered: {sorted(served - known)}; gone: {sorted(known - served)}"
    for (method, _), template in ROUTES.items():
        lago_spec.operation(method, template)  # Lago documents it
        call = rf'(check|conforms_unwrapped|assert_conforms)\(\s*"{method}",\s*"{re.escape(template)}"'
        spelled = rf'\("{method}", "{re.escape(template)}"\)'  # a parametrized (method, template) pair
        assert re.search(call, source) or re.search(spelled, source), f"{method} {template} is never checked"


# --- billing entities, organization ------------------------------------------------------------

def test_billing_entities(api):
    listed = api.get("billing_entities")
    code = listed.json()["billing_entities"][0]["code"]
    check("GET", "/billing_entities", listed)
    check("GET", "/billing_entities/{code}", api.get(f"billing_entities/{code}"))
    conforms_unwrapped("PUT", "/billing_entities/{code}", api.put(f"billing_entities/{code}", {"billing_entity": {
        "name": "Acme", "email": "billing@acme.example", "billing_configuration": {"invoice_grace_period": 2,
                                                                                  "document_locale": "fr"}}}), "billing_entity")
    conforms_unwrapped("POST", "/billing_entities", api.post("billing_entities", {"billing_entity": {
        "code": "acme-eu", "name": "Acme EU", "default_currency": "EUR"}}), "billing_entity")  # no country: left out
    conforms_unwrapped("POST", "/billing_entities", api.post("billing_entities", {"billing_entity": {
        "code": "acme-fr", "name": "Acme FR", "default_currency": "EUR", "country": "FR"}}), "billing_entity")
    check("GET", "/billing_entities", api.get("billing_entities"))
    check("GET", "/billing_entities/{code}", api.get("billing_entities/nope"), 404)
    check("PUT", "/billing_entities/{code}", api.put("billing_entities/nope", {"billing_entity": {"name": "X"}}), 404)
    check("PUT", "/billing_entities/{code}", api.put(f"billing_entities/{code}", {"billing_entity": {"net_payment_term": -1}}), 422)
    check("POST", "/billing_entities", api.post("billing_entities", {"billing_entity": {"code": "acme-eu", "name": "Again"}}), 422)
    check("POST", "/billing_entities", api.post("billing_entities", {"nope": {}}), 400)


def test_organization(api):
    updated = check("PUT", "/organizations", api.put("organizations", {"organization": {
        "default_currency": "USD", "email": "org@acme.example",
        "billing_configuration": {"invoice_footer": "Thanks", "invoice_grace_period": 1, "document_locale": "en"}}}))
    conforms_schema("OrganizationObject", api.get("organizations").json()["organization"])
    assert updated["organization"]["email"] == "org@acme.example"
    check("PUT", "/organizations", api.put("organizations", {"organization": {"net_payment_term": "soon"}}), 422)


# --- customers ---------------------------------------------------------------------------------

def test_customers(api):
    created = check("POST", "/customers", customer(api))["customer"]
    assert [(m["key"], m["value"], m["display_in_invoice"]) for m in created["metadata"]] == [
        ("vat_note", "reverse charge", True), ("crm_id", "42", False)]
    check("GET", "/customers/{external_customer_id}", api.get("customers/hooli"))
    check("GET", "/customers", api.get("customers", {"search_term": "hoo"}))
    check("POST", "/customers", api.post("customers", {"customer": {"external_id": "x", "finalize_zero_amount_invoice": True}}), 422)
    check("POST", "/customers", api.post("customers", {"client": {}}), 400)
    check("GET", "/customers/{external_customer_id}", api.get("customers/nobody"), 404)
    check("DELETE", "/customers/{external_customer_id}", api.delete("customers/hooli"))
    check("DELETE", "/customers/{external_customer_id}", api.delete("customers/hooli"), 404)


# --- add-ons -----------------------------------------------------------------------------------

def test_add_ons(api):
    check("POST", "/add_ons", add_on(api))
    check("POST", "/add_ons", add_on(api), 422)
    check("POST", "/add_ons", api.post("add_ons", {"addon": {}}), 400)
    check("GET", "/add_ons/{code}", api.get("add_ons/setup"))
    check("GET", "/add_ons", api.get("add_ons"))
    check("PUT", "/add_ons/{code}", api.put("add_ons/setup", {"add_on": {"name": "Setup fee", "amount_cents": 60000}}))
    check("PUT", "/add_ons/{code}", api.put("add_ons/setup", {"add_on": {"amount_cents": "lots"}}), 422)
    check("PUT", "/add_ons/{code}", api.put("add_ons/nope", {"add_on": {"name": "X"}}), 404)
    check("DELETE", "/add_ons/{code}", api.delete("add_ons/setup"))
    check("GET", "/add_ons/{code}", api.get("add_ons/setup"), 404)
    check("DELETE", "/add_ons/{code}", api.delete("add_ons/setup"), 404)


# --- invoices ----------------------------------------------------------------------------------

def test_one_off_invoice(api):
    customer(api)
    add_on(api)
    created = check("POST", "/invoices", one_off(api))["invoice"]
    fee = created["fees"][0]
    assert (fee["precise_unit_amount"], fee["precise_amount"]) == ("500.0", "500.0")  # major units, as Lago
    check("GET", "/invoices/{lago_id}", api.get(f"invoices/{created['lago_id']}"))
    check("GET", "/invoices", api.get("invoices"))
    check("GET", "/invoices", api.get("invoices", {"external_customer_id": "hooli", "statuses[]": "finalized"}))
    check("PUT", "/invoices/{lago_id}", api.put(f"invoices/{created['lago_id']}", {"invoice": {
        "payment_status": "succeeded", "metadata": [{"key": "po", "value": "PO-7"}]}}))
    check("PUT", "/invoices/{lago_id}", api.put(f"invoices/{created['lago_id']}", {"invoice": {"payment_status": "paid"}}), 422)
    check("PUT", "/invoices/{lago_id}", api.put("invoices/00000000-0000-0000-0000-000000000000",
                                               {"invoice": {"payment_status": "succeeded"}}), 404)
    check("GET", "/invoices/{lago_id}", api.get("invoices/00000000-0000-0000-0000-000000000000"), 404)
    unknown = api.post("invoices", {"invoice": {"external_customer_id": "nobody", "currency": "USD",
                                                "fees": [{"add_on_code": "setup"}]}})
    assert unknown.status_code == 404  # Lago's server answers it; its file documents no 404 here
    conforms_schema("ApiErrorNotFound", unknown.json())
    check("POST", "/invoices", api.post("invoices", {"invoice": {"external_customer_id": "hooli", "currency": "USD",
                                                                 "fees": [{"add_on_code": "setup", "units": "many"}]}}), 422)
    check("POST", "/invoices", api.post("invoices", {"bill": {}}), 400)
    check("DELETE", "/invoices/{lago_id}", api.delete(f"invoices/{created['lago_id']}"), 405)
    check("DELETE", "/invoices/{lago_id}", api.delete("invoices/00000000-0000-0000-0000-000000000000"), 404)
    check("PUT", "/invoices/{lago_id}/finalize", api.put(f"invoices/{created['lago_id']}/finalize"), 404)
    check("PUT", "/invoices/{lago_id}/refresh", api.put("invoices/00000000-0000-0000-0000-000000000000/refresh"), 404)
    check("POST", "/invoices/{lago_id}/download", api.post("invoices/00000000-0000-0000-0000-000000000000/download"), 404)
    check("POST", "/invoices/{lago_id}/void", api.post("invoices/00000000-0000-0000-0000-000000000000/void"), 404)
    voided = check("POST", "/invoices/{lago_id}/void", api.post(f"invoices/{created['lago_id']}/void"))["invoice"]
    assert voided["status"] == "voided"


def test_subscription_invoice_draft_refresh_finalize_download(api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice_id = billed_subscription(api, settings, grace=3)
    draft = check("GET", "/invoices/{lago_id}", api.get(f"invoices/{invoice_id}"))["invoice"]
    assert draft["status"] == "draft"
    assert [s["external_id"] for s in draft["subscriptions"]] == ["sub-1"]
    assert len(draft["billing_periods"]) == 1
    check("PUT", "/invoices/{lago_id}/refresh", api.put(f"invoices/{invoice_id}/refresh"))
    finalized = check("PUT", "/invoices/{lago_id}/finalize", api.put(f"invoices/{invoice_id}/finalize"))["invoice"]
    assert finalized["status"] == "finalized"
    settings.INVOICE_PDF_AFTER_FINALIZATION = True
    response = api.post(f"invoices/{invoice_id}/download")
    if response.content:  # django-q2 sync mode renders it at once
        check("POST", "/invoices/{lago_id}/download", response)
    else:
        again = api.post(f"invoices/{invoice_id}/download")
        check("POST", "/invoices/{lago_id}/download", again)


def test_subscription_invoice_fees(api, settings):
    invoice_id = billed_subscription(api, settings)
    invoice = check("GET", "/invoices/{lago_id}", api.get(f"invoices/{invoice_id}"))["invoice"]
    assert invoice["status"] == "finalized"
    by_type = {}
    for fee in invoice["fees"]:
        by_type.setdefault(fee["item"]["type"], []).append(fee)
    assert {"subscription", "charge"} <= set(by_type)
    period = invoice["billing_periods"][0]
    assert period["lago_subscription_id"] == invoice["subscriptions"][0]["lago_id"]
    assert period["invoicing_reason"] == "subscription_periodic"


def test_draft_delete(api, settings):
    invoice_id = billed_subscription(api, settings, grace=3)
    check("DELETE", "/invoices/{lago_id}", api.delete(f"invoices/{invoice_id}"))


# --- coupons -----------------------------------------------------------------------------------

COUPON = {"coupon": {"name": "Welcome", "code": "welcome", "coupon_type": "fixed_amount", "amount_cents": 1000,
                     "amount_currency": "USD", "frequency": "once", "expiration": "no_expiration", "reusable": True}}


def test_coupons_and_applied_coupons(api):
    customer(api)
    check("POST", "/coupons", api.post("coupons", COUPON))
    check("POST", "/coupons", api.post("coupons", COUPON), 422)
    check("POST", "/coupons", api.post("coupons", {"cpn": {}}), 400)
    check("GET", "/coupons/{code}", api.get("coupons/welcome"))
    check("GET", "/coupons/{code}", api.get("coupons/nope"), 404)
    check("GET", "/coupons", api.get("coupons"))
    check("PUT", "/coupons/{code}", api.put("coupons/welcome", {"coupon": {"name": "Welcome!"}}))
    check("PUT", "/coupons/{code}", api.put("coupons/nope", {"coupon": {"name": "N"}}), 404)
    check("PUT", "/coupons/{code}", api.put("coupons/welcome", {"coupon": {"amount_cents": "ten"}}), 422)
    check("POST", "/applied_coupons", api.post("applied_coupons", {"applied_coupon": {
        "external_customer_id": "hooli", "coupon_code": "welcome"}}))
    check("POST", "/applied_coupons", api.post("applied_coupons", {"applied_coupon": {
        "external_customer_id": "nobody", "coupon_code": "welcome"}}), 404)
    check("POST", "/applied_coupons", api.post("applied_coupons", {"applied_coupon": {"coupon_code": "welcome"}}), 422)
    check("GET", "/applied_coupons", api.get("applied_coupons", {"external_customer_id": "hooli"}))
    check("DELETE", "/coupons/{code}", api.delete("coupons/welcome"))
    check("DELETE", "/coupons/{code}", api.delete("coupons/welcome"), 404)


# --- credit notes ------------------------------------------------------------------------------

def test_credit_notes(api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    customer(api)
    add_on(api)
    invoice = one_off(api).json()["invoice"]
    fee = invoice["fees"][0]
    body = {"credit_note": {"invoice_id": invoice["lago_id"], "reason": "order_change", "description": "Too much",
                            "items": [{"fee_id": fee["lago_id"], "amount_cents": 1000}], "credit_amount_cents": 1000,
                            "metadata": {"ticket": "T-1"}}}
    note = check("POST", "/credit_notes", api.post("credit_notes", body))["credit_note"]
    check("POST", "/credit_notes", api.post("credit_notes", {**body, "credit_note": {**body["credit_note"], "reason": "why"}}), 422)
    check("POST", "/credit_notes", api.post("credit_notes", {"note": {}}), 400)
    check("GET", "/credit_notes/{lago_id}", api.get(f"credit_notes/{note['lago_id']}"))
    check("GET", "/credit_notes/{lago_id}", api.get(f"credit_notes/{invoice['lago_id']}"), 404)
    check("GET", "/credit_notes", api.get("credit_notes", {"external_customer_id": "hooli"}))
    response = api.post(f"credit_notes/{note['lago_id']}/download")
    if not response.content:
        response = api.post(f"credit_notes/{note['lago_id']}/download")
    check("POST", "/credit_notes/{lago_id}/download", response)
    check("POST", "/credit_notes/{lago_id}/download", api.post(f"credit_notes/{invoice['lago_id']}/download"), 404)
    check("PUT", "/credit_notes/{lago_id}/void", api.put(f"credit_notes/{note['lago_id']}/void"))
    check("PUT", "/credit_notes/{lago_id}/void", api.put(f"credit_notes/{note['lago_id']}/void"), 405)
    check("PUT", "/credit_notes/{lago_id}/void", api.put(f"credit_notes/{invoice['lago_id']}/void"), 404)


# --- usage: events, metrics, plans, subscriptions --------------------------------------------------

def test_events(api):
    customer(api)
    usage_catalogue(api)
    subscription(api)
    event = {"transaction_id": "tx-1", "external_subscription_id": "sub-1", "code": "api_calls",
             "timestamp": unix(2025, 1, 2), "properties": {"region": "eu"}}
    check("POST", "/events", api.post("events", {"event": event}))
    check("POST", "/events", api.post("events", {"event": event}), 422)
    check("POST", "/events", api.post("events", {"evt": {}}), 400)
    check("GET", "/events/{transaction_id}", api.get("events/tx-1"))
    check("GET", "/events/{transaction_id}", api.get("events/nope"), 404)
    batch = [{**event, "transaction_id": f"b-{i}"} for i in range(2)]
    check("POST", "/events/batch", api.post("events/batch", {"events": batch}))
    check("POST", "/events/batch", api.post("events/batch", {"events": batch}), 422)
    check("POST", "/events/batch", api.post("events/batch", {"events": []}), 422)


def test_billable_metrics_and_plans(api):
    metric, plan = usage_catalogue(api)
    check("POST", "/billable_metrics", metric)
    check("POST", "/billable_metrics", api.post("billable_metrics", {"billable_metric": {
        "name": "API calls", "code": "api_calls", "aggregation_type": "count_agg"}}), 422)
    check("POST", "/billable_metrics", api.post("billable_metrics", {"metric": {}}), 400)
    check("GET", "/billable_metrics/{code}", api.get("billable_metrics/api_calls"))
    check("GET", "/billable_metrics/{code}", api.get("billable_metrics/nope"), 404)
    check("GET", "/billable_metrics", api.get("billable_metrics"))
    check("POST", "/plans", plan)
    check("POST", "/plans", api.post("plans", {"plan": {"name": "X", "code": "startup", "interval": "monthly",
                                                        "amount_cents": 0, "amount_currency": "USD"}}), 422)
    check("POST", "/plans", api.post("plans", {"pln": {}}), 400)
    check("GET", "/plans/{code}", api.get("plans/startup"))
    check("GET", "/plans/{code}", api.get("plans/nope"), 404)
    check("GET", "/plans", api.get("plans"))
    check("PUT", "/plans/{code}", api.put("plans/startup", {"plan": {"name": "Startup 2", "description": "Better"}}))
    check("PUT", "/plans/{code}", api.put("plans/nope", {"plan": {"name": "X"}}), 404)
    check("PUT", "/plans/{code}", api.put("plans/startup", {"plan": {"interval": "hourly"}}), 422)


def test_subscriptions(api, settings, django_capture_on_commit_callbacks):
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    customer(api)
    usage_catalogue(api)
    check("POST", "/subscriptions", subscription(api))
    check("POST", "/subscriptions", api.post("subscriptions", {"subscription": {
        "external_customer_id": "nobody", "plan_code": "startup"}}), 404)
    check("POST", "/subscriptions", api.post("subscriptions", {"subscription": {
        "external_customer_id": "hooli", "plan_code": "startup", "billing_time": "weekly"}}), 422)
    check("POST", "/subscriptions", api.post("subscriptions", {"sub": {}}), 400)
    check("GET", "/subscriptions/{external_id}", api.get("subscriptions/sub-1"))
    check("GET", "/subscriptions/{external_id}", api.get("subscriptions/nope"), 404)
    check("GET", "/subscriptions", api.get("subscriptions", {"external_customer_id": "hooli"}))
    with django_capture_on_commit_callbacks(execute=True):
        check("DELETE", "/subscriptions/{external_id}", api.delete("subscriptions/sub-1"))
    check("DELETE", "/subscriptions/{external_id}", api.delete("subscriptions/sub-1"), 404)


# --- webhooks ----------------------------------------------------------------------------------

def test_webhook_endpoints_and_public_key(api):
    created = check("POST", "/webhook_endpoints", api.post("webhook_endpoints", {"webhook_endpoint": {
        "webhook_url": "https://hooks.example.com/lago", "signature_algo": "hmac", "name": "ERP"}}))["webhook_endpoint"]
    check("POST", "/webhook_endpoints", api.post("webhook_endpoints", {"webhook_endpoint": {
        "webhook_url": "https://hooks.example.com/lago"}}), 422)
    check("POST", "/webhook_endpoints", api.post("webhook_endpoints", {"hook": {}}), 400)
    check("GET", "/webhook_endpoints/{lago_id}", api.get(f"webhook_endpoints/{created['lago_id']}"))
    check("GET", "/webhook_endpoints/{lago_id}", api.get("webhook_endpoints/00000000-0000-0000-0000-000000000000"), 404)
    check("GET", "/webhook_endpoints", api.get("webhook_endpoints"))
    check("PUT", "/webhook_endpoints/{lago_id}", api.put(f"webhook_endpoints/{created['lago_id']}", {"webhook_endpoint": {
        "webhook_url": "https://hooks.example.com/lago2", "signature_algo": "jwt"}}))
    check("PUT", "/webhook_endpoints/{lago_id}", api.put(f"webhook_endpoints/{created['lago_id']}", {"webhook_endpoint": {
        "signature_algo": "md5"}}), 422)
    check("PUT", "/webhook_endpoints/{lago_id}", api.put("webhook_endpoints/00000000-0000-0000-0000-000000000000",
                                                         {"webhook_endpoint": {"name": "x"}}), 404)
    check("DELETE", "/webhook_endpoints/{lago_id}", api.delete(f"webhook_endpoints/{created['lago_id']}"))
    check("DELETE", "/webhook_endpoints/{lago_id}", api.delete(f"webhook_endpoints/{created['lago_id']}"), 404)
    check("GET", "/webhooks/json_public_key", api.get("webhooks/json_public_key"))
    response = api.get("webhooks/public_key")  # text/plain: Lago documents no JSON body
    check("GET", "/webhooks/public_key", (response.status_code, None))


# --- transport: 401 everywhere, unknown routes -----------------------------------------------------

def test_unknown_route_and_auth(api):
    response = api.get("nothing/here")
    assert response.status_code == 404
    conforms_schema("ApiErrorNotFound", response.json())
    anonymous = ApiClient(None)
    for (method, route), template in ROUTES.items():
        path = re.sub(r"<str:[^>]+>", "x", route)
        response = getattr(anonymous, method.lower())(path)
        lago_spec.assert_conforms(method, template, response, status=401)


# --- webhook payloads --------------------------------------------------------------------------

def webhook_schema(webhook_type):
    name = webhook_type.replace(".", "_")
    return lago_spec.spec()["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]["schema"]


def test_webhook_payloads_conform(api, settings):
    """Every webhook the scenario wrote, its stored body (the bytes every attempt sends), against Lago's `webhooks` section."""
    import json

    import jsonschema

    from webhooks.models import WebhookEvent

    billed_subscription(api, settings)
    add_on(api)
    one_off(api)
    seen = set()
    for event in WebhookEvent.objects.order_by("created_at"):
        body = json.loads(event.payload)
        assert body["organization_id"] == settings.ORGANIZATION_ID and body["webhook_type"] == event.webhook_type
        schema = lago_spec._absolutize(webhook_schema(event.webhook_type))
        errors = list(jsonschema.Draft202012Validator(schema, registry=lago_spec._registry()).iter_errors(body))
        assert not errors, f"{event.webhook_type}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:10])
        if event.object_type == "invoice" and body["invoice"]["invoice_type"] == "subscription":
            assert [s["external_id"] for s in body["invoice"]["subscriptions"]] == ["sub-1"]
            assert len(body["invoice"]["billing_periods"]) == 1
        seen.add(event.webhook_type)
    assert {"customer.created", "invoice.created", "invoice.one_off_created"} <= seen, seen


# --- the real lago-python-client ------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_lago_python_client_round_trips_the_customer_fields(live_server, api_key):
    from lago_python_client.client import Client
    from lago_python_client.models import Customer, CustomerBillingConfiguration, Metadata, MetadataList

    lago = Client(api_key=api_key[1], api_url=live_server.url)
    created = lago.customers.create(Customer(
        external_id="hooli", name="Hooli", firstname="Gavin", lastname="Belson", customer_type="company",
        logo_url="https://hooli.example/logo.png", currency="USD",
        billing_configuration=CustomerBillingConfiguration(document_locale="fr", payment_provider="stripe",
                                                           provider_customer_id="cus_123", sync=True),
        metadata=MetadataList(__root__=[Metadata(key="vat_note", value="reverse charge", display_in_invoice=True)]),
    ))
    found = lago.customers.find("hooli")
    for answer in (created, found):
        assert (answer.firstname, answer.lastname, answer.customer_type, answer.logo_url) == (
            "Gavin", "Belson", "company", "https://hooli.example/logo.png")
        assert answer.billing_configuration.document_locale == "fr"
        assert answer.billing_configuration.payment_provider == "stripe"
        assert answer.billing_configuration.provider_customer_id == "cus_123"
        [item] = answer.metadata.__root__
        assert (item.key, item.value, item.display_in_invoice) == ("vat_note", "reverse charge", True)
    # Lago's upsert: the entry named by its id is updated, one without id is added.
    updated = lago.customers.create(Customer(external_id="hooli", metadata=MetadataList(__root__=[
        Metadata(id=found.metadata.__root__[0].lago_id, key="vat_note", value="exempt", display_in_invoice=False),
        Metadata(key="crm_id", value="42", display_in_invoice=False)])))
    assert [(m.key, m.value) for m in updated.metadata.__root__] == [("vat_note", "exempt"), ("crm_id", "42")]
    assert updated.firstname == "Gavin"  # untouched keys stay
