"""Error bodies are Lago's, always JSON, never a 500 for bad input, and nothing is written."""
import pytest

from addons.models import AddOn
from audit.models import AuditLogEntry
from customers.models import Customer
from tests import factories
from tests.api_support import ApiClient, assert_error


@pytest.fixture
def entity(db):
    return factories.billing_entity(code="acme", is_default=True)


@pytest.mark.parametrize("path", ["nope", "customers/a/b", "invoices/x/unknown_action", "customers/", "events/batch/x"])
def test_unknown_route_is_resource_not_found(api, path):
    body = assert_error(api.get(path), 404)
    assert body == {"status": 404, "error": "Not Found", "code": "resource_not_found"}


def test_unknown_route_answers_json_even_without_a_key(db):
    assert_error(ApiClient(None).post("nope", {"a": 1}), 404, "resource_not_found")


def test_a_method_a_path_does_not_serve_is_the_unknown_route(api, entity):
    """As Lago (Rails routes): no route for the method, so 404 resource_not_found, never a 405."""
    body = assert_error(api.delete("billing_entities/acme"), 404)
    assert body == {"status": 404, "error": "Not Found", "code": "resource_not_found"}


@pytest.mark.parametrize("raw", ['{"customer": {"external_id": "c1",}}', "{", "not json", '"just a string"', "[1, 2]", "\xff\xfe"])
def test_malformed_json_is_400(api, entity, raw):
    body = assert_error(api.post("customers", raw=raw), 400)
    assert body["error"].startswith("BadRequest: ")
    assert set(body) == {"status", "error"}
    assert not Customer.objects.exists()


@pytest.mark.parametrize("body", [{}, {"customer": None}, {"customer": {}}, {"customer": "c1"}, {"client": {"external_id": "c1"}}])
def test_missing_or_empty_root_is_400(api, entity, body):
    assert assert_error(api.post("customers", body), 400) == {
        "status": 400, "error": "BadRequest: param is missing or the value is empty: customer"}


@pytest.mark.parametrize("path, body", [
    ("customers", {"customer": {"external_id": ["c1"]}}),
    ("customers", {"customer": {"external_id": "c1", "tax_codes": "vat"}}),
    ("customers", {"customer": {"external_id": "c1", "name": {"first": "x"}}}),
    ("add_ons", {"add_on": {"name": "x", "code": "x", "amount_cents": 1.5, "amount_currency": "USD"}}),
    ("add_ons", {"add_on": {"name": "x", "code": "x", "amount_cents": True, "amount_currency": "USD"}}),
    ("add_ons", {"add_on": {"name": 5, "code": "x", "amount_cents": 1, "amount_currency": "USD"}}),
])
def test_wrong_types_are_422_naming_the_field(api, entity, path, body):
    response = assert_error(api.post(path, body), 422)
    assert response["code"] == "validation_errors" and len(response["error_details"]) == 1
    assert not Customer.objects.exists() and not AddOn.objects.exists() and not AuditLogEntry.objects.exists()


def test_error_bodies_are_json_for_the_client_with_its_headers(api, entity):
    """lago-python-client sends Content-type: application/json even on GET; that is fine."""
    response = api.get("customers/unknown")
    assert response["Content-Type"] == "application/json"


def test_no_trailing_slash_redirects(api, entity):
    response = api.get("billing_entities/")
    assert response.status_code == 404 and response.json()["code"] == "resource_not_found"


WEIRD = [None, True, 0, -1, 1.5, 10**30, "", "x" * 5000, "\u0000", "ünï", [], {}, ["a"], {"a": 1}]
WRITES = [
    ("put", "billing_entities/acme", "billing_entity", ["name", "country", "default_currency", "timezone", "net_payment_term",
                                                         "finalize_zero_amount_invoice", "document_number_prefix", "tax_codes",
                                                         "billing_configuration", "email"]),
    ("post", "customers", "customer", ["external_id", "name", "currency", "timezone", "net_payment_term", "country", "email",
                                       "finalize_zero_amount_invoice", "billing_entity_code", "tax_codes", "billing_configuration", "metadata"]),
    ("post", "add_ons", "add_on", ["name", "code", "amount_cents", "amount_currency", "description", "tax_codes"]),
    ("post", "webhook_endpoints", "webhook_endpoint", ["webhook_url", "signature_algo", "name", "event_types"]),
]
BASES = {
    "billing_entity": {"name": "Acme"},
    "customer": {"external_id": "fuzz"},
    "add_on": {"name": "X", "code": "fuzz", "amount_cents": 1, "amount_currency": "USD"},
    "webhook_endpoint": {"webhook_url": "https://x.test/h"},
}


@pytest.mark.parametrize("method, path, root, fields", WRITES, ids=[w[1] for w in WRITES])
def test_no_value_of_any_type_gives_a_500(api, entity, method, path, root, fields):
    for field in fields:
        for value in WEIRD:
            body = {root: {**BASES[root], field: value}}
            response = getattr(api, method)(path, body)
            if value == "\u0000":
                assert response.status_code == 400
            assert response.status_code in (200, 400, 404, 422), (field, value, response.status_code, response.content[:200])
            assert response["Content-Type"] == "application/json"


def test_nul_in_a_query_string_is_400(api, entity):
    assert_error(api.get("customers", {"search_term": "a\x00b"}), 400)
    assert_error(api.get("invoices", {"external_customer_id": "\x00"}), 400)


def test_invoice_update_and_list_never_500(api, entity):
    from audit.actors import Actor
    from invoices.transitions.finalization import finalize_invoice

    inv = factories.invoice(factories.customer(entity), fees=[(1, 100)])
    finalize_invoice(inv.pk, Actor.system())
    for field in ("payment_status", "metadata"):
        for value in WEIRD + [[{"key": 1}], [{"key": "k", "value": {"a": 1}}], [None], [{"id": 5, "key": "k"}]]:
            response = api.put(f"invoices/{inv.pk}", {"invoice": {field: value}})
            assert response.status_code in (200, 400, 405, 422), (field, value, response.content[:200])
    for name in ("page", "per_page", "amount_from", "issuing_date_to", "payment_overdue", "statuses[]", "metadata[x]", "currency"):
        for value in ["", "-1", "0", "1e9", "99999999999999999999", "2026-13-40", "ü", "true"]:
            response = api.get("invoices", {name: value})
            assert response.status_code in (200, 400, 422), (name, value, response.content[:200])
