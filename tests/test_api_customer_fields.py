"""Issue 10: every customer field Lago accepts is stored and answered, or refused with a 422 (never dropped);
metadata follows Lago's list upsert; lists scope on every filter Lago documents; fee precise amounts are in
major units per currency exponent."""
import pytest

from audit.models import AuditLogEntry
from credit_notes.models import CreditNote
from customers.models import Customer, CustomerMetadata
from tests import credit_factories as c
from tests import factories
from tests.api_support import assert_error
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

FULL = {
    "external_id": "hooli", "name": "Hooli", "firstname": "Gavin", "lastname": "Belson", "account_type": "partner",
    "customer_type": "company", "logo_url": "https://hooli.example/logo.png",
    "shipping_address": {"address_line1": "2 Dock St", "address_line2": "Bay 4", "city": "Oakland", "state": "CA",
                         "zipcode": "94607", "country": "us"},
    "billing_configuration": {"document_locale": "fr", "payment_provider": "stripe", "payment_provider_code": "stripe-main",
                              "provider_customer_id": "cus_123", "sync": True, "sync_with_provider": True,
                              "provider_payment_methods": ["card", "sepa_debit"]},
    "metadata": [{"key": "vat_note", "value": "reverse charge", "display_in_invoice": True},
                 {"key": "crm_id", "value": "42"}],
}


@pytest.fixture(autouse=True)
def entity(db):
    return factories.billing_entity(code="acme", name="Acme", is_default=True, document_number_prefix="ACM")


def upsert(api, **fields):
    return api.post("customers", {"customer": {"external_id": "hooli", **fields}})


def test_every_field_is_stored_and_answered(api):
    response = api.post("customers", {"customer": FULL})
    assert response.status_code == 200, response.content
    body = response.json()["customer"]
    row = Customer.objects.get(external_id="hooli")
    assert (row.firstname, row.lastname, row.account_type, row.customer_type, row.logo_url) == (
        "Gavin", "Belson", "partner", "company", "https://hooli.example/logo.png")
    assert (row.shipping_address_line1, row.shipping_city, row.shipping_country) == ("2 Dock St", "Oakland", "US")
    assert (row.document_locale, row.payment_provider, row.payment_provider_code, row.provider_customer_id) == (
        "fr", "stripe", "stripe-main", "cus_123")
    assert row.sync and row.sync_with_provider and row.provider_payment_methods == ["card", "sepa_debit"]
    assert body["slug"] == f"ACM-{row.sequential_id:03d}"
    assert (body["firstname"], body["lastname"], body["account_type"], body["customer_type"], body["logo_url"]) == (
        "Gavin", "Belson", "partner", "company", "https://hooli.example/logo.png")
    assert body["shipping_address"] == {"address_line1": "2 Dock St", "address_line2": "Bay 4", "city": "Oakland",
                                        "state": "CA", "zipcode": "94607", "country": "US"}
    assert body["billing_configuration"] == {
        "document_locale": "fr", "payment_provider": "stripe", "payment_provider_code": "stripe-main",
        "provider_customer_id": "cus_123", "sync": True, "sync_with_provider": True,
        "provider_payment_methods": ["card", "sepa_debit"]}
    assert [(m["key"], m["value"], m["display_in_invoice"]) for m in body["metadata"]] == [
        ("vat_note", "reverse charge", True), ("crm_id", "42", False)]
    assert api.get("customers/hooli").json()["customer"] == body
    created = AuditLogEntry.objects.get(action="customer.created")
    assert created.after["metadata"] == ["vat_note=reverse charge (on invoices)", "crm_id=42"]
    assert WebhookEvent.objects.filter(webhook_type="customer.created").count() == 1


