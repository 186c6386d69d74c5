"""POST /customers (upsert by external_id), GET one / list with filters, DELETE (soft)."""
import pytest

from audit.models import AuditLogEntry
from customers.models import Customer
from tests import factories
from tests.api_support import assert_error
from webhooks.models import WebhookEvent

SEED_000_BODY = """{
          "customer": {
            "external_id": "hooli_12345",
            "address_line1": "100 Fintech Devcon Street",
            "city": "Austin",
            "country": "US",
            "email": "hooli@fintech.com",
            "legal_number": "54321",
            "name": "Hooli 12345",
            "state": "Texas",
            "tax_identification_number": "1234",
            "zipcode": "9399",
            "finalize_zero_amount_invoice": "skip"
          }
        }"""

# Seed 003's customer example as written: a comma is missing after "tax_codes": [] and
# "document_locale": "fr", has a trailing comma. It is not JSON; the API says so (400) and writes nothing.
SEED_003_BODY = """{
          "customer": {
            "external_id": "5eb02857-a71e-4ea2-bcf9-57d3a41bc6ba",
            "address_line1": "5230 Penfield Ave",
            "address_line2": "",
            "city": "Woodland Hills",
            "country": "US",
            "currency": "EUR",
            "email": "dinesh@piedpiper.test",
            "legal_name": "Coleman-Blair",
            "legal_number": "49-008-2965",
            "tax_identification_number": "EU123456789",
            "logo_url": "http://hooli.com/logo.png",
            "name": "Gavin Belson",
            "phone": "1-171-883-3711 x245",
            "state": "CA",
            "timezone": "Europe/Paris",
            "url": "http://hooli.com",
            "zipcode": "91364",
            "tax_codes": []
            "billing_configuration": {
              "invoice_grace_period": 3,
              "payment_provider": "stripe",
              "provider_customer_id": "cus_12345",
              "sync": true,
              "sync_with_provider": true,
              "document_locale": "fr",
            },
            "metadata": [
              {
                "key": "Name",
                "value": "John",
                "display_in_invoice": true
              }
            ]
          }
        }"""


@pytest.fixture
def entity(db):
    return factories.billing_entity(code="acme", is_default=True)


def test_seed_000_body_verbatim_creates_a_skip_customer(api, entity):
    response = api.post("customers", raw=SEED_000_BODY)
    assert response.status_code == 200, response.content
    body = response.json()["customer"]
    assert body["external_id"] == "hooli_12345" and body["finalize_zero_amount_invoice"] == "skip"
    assert body["billing_entity_code"] == "acme" and body["applicable_timezone"] == "UTC"
    customer = Customer.objects.get(external_id="hooli_12345")
    assert (customer.name, customer.city, customer.state, customer.zipcode) == ("Hooli 12345", "Austin", "Texas", "9399")
    assert customer.finalizes_empty_invoices() is False
    assert AuditLogEntry.objects.get(action="customer.created").source == "api"
    assert WebhookEvent.objects.get(webhook_type="customer.created").object_id == str(customer.pk)


def test_seed_003_body_as_written_is_a_400_and_nothing_is_written(api, entity):
    body = assert_error(api.post("customers", raw=SEED_003_BODY), 400)
    assert body["error"].startswith("BadRequest: malformed JSON body")
    assert not Customer.objects.exists() and not AuditLogEntry.objects.exists() and not WebhookEvent.objects.exists()


def test_creating_with_a_grace_period_and_timezone(api, entity):
    body = api.post("customers", {"customer": {
        "external_id": "c1", "currency": "EUR", "timezone": "Europe/Paris", "net_payment_term": 15,
        "billing_configuration": {"invoice_grace_period": 3, "payment_provider": "stripe", "document_locale": "fr"},
        "metadata": [{"key": "Name", "value": "John", "display_in_invoice": True}], "tax_codes": [],
    }}).json()["customer"]
    assert body["billing_configuration"]["invoice_grace_period"] == 3
    assert (body["currency"], body["timezone"], body["applicable_timezone"], body["net_payment_term"]) == ("EUR", "Europe/Paris", "Europe/Paris", 15)
    customer = Customer.objects.get(external_id="c1")
    assert customer.effective_grace_period == 3


