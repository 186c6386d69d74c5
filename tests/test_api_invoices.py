"""/invoices: find (visible only), list with Lago's filters and order, payment status and
metadata updates with their 405s, finalize (non-drafts are 404), delete drafts, download."""
from datetime import datetime, timezone as dt_timezone

import pytest
from django.core.files.base import ContentFile

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice
from tests import factories
from tests.api_support import assert_error
from webhooks.models import WebhookEvent

SYSTEM = Actor.system()


def finalized(cust=None, fees=((1, 1000),), now=None, **kwargs):
    inv = factories.invoice(cust, fees=fees, **kwargs)
    finalize_invoice(inv.pk, SYSTEM, now=now)
    inv.refresh_from_db()
    return inv


@pytest.fixture
def customer(db):
    return factories.customer(factories.billing_entity(code="acme"), external_id="hooli", name="Hooli")


def test_find_visible_statuses_only(api, customer):
    draft = factories.invoice(customer, fees=[(2, 500)])
    body = api.get(f"invoices/{draft.pk}").json()["invoice"]
    assert (body["status"], body["fees_amount_cents"], len(body["fees"])) == ("draft", 1000, 1)
    assert body["customer"]["external_id"] == "hooli"
    closed = factories.invoice(factories.customer(customer.billing_entity, finalize_zero_amount_invoice="skip"))
    assert finalize_invoice(closed.pk, SYSTEM).result == "closed"
    assert assert_error(api.get(f"invoices/{closed.pk}"), 404) == {"status": 404, "error": "Not Found", "code": "invoice_not_found"}
    assert_error(api.get("invoices/not-a-uuid"), 404, "invoice_not_found")
    assert_error(api.get("invoices/00000000-0000-0000-0000-000000000000"), 404, "invoice_not_found")


def test_list_order_shape_and_filters(api, customer):
    other = factories.customer(factories.billing_entity(code="acme-eu"), external_id="piper", name="Pied Piper", currency="EUR")
    draft = factories.invoice(customer, fees=[(1, 100)])
    # The issuing date is the finalization day (frozen afterwards), so each is finalized on its day.
    paid = finalized(customer, fees=[(1, 5000)], now=datetime(2026, 1, 15, 12, tzinfo=dt_timezone.utc))
    euro = finalized(other, fees=[(1, 20000)], now=datetime(2026, 3, 1, 12, tzinfo=dt_timezone.utc))
    Invoice.objects.filter(pk=paid.pk).update(payment_status="succeeded")
    Invoice.objects.filter(pk=euro.pk).update(payment_overdue=True,
                                              metadata=[{"lago_id": "m1", "key": "po", "value": "42"}])

    def numbers(query=None):
        response = api.get("invoices", query)
        assert response.status_code == 200, response.content
        return [i["lago_id"] for i in response.json()["invoices"]]

    everything = api.get("invoices").json()
    assert [i["lago_id"] for i in everything["invoices"]] == [str(draft.pk), str(euro.pk), str(paid.pk)]  # drafts (no date) first, then issuing_date desc
    assert "fees" not in everything["invoices"][0] and everything["invoices"][1]["customer"]["external_id"] == "piper"
    assert everything["meta"]["total_count"] == 3
    assert numbers({"external_customer_id": "hooli"}) == [str(draft.pk), str(paid.pk)]
    assert numbers({"statuses[]": ["draft"]}) == [str(draft.pk)]
    assert numbers({"status": "finalized"}) == [str(euro.pk), str(paid.pk)]
    assert numbers({"payment_status": "succeeded"}) == [str(paid.pk)]
    assert numbers({"payment_statuses[]": ["pending"], "statuses[]": ["finalized"]}) == [str(euro.pk)]
    assert numbers({"invoice_type": "one_off"}) == []
    assert numbers({"issuing_date_from": "2026-02-01"}) == [str(euro.pk)]
    assert numbers({"issuing_date_to": "2026-02-01"}) == [str(paid.pk)]
    assert numbers({"payment_overdue": "true"}) == [str(euro.pk)]
    assert numbers({"payment_overdue": "False"}) == [str(draft.pk), str(paid.pk)]
    assert numbers({"search_term": "pied"}) == [str(euro.pk)]
    assert numbers({"search_term": paid.number}) == [str(paid.pk)]
    assert numbers({"currency": "eur"}) == [str(euro.pk)]
    assert numbers({"amount_from": 1000, "amount_to": 10000}) == [str(paid.pk)]
    assert numbers({"billing_entity_codes[]": ["acme-eu"]}) == [str(euro.pk)]
    assert numbers({"metadata[po]": "42"}) == [str(euro.pk)]
    assert numbers({"payment_dispute_lost": "true"}) == []
    assert numbers({"self_billed": "false"}) == [str(draft.pk), str(euro.pk), str(paid.pk)]


@pytest.mark.parametrize("query, field", [
    ({"statuses[]": ["closed"]}, "statuses"), ({"status": "bogus"}, "statuses"),
    ({"payment_status": "paid"}, "payment_statuses"), ({"invoice_type": "weird"}, "invoice_type"),
    ({"issuing_date_from": "15/01/2026"}, "issuing_date_from"), ({"payment_overdue": "maybe"}, "payment_overdue"),
    ({"amount_from": "1.5"}, "amount_from"),
])
def test_bad_filters_are_422(api, customer, query, field):
    body = assert_error(api.get("invoices", query), 422)
    assert list(body["error_details"]) == [field]