def test_metadata_upsert_is_lagos(api):
    first = api.post("customers", {"customer": FULL}).json()["customer"]["metadata"]
    vat, crm = first
    # With id: updated in place; without: created; left out (crm_id): deleted.
    answer = upsert(api, metadata=[{"id": vat["lago_id"], "key": "vat_note", "value": "exempt"},
                                   {"key": "region", "value": "emea", "display_in_invoice": True}]).json()["customer"]
    assert [(m["key"], m["value"], m["display_in_invoice"]) for m in answer["metadata"]] == [
        ("vat_note", "exempt", False), ("region", "emea", True)]
    assert answer["metadata"][0]["lago_id"] == vat["lago_id"]
    assert not CustomerMetadata.objects.filter(pk=crm["lago_id"]).exists()
    assert AuditLogEntry.objects.filter(action="customer.updated").count() == 1
    # Keys may be swapped between kept entries in one request.
    ids = [m["lago_id"] for m in answer["metadata"]]
    swapped = upsert(api, metadata=[{"id": ids[0], "key": "region", "value": "x"}, {"id": ids[1], "key": "vat_note", "value": "y"}])
    assert [(m["lago_id"], m["key"]) for m in swapped.json()["customer"]["metadata"]] == [(ids[0], "region"), (ids[1], "vat_note")]
    # Not sent: untouched; an unknown id is a new entry (Lago looks it up among the customer's only).
    assert len(upsert(api, name="Hooli Inc").json()["customer"]["metadata"]) == 2
    unknown = upsert(api, metadata=[{"id": "00000000-0000-0000-0000-000000000000", "key": "k", "value": "v"}]).json()
    assert [m["key"] for m in unknown["customer"]["metadata"]] == ["k"]
    assert upsert(api, metadata=[]).json()["customer"]["metadata"] == []


def test_refusals_are_422_and_write_nothing(api):
    upsert(api, name="Hooli")
    before = AuditLogEntry.objects.count()
    cases = [
        ({"account_type": "reseller"}, {"account_type": ["value_is_invalid"]}),
        ({"customer_type": "robot"}, {"customer_type": ["value_is_invalid"]}),
        ({"billing_configuration": {"payment_provider": "paypal"}}, {"payment_provider": ["value_is_invalid"]}),
        ({"billing_configuration": {"document_locale": "French"}}, {"document_locale": ["invalid_value"]}),
        ({"billing_configuration": {"sync": "yes"}}, {"billing_configuration.sync": ["value_is_invalid"]}),
        ({"billing_configuration": {"provider_payment_methods": "card"}},
         {"billing_configuration.provider_payment_methods": ["value_is_invalid"]}),
        ({"shipping_address": "2 Dock St"}, {"shipping_address": ["value_is_invalid"]}),
        ({"metadata": {"k": "v"}}, {"metadata": ["value_is_invalid"]}),
        ({"metadata": [{"key": f"k{i}", "value": "v"} for i in range(6)]}, {"metadata": ["invalid_count"]}),
        ({"metadata": [{"key": "k", "value": "v"}, {"key": "k", "value": "w"}]}, {"metadata": ["value_already_exist"]}),
        ({"metadata": [{"value": "v"}]}, {"metadata.0.key": ["value_is_mandatory"]}),
        ({"metadata": [{"key": "k", "value": 3}]}, {"metadata.0.value": ["value_is_invalid"]}),
    ]
    for fields, details in cases:
        assert_error(upsert(api, **fields), 422, error_details=details)
    assert AuditLogEntry.objects.count() == before and not CustomerMetadata.objects.exists()


def test_clearing_fields(api):
    api.post("customers", {"customer": FULL})
    body = upsert(api, firstname=None, customer_type=None, shipping_address=None,
                  billing_configuration={"payment_provider": None, "document_locale": None}).json()["customer"]
    assert body["firstname"] is None and body["customer_type"] is None
    assert set(body["shipping_address"].values()) == {None}
    assert "payment_provider" not in body["billing_configuration"] and "document_locale" not in body["billing_configuration"]
    assert body["account_type"] == "partner"  # null: unchanged


def test_customer_list_filters_scope(api):
    api.post("customers", {"customer": FULL})
    upsert_other = api.post("customers", {"customer": {"external_id": "pied", "state": "NY", "zipcode": "10001",
                                                       "tax_identification_number": "T1"}})
    assert upsert_other.status_code == 200
    ids = lambda **q: [c["external_id"] for c in api.get("customers", q).json()["customers"]]
    assert ids(**{"metadata[crm_id]": "42"}) == ["hooli"]
    assert ids(**{"metadata[crm_id]": "43"}) == []
    assert ids(**{"account_type[]": "partner"}) == ["hooli"]
    assert ids(customer_type="company") == ["hooli"]
    assert ids(has_customer_type="false") == ["pied"]
    assert ids(has_tax_identification_number="true") == ["pied"]
    assert ids(**{"states[]": "NY"}) == ["pied"] and ids(**{"zipcodes[]": "99999"}) == []
    assert_error(api.get("customers", {"account_type[]": "nobody"}), 422, error_details={"account_type": ["value_is_invalid"]})


