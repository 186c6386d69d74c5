"""/api/v1/taxes: CRUD by code through customers.taxes (audited); Lago's shapes and errors; what drafts do."""
import pytest

from audit.models import AuditLogEntry
from customers.models import Tax
from invoices.models import FeeTax, Invoice, InvoiceTax
from tests import credit_factories as c
from tests import factories
from tests.api_support import assert_error

pytestmark = pytest.mark.django_db

VAT = {"tax": {"name": "VAT", "code": "vat_20", "rate": "20.0", "description": "French VAT"}}


def test_tax_crud_by_code(api):
    created = api.post("taxes", VAT)
    assert created.status_code == 200, created.content
    body = created.json()["tax"]
    assert (body["code"], body["name"], body["rate"], body["description"], body["applied_to_organization"]) == (
        "vat_20", "VAT", 20.0, "French VAT", False)
    assert AuditLogEntry.objects.filter(action="tax.created", source="api", object_id=body["lago_id"]).exists()

    api.post("taxes", {"tax": {"name": "Reduced", "code": "vat_5", "rate": 5.5}})  # the Python client sends a number
    listed = api.get("taxes", {"per_page": 1}).json()
    assert len(listed["taxes"]) == 1 and listed["meta"]["total_count"] == 2 and listed["meta"]["next_page"] == 2

    updated = api.put("taxes/vat_20", {"tax": {"rate": "19.6"}})
    assert updated.status_code == 200 and updated.json()["tax"]["rate"] == 19.6
    assert AuditLogEntry.objects.get(action="tax.updated").before["rate"] == "20"
    assert api.get("taxes/vat_20").json()["tax"]["rate"] == 19.6

    deleted = api.delete("taxes/vat_20")
    assert deleted.status_code == 200 and deleted.json()["tax"]["lago_id"] == body["lago_id"]
    assert not Tax.objects.filter(code="vat_20").exists()
    assert_error(api.get("taxes/vat_20"), 404, "tax_not_found")


def test_tax_errors(api):
    api.post("taxes", VAT)
    assert_error(api.post("taxes", VAT), 422, error_details={"code": ["value_already_exist"]})
    assert_error(api.post("taxes", {"tax": {"name": "X", "code": "x"}}), 422, error_details={"rate": ["value_is_mandatory"]})
    assert_error(api.post("taxes", {"tax": {"name": "X", "code": "x", "rate": "abc"}}), 422, error_details={"rate": ["value_is_invalid"]})
    assert_error(api.post("taxes", {"tax": {"name": "X", "code": "x", "rate": "101"}}), 422, error_details={"rate": ["value_is_invalid"]})
    assert_error(api.post("taxes", {"nope": {}}), 400)
    assert_error(api.put("taxes/zzz", {"tax": {"rate": "1"}}), 404, "tax_not_found")
    assert_error(api.delete("taxes/zzz"), 404, "tax_not_found")
    assert Tax.objects.count() == 1 and AuditLogEntry.objects.filter(action__startswith="tax.").count() == 1


def test_a_rate_change_restates_drafts_and_spares_finalized_invoices(api):
    tax = factories.tax(code="vat", rate="20")
    customer = factories.customer()
    draft = factories.invoice(customer, fees=[(1, 10000)], taxes=[tax])
    final = c.finalized(customer, fees=[(1, 10000)], taxes=[tax])
    assert draft.taxes_amount_cents == 2000 and final.taxes_amount_cents == 2000

    api.put("taxes/vat", {"tax": {"rate": "10"}})
    draft.refresh_from_db()
    final.refresh_from_db()
    assert draft.taxes_amount_cents == 1000 and draft.total_amount_cents == 11000
    assert final.taxes_amount_cents == 2000 and InvoiceTax.objects.get(invoice=final).tax_rate == 20
    assert AuditLogEntry.objects.filter(action="invoice.taxes_restated", invoice=draft).exists()


def test_delete_detaches_the_tax_as_lago(api):
    tax = factories.tax(code="vat", rate="20")
    entity = factories.billing_entity()
    entity.taxes.add(tax)
    customer = factories.customer(entity)
    customer.taxes.add(tax)
    draft = factories.invoice(customer, fees=[(1, 10000)], taxes=[tax])
    final = c.finalized(customer, fees=[(1, 10000)], taxes=[tax])

    assert api.delete("taxes/vat").status_code == 200
    draft.refresh_from_db()
    final.refresh_from_db()
    # The draft drops it and is recomputed; the finalized invoice keeps its snapshot, detached.
    assert draft.taxes_amount_cents == 0 and not FeeTax.objects.filter(fee__invoice=draft).exists()
    assert final.taxes_amount_cents == 2000
    line = InvoiceTax.objects.get(invoice=final)
    assert line.tax_id is None and line.tax_code == "vat"
    assert not customer.taxes.exists() and not entity.taxes.exists()
    assert Invoice.objects.get(pk=final.pk).status == "finalized"


@pytest.mark.lago_spec
def test_tax_answers_conform_to_lagos_spec(api):
    from tests.lago_spec import assert_conforms

    assert_conforms("POST", "/taxes", api.post("taxes", VAT), status=200)
    assert_conforms("POST", "/taxes", api.post("taxes", VAT), status=422)
    assert_conforms("GET", "/taxes", api.get("taxes"), status=200)
    assert_conforms("GET", "/taxes/{code}", api.get("taxes/vat_20"), status=200)
    assert_conforms("GET", "/taxes/{code}", api.get("taxes/zzz"), status=404)
    assert_conforms("PUT", "/taxes/{code}", api.put("taxes/vat_20", {"tax": {"name": "TVA"}}), status=200)
    assert_conforms("DELETE", "/taxes/{code}", api.delete("taxes/vat_20"), status=200)


@pytest.mark.django_db(transaction=True)
def test_taxes_through_lago_python_client(live_server):
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import Tax as LagoTax

    from api.models import ApiKey

    _, raw = ApiKey.issue("lago-client")
    lago = Client(api_key=raw, api_url=live_server.url)
    created = lago.taxes.create(LagoTax(name="VAT", code="vat_20", rate=20.0, description="VAT"))
    assert created.code == "vat_20" and created.rate == 20.0
    assert lago.taxes.update(LagoTax(rate=19.6), "vat_20").rate == 19.6
    assert lago.taxes.find("vat_20").name == "VAT"
    assert [t.code for t in lago.taxes.find_all()["taxes"]] == ["vat_20"]
    assert lago.taxes.destroy("vat_20").code == "vat_20"
    with pytest.raises(LagoApiError) as missing:
        lago.taxes.find("vat_20")
    assert missing.value.status_code == 404