def test_upsert_changes_only_sent_keys(api, entity):
    api.post("customers", {"customer": {"external_id": "c1", "name": "One", "email": "a@x.test", "finalize_zero_amount_invoice": "finalize"}})
    response = api.post("customers", {"customer": {"external_id": "c1", "city": "Paris"}})
    body = response.json()["customer"]
    assert (body["name"], body["email"], body["city"], body["finalize_zero_amount_invoice"]) == ("One", "a@x.test", "Paris", "finalize")
    assert Customer.objects.count() == 1
    entry = AuditLogEntry.objects.get(action="customer.updated")
    assert entry.before == {"city": ""} and entry.after == {"city": "Paris"}
    assert list(WebhookEvent.objects.order_by("created_at").values_list("webhook_type", flat=True)) == ["customer.created", "customer.updated"]


def test_resending_the_same_values_changes_nothing(api, entity):
    payload = {"customer": {"external_id": "c1", "name": "One"}}
    api.post("customers", payload)
    assert api.post("customers", payload).status_code == 200
    assert not AuditLogEntry.objects.filter(action="customer.updated").exists()
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("value", ["never", "", "SKIP", 1, True, None])
def test_finalize_zero_amount_invoice_must_be_inherit_skip_or_finalize(api, entity, value):
    response = api.post("customers", {"customer": {"external_id": "c1", "finalize_zero_amount_invoice": value}})
    assert_error(response, 422, "validation_errors", {"finalize_zero_amount_invoice": ["invalid_value"]})
    assert not Customer.objects.exists()


def test_currency_is_fixed_once_set(api, entity):
    api.post("customers", {"customer": {"external_id": "c1", "currency": "USD"}})
    assert_error(api.post("customers", {"customer": {"external_id": "c1", "currency": "EUR", "name": "X"}}), 422,
                 error_details={"currency": ["currencies_does_not_match"]})
    customer = Customer.objects.get()
    assert customer.currency == "USD" and customer.name == ""
    assert api.post("customers", {"customer": {"external_id": "c1", "currency": "USD"}}).status_code == 200


@pytest.mark.parametrize("payload, status, expected", [
    ({"customer": {"name": "No id"}}, 422, {"external_id": ["value_is_mandatory"]}),
    ({"customer": {"external_id": "c1", "currency": "ZZZ"}}, 422, {"currency": ["value_is_invalid"]}),
    ({"customer": {"external_id": "c1", "timezone": "Nowhere"}}, 422, {"timezone": ["invalid_timezone"]}),
    ({"customer": {"external_id": "c1", "net_payment_term": "ten"}}, 422, {"net_payment_term": ["value_is_invalid"]}),
    ({"customer": {"external_id": 12}}, 422, {"external_id": ["value_is_invalid"]}),
    ({"customer": {"external_id": "c1", "billing_configuration": {"invoice_grace_period": -1}}}, 422, {"invoice_grace_period": ["value_is_invalid"]}),
    ({"customer": {"external_id": "c1", "billing_configuration": "x"}}, 422, {"billing_configuration": ["value_is_invalid"]}),
])
def test_bad_input_is_422_and_nothing_written(api, entity, payload, status, expected):
    assert_error(api.post("customers", payload), status, error_details=expected)
    assert not Customer.objects.exists()


def test_unknown_billing_entity_and_tax_are_404(api, entity):
    assert_error(api.post("customers", {"customer": {"external_id": "c1", "billing_entity_code": "nope"}}), 404, "billing_entity_not_found")
    assert_error(api.post("customers", {"customer": {"external_id": "c1", "tax_codes": ["nope"]}}), 404, "tax_not_found")
    assert not Customer.objects.exists()


def test_billing_entity_code_and_taxes(api, entity):
    factories.billing_entity(code="acme-eu")
    factories.tax(code="vat-20", rate="20")
    body = api.post("customers", {"customer": {"external_id": "c1", "billing_entity_code": "acme-eu", "tax_codes": ["vat-20"]}}).json()["customer"]
    assert body["billing_entity_code"] == "acme-eu" and [t["code"] for t in body["taxes"]] == ["vat-20"]


