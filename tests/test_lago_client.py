"""The real lago-python-client 1.55.0 against live_server: it works unchanged, errors included."""
import base64

import pytest
from django.conf import settings
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models import (
    AddOn,
    BillingEntityBillingConfiguration,
    BillingEntityUpdate,
    Customer,
    CustomerBillingConfiguration,
    Invoice,
    InvoiceMetadata,
    InvoiceMetadataList,
    Organization,
    OrganizationBillingConfiguration,
    WebhookEndpoint,
)

from api.models import ApiKey
from customers.models import Customer as CustomerRow
from invoices.models import Invoice as InvoiceRow
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lago(live_server):
    _, raw = ApiKey.issue("lago-client")
    return Client(api_key=raw, api_url=live_server.url)


@pytest.fixture
def entity():
    return factories.billing_entity(code="acme", name="Acme", is_default=True, finalize_zero_amount_invoice=False)


def test_billing_entity_update_and_find(lago, entity):
    updated = lago.billing_entities.update(
        BillingEntityUpdate(name="Acme Corp", finalize_zero_amount_invoice=True, net_payment_term=30,
                            billing_configuration=BillingEntityBillingConfiguration(invoice_footer="Thanks")),
        "acme",
    )
    assert updated.name == "Acme Corp" and updated.finalize_zero_amount_invoice is True and updated.net_payment_term == 30
    assert lago.billing_entities.find("acme").invoice_footer == "Thanks"
    assert [e.code for e in lago.billing_entities.find_all()["billing_entities"]] == ["acme"]
    org = lago.organizations.update(Organization(default_currency="EUR",
                                                 billing_configuration=OrganizationBillingConfiguration(document_locale="fr")))
    # The organization's name is the instance's (ORGANIZATION_NAME), not its default entity's.
    assert org.name == settings.ORGANIZATION_NAME and org.billing_configuration.document_locale == "fr"


def test_customer_upsert_with_skip_and_a_grace_period(lago, entity):
    created = lago.customers.create(Customer(
        external_id="hooli", name="Hooli", currency="USD", finalize_zero_amount_invoice="skip",
        billing_configuration=CustomerBillingConfiguration(invoice_grace_period=3),
    ))
    assert created.finalize_zero_amount_invoice == "skip" and created.billing_configuration.invoice_grace_period == 3
    again = lago.customers.create(Customer(external_id="hooli", city="Austin"))
    assert again.lago_id == created.lago_id and again.city == "Austin" and again.name == "Hooli"
    row = CustomerRow.objects.get(external_id="hooli")
    assert row.finalizes_empty_invoices() is False and row.effective_grace_period == 3
    assert lago.customers.find("hooli").external_id == "hooli"
    page = lago.customers.find_all({"currencies": ["USD"], "per_page": 10})
    assert [c.external_id for c in page["customers"]] == ["hooli"] and page["meta"]["total_count"] == 1
    assert lago.customers.destroy("hooli").external_id == "hooli"


def test_add_ons(lago, entity):
    add_on = lago.add_ons.create(AddOn(name="Setup", code="setup", amount_cents=50000, amount_currency="USD"))
    assert add_on.amount_cents == 50000
    assert lago.add_ons.update(AddOn(amount_cents=60000), "setup").amount_cents == 60000
    assert lago.add_ons.find("setup").amount_cents == 60000
    assert [a.code for a in lago.add_ons.find_all()["add_ons"]] == ["setup"]
    with pytest.raises(LagoApiError) as duplicate:
        lago.add_ons.create(AddOn(name="Setup", code="setup", amount_cents=1, amount_currency="USD"))
    assert duplicate.value.status_code == 422
    assert duplicate.value.response == {"status": 422, "error": "Unprocessable Entity", "code": "validation_errors",
                                        "error_details": {"code": ["value_already_exist"]}}
    assert lago.add_ons.destroy("setup").code == "setup"
    with pytest.raises(LagoApiError) as gone:
        lago.add_ons.find("setup")
    assert gone.value.status_code == 404 and gone.value.response["code"] == "add_on_not_found"


