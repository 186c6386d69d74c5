"""GET /api/v1/openapi.json describes what is implemented, and real answers match it."""
from django.urls import resolve
from jsonschema import Draft202012Validator

from api.openapi import document
from tests import factories

DOC = document()


def validate(method: str, template: str, response):
    operation = DOC["paths"][template][method.lower()]
    spec = operation["responses"][str(response.status_code)]
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": DOC["components"],
              **spec["content"]["application/json"]["schema"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
    assert not errors, f"{method} {template} {response.status_code}: {[e.message for e in errors][:5]}"


def test_document_is_served_without_a_key(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = response.json()
    assert body["openapi"].startswith("3.1") and "/invoices/{lago_id}/finalize" in body["paths"]
    for name, schema in body["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)  # each is valid JSON Schema 2020-12, as OpenAPI 3.1 requires


def test_every_documented_path_is_routed():
    for template in DOC["paths"]:
        concrete = (template.replace("{code}", "x").replace("{external_id}", "x").replace("{lago_id}", "x")
                    .replace("{transaction_id}", "x"))
        match = resolve(f"/api/v1{concrete}")
        assert match.url_name != "unknown" and match.func.__name__ == "view", template
        handlers = {m.lower() for m in match.func.handlers}
        documented = {m for m in DOC["paths"][template] if m != "parameters"}
        assert documented <= handlers, (template, documented, handlers)


def test_real_responses_match_the_document(api, actor):
    entity = factories.billing_entity(code="acme", is_default=True)
    factories.tax(code="vat-20")
    checks = [
        ("GET", "/billing_entities", api.get("billing_entities")),
        ("GET", "/billing_entities/{code}", api.get("billing_entities/acme")),
        ("GET", "/billing_entities/{code}", api.get("billing_entities/zzz")),
        ("PUT", "/billing_entities/{code}", api.put("billing_entities/acme", {"billing_entity": {"country": "US", "tax_codes": ["vat-20"]}})),
        ("PUT", "/billing_entities/{code}", api.put("billing_entities/acme", {"nope": 1})),
        ("PUT", "/billing_entities/{code}", api.put("billing_entities/acme", {"billing_entity": {"net_payment_term": "x"}})),
        ("PUT", "/organizations", api.put("organizations", {"organization": {"default_currency": "USD"}})),
        ("GET", "/organizations", api.get("organizations")),
        ("POST", "/billing_entities", api.post("billing_entities", {"billing_entity": {"code": "acme-eu", "name": "Acme EU"}})),
        ("POST", "/billing_entities", api.post("billing_entities", {"billing_entity": {"code": "acme-eu", "name": "Acme EU"}})),
        ("POST", "/customers", api.post("customers", {"customer": {"external_id": "c1", "currency": "USD", "tax_codes": ["vat-20"]}})),
        ("POST", "/customers", api.post("customers", {"customer": {"external_id": "c2", "finalize_zero_amount_invoice": "x"}})),
        ("GET", "/customers", api.get("customers")),
        ("GET", "/customers/{external_id}", api.get("customers/c1")),
        ("GET", "/customers/{external_id}", api.get("customers/zzz")),
        ("POST", "/add_ons", api.post("add_ons", {"add_on": {"name": "Setup", "code": "setup", "amount_cents": 100, "amount_currency": "USD"}})),
        ("POST", "/add_ons", api.post("add_ons", {"add_on": {"name": "Setup", "code": "setup", "amount_cents": 100, "amount_currency": "USD"}})),
        ("GET", "/add_ons", api.get("add_ons")),
        ("PUT", "/add_ons/{code}", api.put("add_ons/setup", {"add_on": {"amount_cents": 200}})),
        ("GET", "/add_ons/{code}", api.get("add_ons/setup")),
        ("POST", "/webhook_endpoints", api.post("webhook_endpoints", {"webhook_endpoint": {"webhook_url": "https://x.test/h"}})),
        ("GET", "/webhook_endpoints", api.get("webhook_endpoints")),
        ("GET", "/webhooks/json_public_key", api.get("webhooks/json_public_key")),
        ("GET", "/invoices", api.get("invoices", {"statuses[]": ["bogus"]})),
    ]
    customer = factories.customer(entity, external_id="c3")
    draft = factories.invoice(customer, fees=[(2, 500)], taxes=[])
    other = factories.invoice(customer, fees=[(1, 100)])
    checks += [
        ("GET", "/invoices/{lago_id}", api.get(f"invoices/{draft.pk}")),
        ("PUT", "/invoices/{lago_id}", api.put(f"invoices/{draft.pk}", {"invoice": {"payment_status": "succeeded"}})),
        ("PUT", "/invoices/{lago_id}/finalize", api.put(f"invoices/{draft.pk}/finalize")),
        ("PUT", "/invoices/{lago_id}/finalize", api.put(f"invoices/{draft.pk}/finalize")),
        ("PUT", "/invoices/{lago_id}", api.put(f"invoices/{draft.pk}", {"invoice": {"payment_status": "succeeded",
                                                                                     "metadata": [{"key": "po", "value": "1"}]}})),
        ("GET", "/invoices", api.get("invoices", {"per_page": 1})),
        ("DELETE", "/invoices/{lago_id}", api.delete(f"invoices/{draft.pk}")),
        ("DELETE", "/invoices/{lago_id}", api.delete(f"invoices/{other.pk}")),
        ("DELETE", "/customers/{external_id}", api.delete("customers/c1")),
        ("DELETE", "/add_ons/{code}", api.delete("add_ons/setup")),
    ]
    for method, template, response in checks:
        assert response.status_code in (200, 400, 404, 405, 422), (method, template, response.content)
        validate(method, template, response)
    assert {r.status_code for _, _, r in checks} == {200, 400, 404, 405, 422}


def test_usage_and_catalogue_responses_match_the_document(api):
    from . import billing_factories as b

    factories.billing_entity(code="acme", is_default=True)
    factories.customer(external_id="hooli", currency="USD")
    b.metric("count", code="regions", filters={"region": ["eu"]})
    metric = api.post("billable_metrics", {"billable_metric": {"name": "Calls", "code": "calls", "aggregation_type": "count_agg"}})
    metric_id = metric.json()["billable_metric"]["lago_id"]
    plan = {"plan": {"name": "P", "code": "p", "interval": "monthly", "amount_cents": 100, "amount_currency": "USD",
                     "charges": [{"billable_metric_id": metric_id, "charge_model": "standard", "properties": {"amount": "1"},
                                  "filters": None}]}}
    event = {"transaction_id": "t1", "external_subscription_id": "s1", "code": "calls", "timestamp": "1673457300"}
    checks = [
        ("POST", "/billable_metrics", metric),
        ("POST", "/billable_metrics", api.post("billable_metrics", {"billable_metric": {"code": "x"}})),
        ("GET", "/billable_metrics", api.get("billable_metrics")),
        ("GET", "/billable_metrics/{code}", api.get("billable_metrics/regions")),
        ("GET", "/billable_metrics/{code}", api.get("billable_metrics/nope")),
        ("POST", "/plans", api.post("plans", plan)),
        ("POST", "/plans", api.post("plans", plan)),
        ("POST", "/plans", api.post("plans", {"plan": {**plan["plan"], "code": "q", "charges": [{"billable_metric_id": "x",
                                                                                               "charge_model": "standard"}]}})),
        ("GET", "/plans", api.get("plans")),
        ("GET", "/plans/{code}", api.get("plans/p")),
        ("PUT", "/plans/{code}", api.put("plans/p", {"plan": {"amount_cents": 200}})),
        ("PUT", "/plans/{code}", api.put("plans/nope", {"plan": {"amount_cents": 200}})),
        ("POST", "/subscriptions", api.post("subscriptions", {"subscription": {"external_customer_id": "hooli", "plan_code": "p",
                                                                               "external_id": "s1"}})),
        ("POST", "/subscriptions", api.post("subscriptions", {"subscription": {"external_customer_id": "nobody", "plan_code": "p"}})),
        ("GET", "/subscriptions", api.get("subscriptions", {"external_customer_id": "hooli"})),
        ("GET", "/subscriptions", api.get("subscriptions", {"status[]": "bogus"})),
        ("GET", "/subscriptions/{external_id}", api.get("subscriptions/s1")),
        ("POST", "/events", api.post("events", {"event": event})),
        ("POST", "/events", api.post("events", {"event": event})),
        ("POST", "/events", api.post("events", {"nope": 1})),
        ("POST", "/events/batch", api.post("events/batch", {"events": [{**event, "transaction_id": "t2"}]})),
        ("POST", "/events/batch", api.post("events/batch", {"events": [event]})),
        ("GET", "/events/{transaction_id}", api.get("events/t1")),
        ("GET", "/events/{transaction_id}", api.get("events/nope")),
        ("DELETE", "/subscriptions/{external_id}", api.delete("subscriptions/s1")),
        ("DELETE", "/subscriptions/{external_id}", api.delete("subscriptions/s1")),
    ]
    for method, template, response in checks:
        assert response.status_code in (200, 400, 404, 422), (method, template, response.content)
        validate(method, template, response)
    assert {r.status_code for _, _, r in checks} == {200, 400, 404, 422}
    for method, template, body in [("POST", "/events", {"event": event}), ("POST", "/events/batch", {"events": [event]}),
                                   ("POST", "/plans", plan), ("POST", "/billable_metrics", {"billable_metric": {
                                       "name": "C", "code": "c", "aggregation_type": "sum_agg", "field_name": "n"}})]:
        assert not list(Draft202012Validator(request_schema(method, template)).iter_errors(body)), template


def request_schema(method, template):
    body = DOC["paths"][template][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": DOC["components"], **body}


def test_the_seeds_request_bodies_match_the_documented_request_schemas():
    import json

    from tests.test_api_billing_entities import SEED_000_BODY as ENTITY_000, SEED_003_BODY as ENTITY_003
    from tests.test_api_customers import SEED_000_BODY as CUSTOMER_000, SEED_003_BODY as CUSTOMER_003
    from tests.seed_bodies import SEED_004_BODY

    fixed_003 = CUSTOMER_003.replace('"tax_codes": []\n', '"tax_codes": [],\n').replace('"document_locale": "fr",\n', '"document_locale": "fr"\n')
    cases = [("PUT", "/billing_entities/{code}", ENTITY_000), ("PUT", "/billing_entities/{code}", ENTITY_003),
             ("POST", "/customers", CUSTOMER_000), ("POST", "/customers", fixed_003), ("POST", "/invoices", SEED_004_BODY)]
    for method, template, raw in cases:
        errors = list(Draft202012Validator(request_schema(method, template)).iter_errors(json.loads(raw)))
        assert not errors, (template, [e.message for e in errors])
    bad = {"customer": {"external_id": "c1", "finalize_zero_amount_invoice": "never"}}
    assert list(Draft202012Validator(request_schema("POST", "/customers")).iter_errors(bad))


def test_coupon_and_credit_note_responses_match_the_document(api):
    from tests import credit_factories as c

    customer = factories.customer(external_id="hooli")
    invoice = c.finalized(customer, fees=[(1, 10000)], taxes=[factories.tax(rate="20")])
    fee = invoice.fees.get()
    coupon = {"coupon": {"name": "Ten", "code": "ten", "coupon_type": "percentage", "percentage_rate": 10, "frequency": "forever"}}
    applied = {"applied_coupon": {"external_customer_id": "hooli", "coupon_code": "ten"}}
    note = {"credit_note": {"invoice_id": str(invoice.pk), "reason": "other", "credit_amount_cents": 1200,
                            "items": [{"fee_id": str(fee.pk), "amount_cents": 1000}], "metadata": {"k": "v"}}}
    created = api.post("credit_notes", note)
    note_id = created.json()["credit_note"]["lago_id"]
    checks = [
        ("POST", "/coupons", api.post("coupons", coupon)),
        ("POST", "/coupons", api.post("coupons", coupon)),
        ("POST", "/coupons", api.post("coupons", {"nope": 1})),
        ("GET", "/coupons", api.get("coupons")),
        ("GET", "/coupons/{code}", api.get("coupons/ten")),
        ("GET", "/coupons/{code}", api.get("coupons/nope")),
        ("PUT", "/coupons/{code}", api.put("coupons/ten", {"coupon": {"description": "Ten off"}})),
        ("POST", "/applied_coupons", api.post("applied_coupons", applied)),
        ("POST", "/applied_coupons", api.post("applied_coupons", {"applied_coupon": {**applied["applied_coupon"], "external_customer_id": "x"}})),
        ("POST", "/applied_coupons", api.post("applied_coupons", {"applied_coupon": {**applied["applied_coupon"], "frequency": "x"}})),
        ("GET", "/applied_coupons", api.get("applied_coupons", {"external_customer_id": "hooli"})),
        ("GET", "/applied_coupons", api.get("applied_coupons", {"status": "x"})),
        ("POST", "/credit_notes", created),
        ("POST", "/credit_notes", api.post("credit_notes", note)),  # nothing left of that much: 422
        ("POST", "/credit_notes", api.post("credit_notes", {"credit_note": {**note["credit_note"], "invoice_id": "x"}})),
        ("GET", "/credit_notes", api.get("credit_notes", {"external_customer_id": "hooli"})),
        ("GET", "/credit_notes/{lago_id}", api.get(f"credit_notes/{note_id}")),
        ("GET", "/credit_notes/{lago_id}", api.get("credit_notes/x")),
        ("POST", "/credit_notes/{lago_id}/download", api.post(f"credit_notes/{note_id}/download")),  # empty 200: render queued
        ("POST", "/credit_notes/{lago_id}/download", api.post(f"credit_notes/{note_id}/download")),
        ("PUT", "/credit_notes/{lago_id}/void", api.put(f"credit_notes/{note_id}/void")),
        ("PUT", "/credit_notes/{lago_id}/void", api.put(f"credit_notes/{note_id}/void")),
        ("DELETE", "/coupons/{code}", api.delete("coupons/ten")),
    ]
    for method, template, response in checks:
        assert response.status_code in (200, 400, 404, 405, 422), (method, template, response.content)
        if response.content:
            validate(method, template, response)
    assert {r.status_code for _, _, r in checks} == {200, 400, 404, 405, 422}
    for method, template, body in [("POST", "/coupons", coupon), ("POST", "/applied_coupons", applied), ("POST", "/credit_notes", note)]:
        assert not list(Draft202012Validator(request_schema(method, template)).iter_errors(body)), template
