"""GET/POST/PUT /billing_entities and GET/PUT /organizations, including the seeds' curl bodies as written.

The `entity` fixture is the install's default entity (created by `migrate`), renamed "acme"."""
import pytest
from django.conf import settings

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
    # The organization's identity is the instance's; its settings are the default entity's.
    assert body["lago_id"] == settings.ORGANIZATION_ID and body["name"] == settings.ORGANIZATION_NAME
    assert body["default_currency"] == "EUR" and body["finalize_zero_amount_invoice"] is True
    assert body["billing_configuration"]["invoice_footer"] == "Footer"
    entity.refresh_from_db()
    assert entity.default_currency == "EUR" and entity.invoice_footer == "Footer"


@pytest.mark.django_db
def test_get_organizations_shows_the_default_entity_settings(api, entity):
    factories.billing_entity(code="other", default_currency="JPY")
    body = api.get("organizations").json()
    assert set(body) == {"organization"}
    organization = body["organization"]
    assert organization["lago_id"] == settings.ORGANIZATION_ID and organization["default_currency"] == entity.default_currency
    assert organization["finalize_zero_amount_invoice"] is False and organization["document_number_prefix"] == entity.document_number_prefix


@pytest.mark.django_db
def test_post_creates_a_non_default_entity_and_audits_it(api, entity):
    factories.tax(code="vat-de", rate="19")
    response = api.post("billing_entities", {"billing_entity": {
        "code": "acme-eu", "name": "Acme Europe", "default_currency": "EUR", "timezone": "Europe/Berlin",
        "tax_codes": ["vat-de"], "billing_configuration": {"invoice_grace_period": 2, "document_locale": "de"},
    }})
    assert response.status_code == 200, response.content
    body = response.json()["billing_entity"]
    assert (body["code"], body["name"], body["is_default"], body["default_currency"]) == ("acme-eu", "Acme Europe", False, "EUR")
    assert body["invoice_grace_period"] == 2 and [t["code"] for t in body["taxes"]] == ["vat-de"]
    created = BillingEntity.objects.get(code="acme-eu")
    assert created.document_number_prefix == f"ACM-{str(created.pk)[-4:]}".upper()  # Lago's derivation
    assert BillingEntity.objects.filter(is_default=True).get() == entity
    entry = AuditLogEntry.objects.get(action="billing_entity.created")
    assert entry.source == "api" and entry.after["code"] == "acme-eu" and entry.after["tax_codes"] == ["vat-de"]
    assert [e["code"] for e in api.get("billing_entities").json()["billing_entities"]] == ["acme", "acme-eu"]


@pytest.mark.django_db
@pytest.mark.parametrize("data, details", [
    ({"code": "acme", "name": "Again"}, {"code": ["value_already_exist"]}),
    ({"name": "No code"}, {"code": ["value_is_mandatory"]}),
    ({"code": "no-name"}, {"name": ["value_is_mandatory"]}),
    ({"code": "bad", "name": "Bad", "timezone": "Mars/Olympus"}, {"timezone": ["invalid_timezone"]}),
])
def test_post_refusals_write_nothing(api, entity, data, details):
    assert_error(api.post("billing_entities", {"billing_entity": data}), 422, "validation_errors", error_details=details)
    assert list(BillingEntity.objects.values_list("code", flat=True)) == ["acme"]
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_post_without_root_is_400(api, entity):
    assert_error(api.post("billing_entities", {"code": "x", "name": "x"}), 400)