def test_invoices_find_list_finalize_update_and_errors(lago, entity):
    customer = factories.customer(entity, external_id="hooli")
    draft = factories.invoice(customer, fees=[(2, 1250)])
    found = lago.invoices.find(str(draft.pk))
    assert found.status == "draft" and found.fees_amount_cents == 2500 and found.customer.external_id == "hooli"

    finalized = lago.invoices.finalize(str(draft.pk))
    assert finalized.status == "finalized" and finalized.total_amount_cents == 2500 and finalized.number.endswith("-001")
    listed = lago.invoices.find_all({"external_customer_id": "hooli", "statuses": ["finalized"], "payment_overdue": False})
    assert [i.lago_id for i in listed["invoices"]] == [str(draft.pk)] and listed["meta"]["total_count"] == 1

    paid = lago.invoices.update(Invoice(payment_status="succeeded",
                                        metadata=InvoiceMetadataList(__root__=[InvoiceMetadata(key="po", value="42")])), str(draft.pk))
    assert paid.payment_status == "succeeded" and paid.total_due_amount_cents == 0
    assert [(m.key, m.value) for m in paid.metadata.__root__] == [("po", "42")]
    downloaded = lago.invoices.download(str(draft.pk))  # rendered after finalization (sync task queue in tests)
    assert downloaded.number == finalized.number and downloaded.file_url.endswith(".pdf")

    with pytest.raises(LagoApiError) as not_found:
        lago.invoices.finalize(str(draft.pk))
    assert not_found.value.status_code == 404
    assert not_found.value.response == {"status": 404, "error": "Not Found", "code": "invoice_not_found"}

    with pytest.raises(LagoApiError) as not_deletable:
        lago.invoices.destroy(str(draft.pk))
    assert not_deletable.value.status_code == 405
    assert not_deletable.value.response == {"status": 405, "error": "Method Not Allowed", "code": "not_deletable"}

    other = factories.invoice(customer, fees=[(1, 100)])
    with pytest.raises(LagoApiError) as on_draft:
        lago.invoices.update(Invoice(payment_status="succeeded"), str(other.pk))
    assert on_draft.value.status_code == 405 and on_draft.value.response["code"] == "payment_status_update_on_draft_invoice"
    assert lago.invoices.destroy(str(other.pk)).status == "deleted"
    assert InvoiceRow.objects.get(pk=other.pk).status == "deleted"


def test_422_and_401_surface_as_lago_api_error(lago, entity, live_server):
    with pytest.raises(LagoApiError) as invalid:
        lago.customers.create(Customer(external_id="c1", finalize_zero_amount_invoice="sometimes"))
    assert invalid.value.status_code == 422
    assert invalid.value.response["error_details"] == {"finalize_zero_amount_invoice": ["invalid_value"]}
    assert not CustomerRow.objects.exists()
    with pytest.raises(LagoApiError) as unauthorized:
        Client(api_key="bc_wrong", api_url=live_server.url).customers.find_all()
    assert unauthorized.value.status_code == 401 and unauthorized.value.response == {"status": 401, "error": "Unauthorized"}


def test_webhook_endpoints_and_public_key(lago):
    endpoint = lago.webhook_endpoints.create(WebhookEndpoint(webhook_url="https://erp.test/hooks", signature_algo="hmac"))
    assert endpoint.signature_algo == "hmac"
    assert lago.webhook_endpoints.find(endpoint.lago_id).webhook_url == "https://erp.test/hooks"
    assert lago.webhook_endpoints.update(WebhookEndpoint(name="ERP"), endpoint.lago_id).name == "ERP"
    assert len(lago.webhook_endpoints.find_all()["webhook_endpoints"]) == 1
    assert lago.webhook_endpoints.destroy(endpoint.lago_id).lago_id == endpoint.lago_id
    pem = lago.webhooks.public_key()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert base64.b64encode(pem)