def test_payment_status_update(api, customer):
    inv = finalized(customer)
    Invoice.objects.filter(pk=inv.pk).update(payment_overdue=True)
    response = api.put(f"invoices/{inv.pk}", {"invoice": {"payment_status": "succeeded"}})
    assert response.status_code == 200
    body = response.json()["invoice"]
    assert (body["payment_status"], body["payment_overdue"], body["total_due_amount_cents"]) == ("succeeded", False, 0)
    inv.refresh_from_db()
    assert inv.payment_status == "succeeded" and inv.payment_overdue is False and inv.total_paid_amount_cents == 1000
    entry = AuditLogEntry.objects.get(action="invoice.payment_status_updated")
    assert entry.source == "api" and entry.invoice_id == inv.pk and entry.before["payment_status"] == "pending"
    assert WebhookEvent.objects.filter(webhook_type="invoice.payment_status_updated", object_id=str(inv.pk)).count() == 1


def test_update_refusals(api, customer):
    draft = factories.invoice(customer, fees=[(1, 100)])
    assert_error(api.put(f"invoices/{draft.pk}", {"invoice": {"payment_status": "succeeded"}}), 405, "payment_status_update_on_draft_invoice")
    assert_error(api.put(f"invoices/{draft.pk}", {"invoice": {"metadata": [{"key": "a", "value": "b"}]}}), 405, "metadata_on_draft_invoice")
    voided = finalized(customer)
    Invoice.objects.filter(pk=voided.pk).update(status="voided")
    assert_error(api.put(f"invoices/{voided.pk}", {"invoice": {"payment_status": "succeeded"}}), 405, "update_on_voided_invoice")
    inv = finalized(customer)
    assert_error(api.put(f"invoices/{inv.pk}", {"invoice": {"payment_status": "paid"}}), 422,
                 error_details={"payment_status": ["value_is_invalid"]})
    assert_error(api.put(f"invoices/{inv.pk}", {"invoice": {"metadata": "x"}}), 422, error_details={"metadata": ["value_is_invalid"]})
    # payment_status valid but metadata bad: nothing is written
    assert_error(api.put(f"invoices/{inv.pk}", {"invoice": {"payment_status": "succeeded", "metadata": [{"value": "b"}]}}), 422)
    inv.refresh_from_db()
    assert inv.payment_status == "pending" and inv.metadata == []
    assert not AuditLogEntry.objects.filter(source="api").exists()


def test_metadata_add_update_remove(api, customer):
    inv = finalized(customer)
    first = api.put(f"invoices/{inv.pk}", {"invoice": {"metadata": [{"key": "po", "value": "1"}, {"key": "ref", "value": "x"}]}})
    items = first.json()["invoice"]["metadata"]
    assert [(m["key"], m["value"]) for m in items] == [("po", "1"), ("ref", "x")]
    po_id = items[0]["lago_id"]
    second = api.put(f"invoices/{inv.pk}", {"invoice": {"metadata": [{"id": po_id, "key": "po", "value": "2"}]}}).json()["invoice"]
    assert [(m["lago_id"], m["key"], m["value"]) for m in second["metadata"]] == [(po_id, "po", "2")]
    assert AuditLogEntry.objects.filter(action="invoice.metadata_updated", source="api").count() == 2


def test_finalize(api, customer):
    draft = factories.invoice(customer, fees=[(3, 1000)])
    response = api.put(f"invoices/{draft.pk}/finalize")
    assert response.status_code == 200, response.content
    body = response.json()["invoice"]
    assert body["status"] == "finalized" and body["total_amount_cents"] == 3000 and "DRAFT" not in body["number"]
    entry = AuditLogEntry.objects.get(action="invoice.finalized")
    assert entry.source == "api" and entry.api_key_name == "integration"
    assert WebhookEvent.objects.filter(webhook_type="invoice.created", object_id=str(draft.pk)).exists()
    # Lago looks finalize up among drafts: a finalized (or unknown) invoice is 404, not 405.
    assert_error(api.put(f"invoices/{draft.pk}/finalize"), 404, "invoice_not_found")
    assert_error(api.put("invoices/00000000-0000-0000-0000-000000000000/finalize"), 404, "invoice_not_found")


def test_delete_drafts_only(api, customer):
    draft = factories.invoice(customer, fees=[(1, 100)])
    response = api.delete(f"invoices/{draft.pk}")
    assert response.status_code == 200 and response.json()["invoice"]["status"] == "deleted"
    draft.refresh_from_db()
    assert draft.status == "deleted"
    assert AuditLogEntry.objects.get(action="invoice.deleted").source == "api"
    assert_error(api.get(f"invoices/{draft.pk}"), 404, "invoice_not_found")
    assert draft.pk not in [i["lago_id"] for i in api.get("invoices").json()["invoices"]]
    inv = finalized(customer)
    assert assert_error(api.delete(f"invoices/{inv.pk}"), 405) == {"status": 405, "error": "Method Not Allowed", "code": "not_deletable"}
    inv.refresh_from_db()
    assert inv.status == "finalized"


def test_download(api, customer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = factories.invoice(customer, fees=[(1, 100)])
    assert_error(api.post(f"invoices/{draft.pk}/download"), 404, "invoice_not_found")
    inv = finalized(customer)
    empty = api.post(f"invoices/{inv.pk}/download")
    assert empty.status_code == 200 and empty.content == b""
    inv.pdf_file.save("inv.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    Invoice.objects.filter(pk=inv.pk).update(pdf_file=inv.pdf_file.name)
    body = api.post(f"invoices/{inv.pk}/download").json()["invoice"]
    # A signed link under PUBLIC_URL, not a storage path (tests/test_document_links.py fetches it).
    assert body["file_url"].startswith(f"{settings.PUBLIC_URL}/documents/") and body["file_url"].endswith(f"/{inv.number}.pdf")
    assert "/media/" not in body["file_url"]
