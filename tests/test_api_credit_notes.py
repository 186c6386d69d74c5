"""/api/v1/credit_notes: create through credit_notes.services, find, list, void, download; and the real lago-python-client."""
import pytest
from django.conf import settings
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models import CreditNote as CreditNoteInput
from lago_python_client.models import Item, Items

from api.models import ApiKey
from audit.models import AuditLogEntry
from credit_notes.models import CreditNote
from tests import credit_factories as c
from tests import factories
from tests.api_support import assert_error
from webhooks.models import WebhookEvent


def finalized(external_id="hooli", fees=((1, 10000), (1, 5000))):
    vat = factories.tax(rate="20")
    cust = factories.customer(factories.billing_entity(), external_id=external_id)
    return c.finalized(cust, fees=list(fees), taxes=[vat])


def body(invoice, amount=1000, **kwargs):
    fee = invoice.fees.order_by("position", "created_at").first()
    values = {"invoice_id": str(invoice.pk), "reason": "order_change", "description": "Too much",
              "items": [{"fee_id": str(fee.pk), "amount_cents": amount}], "credit_amount_cents": amount * 12 // 10}
    return {"credit_note": {**values, **kwargs}}


@pytest.mark.django_db
def test_create_find_list_void(api):
    invoice = finalized()
    response = api.post("credit_notes", body(invoice, metadata={"ticket": "T-1"}))
    assert response.status_code == 200, response.content
    note = response.json()["credit_note"]
    assert note["number"] == f"{invoice.number}-CN001" and note["invoice_number"] == invoice.number
    assert (note["total_amount_cents"], note["credit_amount_cents"], note["balance_amount_cents"], note["taxes_amount_cents"]) == (
        1200, 1200, 1200, 200)
    assert note["credit_status"] == "available" and note["reason"] == "order_change" and note["metadata"] == {"ticket": "T-1"}
    assert note["items"][0]["amount_cents"] == 1000 and note["customer"]["external_id"] == "hooli"
    row = CreditNote.objects.get(pk=note["lago_id"])
    entry = AuditLogEntry.objects.get(action="credit_note.created", object_id=str(row.pk))
    assert entry.source == "api" and "integration" in entry.actor_label
    assert WebhookEvent.objects.filter(webhook_type="credit_note.created", object_id=str(row.pk)).exists()

    assert api.get(f"credit_notes/{row.pk}").json()["credit_note"]["number"] == row.number
    other = finalized("other")
    api.post("credit_notes", body(other, 500))
    listed = api.get("credit_notes", {"external_customer_id": "hooli"}).json()
    assert [n["number"] for n in listed["credit_notes"]] == [row.number] and listed["meta"]["total_count"] == 1
    assert api.get("credit_notes").json()["meta"]["total_count"] == 2

    voided = api.put(f"credit_notes/{row.pk}/void")
    assert voided.status_code == 200, voided.content
    assert voided.json()["credit_note"]["credit_status"] == "voided" and voided.json()["credit_note"]["balance_amount_cents"] == 0
    assert AuditLogEntry.objects.filter(action="credit_note.voided", source="api").count() == 1
    assert_error(api.put(f"credit_notes/{row.pk}/void"), 405, "no_voidable_amount")


@pytest.mark.django_db
def test_errors_write_nothing(api):
    invoice = finalized()
    fee = invoice.fees.order_by("position", "created_at").first()
    draft = factories.invoice(invoice.customer, fees=[(1, 100)])
    assert_error(api.post("credit_notes", body(invoice, invoice_id="not-a-uuid")), 404, "invoice_not_found")
    assert_error(api.post("credit_notes", body(invoice, invoice_id=str(fee.pk))), 404, "invoice_not_found")
    assert_error(api.post("credit_notes", {"credit_note": {"reason": "other"}}), 404, "invoice_not_found")
    assert_error(api.post("credit_notes", body(draft)), 422, error_details={"base": ["invalid_invoice_status"]})
    assert_error(api.post("credit_notes", body(invoice, reason="because")), 422, error_details={"reason": ["value_is_invalid"]})
    assert_error(api.post("credit_notes", body(invoice, credit_amount_cents=5)), 422, error_details={"base": ["does_not_match_item_amounts"]})
    assert_error(api.post("credit_notes", body(invoice, 10001)), 422, error_details={"items": ["higher_than_remaining_fee_amount"]})
    assert_error(api.post("credit_notes", body(invoice, items=[{"fee_id": "nope", "amount_cents": 1}])), 422,
                 error_details={"items": ["fee_not_found"]})
    assert_error(api.post("credit_notes", body(invoice, items=[{"fee_id": str(fee.pk)}])), 422,
                 error_details={"items.0.amount_cents": ["value_is_mandatory"]})
    assert_error(api.post("credit_notes", body(invoice, items="all")), 422, error_details={"items": ["value_is_invalid"]})
    assert_error(api.post("credit_notes", body(invoice, refund_amount_cents=-1)), 422,
                 error_details={"refund_amount_cents": ["value_is_invalid"]})
    assert_error(api.post("credit_notes", body(invoice, refund_amount_cents=1200, credit_amount_cents=0)), 422,
                 error_details={"refund_amount_cents": ["higher_than_remaining_invoice_amount"]})
    assert_error(api.post("credit_notes", body(invoice, metadata={"k": 1})), 422, error_details={"metadata": ["value_is_invalid"]})
    assert_error(api.post("credit_notes", {"invoice": {}}), 400)
    assert CreditNote.objects.count() == 0 and not AuditLogEntry.objects.filter(action__startswith="credit_note").exists()
    for path in ("credit_notes/nope", f"credit_notes/{invoice.pk}"):
        assert_error(api.get(path), 404, "credit_note_not_found")
    assert_error(api.put(f"credit_notes/{invoice.pk}/void"), 404, "credit_note_not_found")
    assert_error(api.post(f"credit_notes/{invoice.pk}/download"), 404, "credit_note_not_found")


@pytest.mark.django_db
def test_download_answers_empty_until_rendered_then_the_file_url(api):
    invoice = finalized()
    note_id = api.post("credit_notes", body(invoice)).json()["credit_note"]["lago_id"]
    row = CreditNote.objects.get(pk=note_id)
    assert not row.pdf_file  # the after-commit render has not run inside this test's transaction
    first = api.post(f"credit_notes/{note_id}/download")  # queues the render (django-q2 sync mode: done at once)
    assert first.status_code == 200 and first.content == b""
    row.refresh_from_db()
    assert row.pdf_file and row.pdf_generated_at and not row.pdf_error
    second = api.post(f"credit_notes/{note_id}/download")
    url = second.json()["credit_note"]["file_url"]
    assert url.startswith(f"{settings.PUBLIC_URL}/documents/") and url.endswith(f"/{row.number}.pdf")  # signed: tests/test_document_links.py


# --- the real client against live_server ---------------------------------------------------------

@pytest.fixture
def lago(live_server):
    _, raw = ApiKey.issue("lago-client")
    return Client(api_key=raw, api_url=live_server.url)


@pytest.mark.django_db(transaction=True)
def test_lago_client_creates_finds_voids_and_downloads(lago):
    invoice = finalized()
    fee = invoice.fees.order_by("position", "created_at").first()
    created = lago.credit_notes.create(CreditNoteInput(
        invoice_id=str(invoice.pk), reason="duplicated_charge", credit_amount_cents=1200, refund_amount_cents=0,
        items=Items(__root__=[Item(fee_id=str(fee.pk), amount_cents=1000)]), metadata={"ticket": "T-9"},
    ))
    assert created.number == f"{invoice.number}-CN001" and created.total_amount_cents == 1200 and created.taxes_rate == 20.0
    assert created.items.__root__[0].fee.lago_id == str(fee.pk)
    row = CreditNote.objects.get(pk=created.lago_id)
    assert row.pdf_file  # rendered after commit by the queued task
    found = lago.credit_notes.find(created.lago_id)
    assert found.balance_amount_cents == 1200 and found.file_url.endswith(".pdf")
    listed = lago.credit_notes.find_all({"external_customer_id": "hooli"})
    assert [n.lago_id for n in listed["credit_notes"]] == [created.lago_id] and listed["meta"]["total_count"] == 1
    assert lago.credit_notes.download(created.lago_id).file_url.startswith("http")
    voided = lago.credit_notes.void(created.lago_id)
    assert voided.credit_status == "voided" and voided.balance_amount_cents == 0

    with pytest.raises(LagoApiError) as err:
        lago.credit_notes.void(created.lago_id)
    assert err.value.status_code == 405 and err.value.response["code"] == "no_voidable_amount"
    with pytest.raises(LagoApiError) as err:
        lago.credit_notes.find("00000000-0000-0000-0000-000000000000")
    assert err.value.status_code == 404 and err.value.response["code"] == "credit_note_not_found"
    with pytest.raises(LagoApiError) as err:
        lago.credit_notes.create(CreditNoteInput(invoice_id=str(invoice.pk), reason="other", credit_amount_cents=999999,
                                                 items=Items(__root__=[Item(fee_id=str(fee.pk), amount_cents=1000)])))
    assert err.value.status_code == 422 and err.value.response["error_details"] == {"base": ["does_not_match_item_amounts"]}
    assert CreditNote.objects.count() == 1