def test_invoice_list_customer_external_id_is_an_alias(api):
    hooli = factories.customer(external_id="hooli")
    other = factories.customer(external_id="other")
    mine, theirs = factories.invoice(hooli, fees=[(1, 100)]), factories.invoice(other, fees=[(1, 100)])
    ids = lambda **q: [i["lago_id"] for i in api.get("invoices", q).json()["invoices"]]
    assert ids(customer_external_id="nobody") == []
    assert ids(customer_external_id="hooli") == [str(mine.pk)]
    assert ids(external_customer_id="other") == [str(theirs.pk)]
    assert ids(external_customer_id="hooli", customer_external_id="other") == []


def test_credit_note_list_filters_scope(api):
    cust = factories.customer(factories.billing_entity(code="eu"), external_id="hooli")
    invoice = c.finalized(cust, fees=[(1, 10000)])
    fee = invoice.fees.get()
    response = api.post("credit_notes", {"credit_note": {"invoice_id": str(invoice.pk), "reason": "order_change",
                                                         "items": [{"fee_id": str(fee.pk), "amount_cents": 1000}],
                                                         "credit_amount_cents": 1000}})
    assert response.status_code == 200, response.content
    note = CreditNote.objects.get()
    count = lambda **q: api.get("credit_notes", q).json()["meta"]["total_count"]
    assert count() == 1
    assert count(reason="order_change") == 1 and count(reason="other") == 0
    assert count(credit_status="available") == 1 and count(credit_status="voided") == 0
    assert count(invoice_number=invoice.number) == 1 and count(invoice_number="X") == 0
    assert count(currency=note.currency) == 1 and count(currency="JPY") == 0
    assert count(amount_from=note.total_amount_cents + 1) == 0 and count(amount_to=note.total_amount_cents) == 1
    assert count(issuing_date_from="2999-01-01") == 0
    assert count(**{"billing_entity_codes[]": "eu"}) == 1 and count(**{"billing_entity_codes[]": "us"}) == 0
    assert count(search_term=note.number) == 1 and count(search_term="zzz") == 0
    assert count(self_billed="true") == 0
    assert_error(api.get("credit_notes", {"reason": "because"}), 422, error_details={"reason": ["value_is_invalid"]})
    assert_error(api.get("credit_notes", {"issuing_date_from": "soon"}), 422, error_details={"issuing_date_from": ["invalid_date"]})


@pytest.mark.parametrize("currency,amount_cents,major", [("USD", 50000, "500.0"), ("JPY", 500, "500.0"), ("KWD", 500125, "500.125")])
def test_fee_precise_amounts_are_major_units(api, currency, amount_cents, major):
    api.post("customers", {"customer": {"external_id": "hooli", "currency": currency}})
    api.post("add_ons", {"add_on": {"name": "Setup", "code": "setup", "amount_cents": amount_cents, "amount_currency": currency}})
    response = api.post("invoices", {"invoice": {"external_customer_id": "hooli", "currency": currency,
                                                 "fees": [{"add_on_code": "setup", "units": 2}]}})
    assert response.status_code == 200, response.content
    fee = response.json()["invoice"]["fees"][0]
    assert fee["precise_unit_amount"] == major
    assert fee["unit_amount_cents"] == amount_cents and fee["amount_cents"] == 2 * amount_cents  # minor units
    assert fee["sub_total_excluding_taxes_amount_cents"] == 2 * amount_cents
    assert fee["sub_total_excluding_taxes_precise_amount_cents"] == f"{2 * amount_cents}.0"  # cents, as Lago
    assert fee["total_aggregated_units"] == "2.0" and fee["pay_in_advance"] is False and fee["invoiceable"] is True
    assert fee["external_customer_id"] == "hooli"
