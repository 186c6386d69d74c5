"""GET/PUT /billing_entities and PUT /organizations, including the seeds' curl bodies as written."""
import pytest

from audit.models import AuditLogEntry
from customers.models import BillingEntity
from tests import factories
from tests.api_support import assert_error

# Seed 000 (finalize empty invoices), the --data-raw body exactly as written.
SEED_000_BODY = """{
          "billing_entity": {
            "country": "US",
            "finalize_zero_amount_invoice": true
          }
        }"""

# Seed 003 (grace period), billing-entity example: note the "organization" envelope and the flat key.
SEED_003_BODY = """{
          "organization": {
              "invoice_grace_period": 3
          }
        }"""


@pytest.fixture
def entity(db):
    return factories.billing_entity(code="acme", name="Acme", is_default=True, finalize_zero_amount_invoice=False)


@pytest.mark.django_db
def test_list_has_no_meta(api, entity):
    factories.billing_entity(code="acme-eu")
    body = api.get("billing_entities").json()
    assert set(body) == {"billing_entities"}
    assert [e["code"] for e in body["billing_entities"]] == ["acme", "acme-eu"]


@pytest.mark.django_db
def test_find_and_unknown(api, entity):
    body = api.get("billing_entities/acme").json()["billing_entity"]
    assert body["lago_id"] == str(entity.pk) and body["is_default"] is True
    assert body["invoice_grace_period"] == 0 and "billing_configuration" not in body
    assert assert_error(api.get("billing_entities/nope"), 404) == {"status": 404, "error": "Not Found", "code": "billing_entity_not_found"}


@pytest.mark.django_db
def test_seed_000_body_verbatim_sets_finalize_zero_amount_invoice(api, entity):
    response = api.put("billing_entities/acme", raw=SEED_000_BODY)
    assert response.status_code == 200
    body = response.json()["billing_entity"]
    assert body["finalize_zero_amount_invoice"] is True and body["country"] == "US"
    entity.refresh_from_db()
    assert entity.finalize_zero_amount_invoice is True and entity.country == "US"
    entry = AuditLogEntry.objects.get(action="billing_entity.updated")
    assert entry.after == {"country": "US", "finalize_zero_amount_invoice": True}


@pytest.mark.django_db
def test_seed_003_organization_envelope_verbatim(api, entity):
    """Replayed with the grace period already 3: the envelope is accepted, nothing changes.
    (The same body changing the value is in test_api_grace.py.)"""
    BillingEntity.objects.filter(pk=entity.pk).update(invoice_grace_period=3)
    response = api.put("billing_entities/acme", raw=SEED_003_BODY)
    assert response.status_code == 200
    assert response.json()["billing_entity"]["invoice_grace_period"] == 3
    assert not AuditLogEntry.objects.filter(action="billing_entity.updated").exists()


@pytest.mark.django_db
def test_nested_request_flat_response(api, entity):
    response = api.put("billing_entities/acme", {"billing_entity": {
        "name": "Acme Inc", "net_payment_term": 30, "timezone": "Europe/Paris", "document_numbering": "per_billing_entity",
        "billing_configuration": {"invoice_footer": "Thanks", "document_locale": "fr", "invoice_grace_period": 0},
    }})
    body = response.json()["billing_entity"]
    assert (body["name"], body["net_payment_term"], body["timezone"]) == ("Acme Inc", 30, "Europe/Paris")
    assert (body["invoice_footer"], body["document_locale"], body["invoice_grace_period"]) == ("Thanks", "fr", 0)
    assert body["document_numbering"] == "per_billing_entity"


@pytest.mark.django_db
@pytest.mark.parametrize("data, field, code", [
    ({"finalize_zero_amount_invoice": "yes"}, "finalize_zero_amount_invoice", "value_is_invalid"),
    ({"net_payment_term": "thirty"}, "net_payment_term", "value_is_invalid"),
    ({"net_payment_term": -1}, "net_payment_term", "value_is_invalid"),
    ({"timezone": "Mars/Olympus"}, "timezone", "invalid_timezone"),
    ({"default_currency": "XXX"}, "default_currency", "value_is_invalid"),
    ({"document_numbering": "random"}, "document_numbering", "invalid_value"),
    ({"billing_configuration": {"invoice_grace_period": True}}, "billing_configuration.invoice_grace_period", "value_is_invalid"),
])
def test_bad_values_are_422_and_nothing_changes(api, entity, data, field, code):
    response = api.put("billing_entities/acme", {"billing_entity": data})
    assert_error(response, 422, error_details={field: [code]})
    entity.refresh_from_db()
    assert entity.net_payment_term == 0 and entity.timezone == "UTC" and entity.finalize_zero_amount_invoice is False
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_missing_root_is_400(api, entity):
    body = assert_error(api.put("billing_entities/acme", {"name": "x"}), 400)
    assert body == {"status": 400, "error": "BadRequest: param is missing or the value is empty: billing_entity"}


@pytest.mark.django_db
def test_unknown_tax_code_is_404_and_nothing_written(api, entity):
    assert_error(api.put("billing_entities/acme", {"billing_entity": {"name": "New", "tax_codes": ["nope"]}}), 404, "tax_not_found")
    entity.refresh_from_db()
    assert entity.name == "Acme"


@pytest.mark.django_db
def test_tax_codes_set_default_taxes(api, entity):
    factories.tax(code="vat-fr", rate="20")
    body = api.put("billing_entities/acme", {"billing_entity": {"tax_codes": ["vat-fr"]}}).json()["billing_entity"]
    assert [t["code"] for t in body["taxes"]] == ["vat-fr"]


@pytest.mark.django_db
def test_organizations_put_updates_the_default_entity(api, entity):
    factories.billing_entity(code="other")
    response = api.put("organizations", {"organization": {
        "default_currency": "EUR", "finalize_zero_amount_invoice": True,
        "billing_configuration": {"invoice_footer": "Footer"},
    }})
    assert response.status_code == 200
    body = response.json()["organization"]
    assert body["name"] == "Acme" and body["default_currency"] == "EUR" and body["finalize_zero_amount_invoice"] is True
    assert body["billing_configuration"]["invoice_footer"] == "Footer"
    entity.refresh_from_db()
    assert entity.default_currency == "EUR" and entity.invoice_footer == "Footer"
