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


def test_wrong_method_is_405_with_allow(api, entity):
    response = api.delete("billing_entities/acme")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, PUT"


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
