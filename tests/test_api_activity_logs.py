"""/api/v1/activity_logs: Lago's audit-log API read from our audit log (who did what, through which door)."""
import pytest
from django.contrib.auth import get_user_model

from audit import log as audit_log
from audit.actors import Actor
from audit.models import AuditLogEntry
from tests import factories
from tests.api_support import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(api, settings):
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    factories.billing_entity(code="acme", is_default=True)
    api.post("customers", {"customer": {"external_id": "hooli", "currency": "USD"}})
    api.post("customers", {"customer": {"external_id": "hooli", "city": "Austin"}})
    api.post("customers", {"customer": {"external_id": "other", "currency": "USD"}})
    wallet = api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "1", "currency": "USD"}}).json()["wallet"]
    operator = get_user_model().objects.create_user("ada", email="ada@example.com")
    from django.db import transaction

    with transaction.atomic():
        tax = factories.tax(code="vat")
        audit_log.record("tax.created", Actor.operator(operator), obj=tax, after={"code": "vat"})
    return {"wallet": wallet, "operator": operator}


def test_list_maps_our_audit_log_onto_lagos_activity_logs(api, logged):
    listed = api.get("activity_logs").json()
    assert listed["meta"]["total_count"] == AuditLogEntry.objects.count() == 5
    newest = listed["activity_logs"][0]
    assert (newest["activity_type"], newest["activity_source"], newest["user_email"], newest["resource_type"]) == (
        "tax.created", "front", "ada@example.com", "Tax")
    updated = next(a for a in listed["activity_logs"] if a["activity_type"] == "customer.updated")
    assert updated["activity_source"] == "api" and updated["user_email"] is None
    assert updated["activity_object_changes"] == {"city": ["", "Austin"]} and updated["external_customer_id"] == "hooli"
    assert updated["resource_type"] == "Customer" and updated["logged_at"] == updated["created_at"]
    wallet = next(a for a in listed["activity_logs"] if a["activity_type"] == "wallet.created")
    assert wallet["resource_id"] == logged["wallet"]["lago_id"] and wallet["external_customer_id"] == "hooli"


def test_filters(api, logged):
    def count(**query):
        return api.get("activity_logs", query).json()["meta"]["total_count"]

    assert count(external_customer_id="hooli") == 3
    assert count(external_customer_id="other") == 1
    assert count(**{"activity_types[]": ["customer.created", "wallet.created"]}) == 3
    assert count(**{"activity_sources[]": "front"}) == 1 and count(**{"activity_sources[]": "api"}) == 4
    assert count(**{"user_emails[]": "ada@example.com"}) == 1
    assert count(**{"resource_types[]": "Wallet"}) == 1
    assert count(**{"resource_ids[]": logged["wallet"]["lago_id"]}) == 1
    assert count(from_date="2000-01-01", to_date="2999-12-31") == 5 and count(to_date="2000-01-01") == 0
    assert count(external_subscription_id="nope") == 0
    assert api.get("activity_logs", {"per_page": 2}).json()["meta"]["next_page"] == 2
    assert_error(api.get("activity_logs", {"activity_sources[]": "nope"}), 422, error_details={"activity_sources": ["value_is_invalid"]})
    assert_error(api.get("activity_logs", {"from_date": "2020-13-45"}), 422, error_details={"from_date": ["invalid_date"]})


def test_find_one(api, logged):
    entry = AuditLogEntry.objects.get(action="wallet.created")
    found = api.get(f"activity_logs/{entry.pk}").json()["activity_log"]
    assert found["activity_id"] == str(entry.pk) and found["activity_type"] == "wallet.created"
    assert_error(api.get("activity_logs/zzz"), 404, "activity_log_not_found")
    assert_error(api.get("activity_logs/00000000-0000-0000-0000-000000000000"), 404, "activity_log_not_found")
    assert_error(api.post("activity_logs", {}), 404, "resource_not_found")  # read-only: no POST route, as in Lago


@pytest.mark.lago_spec
def test_activity_logs_conform_to_lagos_spec(api, logged):
    from tests.lago_spec import assert_conforms

    assert_conforms("GET", "/activity_logs", api.get("activity_logs"), status=200)
    entry = AuditLogEntry.objects.get(action="tax.created")
    assert_conforms("GET", "/activity_logs/{activity_id}", api.get(f"activity_logs/{entry.pk}"), status=200)
    assert_conforms("GET", "/activity_logs/{activity_id}", api.get("activity_logs/zzz"), status=404)
