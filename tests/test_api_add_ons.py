"""/add_ons: create, find, list, update, soft delete; duplicate codes and bad input are 422."""
import pytest

from addons.models import AddOn
from audit.models import AuditLogEntry
from tests import factories
from tests.api_support import assert_error

SETUP_FEE = {"add_on": {"name": "Setup fee", "code": "setup_fee", "amount_cents": 50000, "amount_currency": "usd",
                        "description": "One-time setup", "invoice_display_name": "Setup"}}


def test_create_find_update_delete(api):
    created = api.post("add_ons", SETUP_FEE)
    assert created.status_code == 200
    body = created.json()["add_on"]
    assert (body["code"], body["amount_cents"], body["amount_currency"], body["invoice_display_name"]) == ("setup_fee", 50000, "USD", "Setup")
    assert api.get("add_ons/setup_fee").json()["add_on"]["lago_id"] == body["lago_id"]

    updated = api.put("add_ons/setup_fee", {"add_on": {"amount_cents": 60000, "description": None}}).json()["add_on"]
    assert updated["amount_cents"] == 60000 and updated["description"] is None and updated["name"] == "Setup fee"

    deleted = api.delete("add_ons/setup_fee")
    assert deleted.status_code == 200 and deleted.json()["add_on"]["code"] == "setup_fee"
    assert AddOn.objects.get().deleted_at is not None
    assert_error(api.get("add_ons/setup_fee"), 404, "add_on_not_found")
    assert list(AuditLogEntry.objects.order_by("created_at").values_list("action", "source")) == [
        ("add_on.created", "api"), ("add_on.updated", "api"), ("add_on.deleted", "api")]


def test_duplicate_code_is_value_already_exist(api):
    api.post("add_ons", SETUP_FEE)
    body = assert_error(api.post("add_ons", SETUP_FEE), 422)
    assert body == {"status": 422, "error": "Unprocessable Entity", "code": "validation_errors",
                    "error_details": {"code": ["value_already_exist"]}}
    api.post("add_ons", {"add_on": {**SETUP_FEE["add_on"], "code": "other"}})
    assert_error(api.put("add_ons/other", {"add_on": {"code": "setup_fee"}}), 422, error_details={"code": ["value_already_exist"]})
    assert AddOn.objects.count() == 2


@pytest.mark.parametrize("data, expected", [
    ({"name": "X", "code": "x", "amount_currency": "USD"}, {"amount_cents": ["value_is_mandatory"]}),
    ({"name": "X", "code": "x", "amount_cents": "100.00", "amount_currency": "USD"}, {"amount_cents": ["value_is_invalid"]}),
    ({"name": "X", "code": "x", "amount_cents": -1, "amount_currency": "USD"}, {"amount_cents": ["value_is_invalid"]}),
    ({"name": "X", "code": "x", "amount_cents": 1, "amount_currency": "ABC"}, {"amount_currency": ["value_is_invalid"]}),
    ({"name": "X", "code": "has space", "amount_cents": 1, "amount_currency": "USD"}, {"code": ["value_is_invalid"]}),
])
def test_bad_input_is_422(api, data, expected):
    assert_error(api.post("add_ons", {"add_on": data}), 422, error_details=expected)
    assert not AddOn.objects.exists()


def test_list_is_paginated_and_hides_deleted(api):
    for n in range(3):
        api.post("add_ons", {"add_on": {**SETUP_FEE["add_on"], "code": f"a{n}"}})
    api.delete("add_ons/a1")
    body = api.get("add_ons", {"per_page": 1}).json()
    assert body["meta"] == {"current_page": 1, "next_page": 2, "prev_page": None, "total_pages": 2, "total_count": 2}
    assert [a["code"] for a in body["add_ons"]] == ["a2"]


def test_taxes(api):
    factories.tax(code="vat-20")
    body = api.post("add_ons", {"add_on": {**SETUP_FEE["add_on"], "tax_codes": ["vat-20"]}}).json()["add_on"]
    assert [t["code"] for t in body["taxes"]] == ["vat-20"]
    assert_error(api.post("add_ons", {"add_on": {**SETUP_FEE["add_on"], "code": "b", "tax_codes": ["nope"]}}), 404, "tax_not_found")
    assert AddOn.objects.count() == 1