def test_find_and_delete(api, entity):
    customer = factories.customer(entity, external_id="c1")
    assert api.get("customers/c1").json()["customer"]["lago_id"] == str(customer.pk)
    assert assert_error(api.get("customers/nope"), 404) == {"status": 404, "error": "Not Found", "code": "customer_not_found"}
    deleted = api.delete("customers/c1")
    assert deleted.status_code == 200 and deleted.json()["customer"]["external_id"] == "c1"
    customer.refresh_from_db()
    assert customer.deleted_at is not None
    assert_error(api.get("customers/c1"), 404, "customer_not_found")
    assert_error(api.delete("customers/c1"), 404, "customer_not_found")
    assert AuditLogEntry.objects.filter(action="customer.deleted").count() == 1
    # Its external_id stays taken (the row is kept for its invoices).
    assert_error(api.post("customers", {"customer": {"external_id": "c1"}}), 422, error_details={"external_id": ["value_already_exist"]})


def test_list_filters_and_meta(api, entity):
    other = factories.billing_entity(code="acme-eu")
    factories.customer(entity, external_id="us-1", name="Hooli", currency="USD", country="US")
    factories.customer(other, external_id="fr-1", name="Pied Piper", currency="EUR", country="FR")
    factories.customer(entity, external_id="fr-2", name="Raviga", currency="EUR", country="FR")

    def ids(query):
        response = api.get("customers", query)
        assert response.status_code == 200
        return sorted(c["external_id"] for c in response.json()["customers"])

    assert ids({}) == ["fr-1", "fr-2", "us-1"]
    assert ids({"currencies[]": ["EUR"]}) == ["fr-1", "fr-2"]
    assert ids({"countries[]": ["US"]}) == ["us-1"]
    assert ids({"billing_entity_codes[]": ["acme-eu"]}) == ["fr-1"]
    assert ids({"search_term": "pied"}) == ["fr-1"]
    body = api.get("customers", {"per_page": 2, "page": 2}).json()
    assert body["meta"] == {"current_page": 2, "next_page": None, "prev_page": 1, "total_pages": 2, "total_count": 3}
    assert len(body["customers"]) == 1
    empty = api.get("customers", {"search_term": "zzz"}).json()
    assert empty == {"customers": [], "meta": {"current_page": 0, "next_page": None, "prev_page": None, "total_pages": 0, "total_count": 0}}
    assert_error(api.get("customers", {"page": "x"}), 400)


def test_seed_003_body_with_its_two_commas_fixed_creates_the_customer(api, entity):
    fixed = SEED_003_BODY.replace('"tax_codes": []\n', '"tax_codes": [],\n').replace('"document_locale": "fr",\n', '"document_locale": "fr"\n')
    response = api.post("customers", raw=fixed)
    assert response.status_code == 200, response.content
    body = response.json()["customer"]
    assert body["billing_configuration"]["invoice_grace_period"] == 3 and body["timezone"] == "Europe/Paris"
    customer = Customer.objects.get(external_id="5eb02857-a71e-4ea2-bcf9-57d3a41bc6ba")
    assert (customer.currency, customer.legal_name, customer.effective_grace_period) == ("EUR", "Coleman-Blair", 3)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_first_upsert_that_loses_the_insert_race_updates_the_winner(api):
    import threading
    import time

    from django.db import connection, transaction

    entity = factories.billing_entity(code="acme", is_default=True)
    inserted, release = threading.Event(), threading.Event()

    def other_writer():
        with transaction.atomic():
            factories.customer(entity, external_id="c1", name="First")
            inserted.set()
            release.wait(10)
        connection.close()

    result = {}

    def api_call():
        result["response"] = api.post("customers", {"customer": {"external_id": "c1", "city": "Paris"}})
        connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert inserted.wait(10)
    caller = threading.Thread(target=api_call)
    caller.start()
    time.sleep(0.5)  # the API's insert now waits on the uncommitted row (or its counter lock)
    release.set()
    writer.join()
    caller.join()
    assert result["response"].status_code == 200, result["response"].content
    customer = Customer.objects.get(external_id="c1")
    assert (customer.name, customer.city) == ("First", "Paris")
    assert AuditLogEntry.objects.filter(action="customer.updated").count() == 1
