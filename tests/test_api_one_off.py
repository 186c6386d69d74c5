"""POST /invoices: one-off invoices from add-ons (seed 004), through invoices.transitions.one_off.

Fails until the one-off invoices issue (invoices/transitions/one_off.py) is merged: the stub raises NotImplementedError.
"""
from decimal import Decimal

import pytest
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models import InvoiceFee, InvoiceFeesList, OneOffInvoice

from addons.models import AddOn
from api.models import ApiKey
from audit.models import AuditLogEntry
from invoices.models import Invoice
from tests import factories
from tests.api_support import assert_error
from tests.seed_bodies import SEED_004_BODY
from webhooks.models import WebhookEvent



@pytest.fixture
def setup(db):
    entity = factories.billing_entity(code="acme", is_default=True)
    customer = factories.customer(entity, external_id="hooli_1234", currency="USD")
    AddOn.objects.create(code="setup_fee", name="Setup fee", amount_cents=40000, amount_currency="USD")
    AddOn.objects.create(code="customer_success", name="Customer success", amount_cents=90000, amount_currency="USD")
    return customer


def test_seed_004_body_verbatim(api, setup):
    response = api.post("invoices", raw=SEED_004_BODY)
    assert response.status_code == 200, response.content
    body = response.json()["invoice"]
    assert (body["invoice_type"], body["status"], body["currency"]) == ("one_off", "finalized", "USD")
    assert body["fees_amount_cents"] == 250000 and len(body["fees"]) == 2
    assert [f["item"]["code"] for f in body["fees"]] == ["setup_fee", "customer_success"]
    assert body["fees"][1]["units"] == "2.0" and body["fees"][1]["amount_cents"] == 200000
    invoice = Invoice.objects.get(pk=body["lago_id"])
    assert invoice.customer == setup
    assert AuditLogEntry.objects.filter(invoice=invoice, source="api").exists()
    assert WebhookEvent.objects.filter(webhook_type="invoice.one_off_created", object_id=str(invoice.pk)).exists()
    assert api.get(f"invoices/{invoice.pk}").json()["invoice"]["number"] == body["number"]


@pytest.mark.parametrize("change, code", [
    ({"external_customer_id": "nobody"}, "customer_not_found"),
    ({"fees": []}, "fees_not_found"),
    ({"fees": [{"add_on_code": "nope"}]}, "add_on_not_found"),
])
def test_not_found_cases(api, setup, change, code):
    body = {"invoice": {"external_customer_id": "hooli_1234", "currency": "USD", "fees": [{"add_on_code": "setup_fee"}], **change}}
    assert_error(api.post("invoices", body), 404, code)
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("fee, field", [
    ({"add_on_code": "setup_fee", "units": "many"}, "fees.0.units"),
    ({"add_on_code": "setup_fee", "unit_amount_cents": "100.00"}, "fees.0.unit_amount_cents"),
    ({"add_on_code": "setup_fee", "from_datetime": "yesterday", "to_datetime": "2025-12-31T23:59:59Z"}, "fees.0.from_datetime"),
])
def test_bad_fees_are_422(api, setup, fee, field):
    body = assert_error(api.post("invoices", {"invoice": {"external_customer_id": "hooli_1234", "fees": [fee]}}), 422)
    assert field in body["error_details"]
    assert not Invoice.objects.exists()


def test_currency_mismatch_is_422_and_nothing_written(api, setup):
    assert_error(api.post("invoices", {"invoice": {"external_customer_id": "hooli_1234", "currency": "EUR",
                                                   "fees": [{"add_on_code": "setup_fee"}]}}), 422)
    assert not Invoice.objects.exists()


def test_defaults_from_the_add_on_and_fractional_units(api, setup):
    body = api.post("invoices", {"invoice": {"external_customer_id": "hooli_1234",
                                             "fees": [{"add_on_code": "setup_fee", "units": 1.5}]}}).json()["invoice"]
    assert body["fees"][0]["unit_amount_cents"] == 40000 and body["fees"][0]["amount_cents"] == 60000
    assert Invoice.objects.get().fees.get().units == Decimal("1.5")


@pytest.mark.django_db(transaction=True)
def test_with_the_lago_client(live_server):
    entity = factories.billing_entity(code="acme", is_default=True)
    factories.customer(entity, external_id="hooli_1234", currency="USD")
    AddOn.objects.create(code="setup_fee", name="Setup fee", amount_cents=40000, amount_currency="USD")
    lago = Client(api_key=ApiKey.issue("one-off")[1], api_url=live_server.url)
    invoice = lago.invoices.create(OneOffInvoice(
        external_customer_id="hooli_1234", currency="USD",
        fees=InvoiceFeesList(__root__=[InvoiceFee(add_on_code="setup_fee", units=2, unit_amount_cents=50000)]),
    ))
    assert invoice.invoice_type == "one_off" and invoice.status == "finalized" and invoice.total_amount_cents == 100000
    assert lago.invoices.find(invoice.lago_id).number == invoice.number
    with pytest.raises(LagoApiError) as missing:
        lago.invoices.create(OneOffInvoice(external_customer_id="nobody", currency="USD",
                                           fees=InvoiceFeesList(__root__=[InvoiceFee(add_on_code="setup_fee")])))
    assert missing.value.status_code == 404 and missing.value.response["code"] == "customer_not_found"
