"""Credit note PDFs: rendered after commit by a django-q2 task (sync in tests), stored, failures recorded and retried."""
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from pypdf import PdfReader

from credit_notes.models import CreditNote
from credit_notes.pdf import render_credit_note_pdf, render_credit_note_pdf_bytes, render_credit_note_pdfs
from credit_notes.services import create_credit_note

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def stored_text(note: CreditNote) -> str:
    with note.pdf_file.open("rb") as handle:
        return pdf_text(handle.read())


def kwd_invoice():
    vat = f.tax(rate="20", name="VAT")
    cust = f.customer(f.billing_entity(name="Acme Billing", legal_name="Acme Billing SA"), currency="KWD", name="Globex", external_id="globex-1")
    inv = c.finalized(cust, fees=[{"units": 1, "unit_amount_cents": 12345, "amount_cents": 12345, "invoice_display_name": "Platform"},
                                  {"units": 1, "unit_amount_cents": 5000, "amount_cents": 5000, "invoice_display_name": "Seats"}], taxes=[vat])
    return inv


def issue(inv, actor, capture, **kwargs):
    fees = {fee.display_name: fee for fee in inv.fees.all()}
    with capture(execute=True):
        note = create_credit_note(
            inv.pk, actor, reason="product_unsatisfactory", description="Outage in October",
            items=[{"fee_id": fees["Platform"].pk, "amount_cents": 12345}, {"fee_id": fees["Seats"].pk, "amount_cents": 1000}],
            **kwargs,
        )
    note.refresh_from_db()
    return note


def test_a_credit_note_gets_its_pdf_after_commit(actor, django_capture_on_commit_callbacks):
    inv = kwd_invoice()
    # KWD has three decimals: items 12.345 + 1.000 = 13.345, VAT 20 % = 2.669, total 16.014.
    note = issue(inv, actor, django_capture_on_commit_callbacks, credit_amount_cents=10000, refund_amount_cents=0, offset_amount_cents=6014)
    assert note.total_amount_cents == 16014
    assert note.pdf_file.name.startswith("credit_notes/") and note.pdf_generated_at and note.pdf_error == ""
    text = stored_text(note)
    assert f"Credit note {note.number}" in text and inv.number in text
    assert "Acme Billing SA" in text and "Globex" in text and "globex-1" in text
    assert "Product unsatisfactory" in text and "Outage in October" in text
    assert "Platform" in text and "12.345 KWD" in text and "Seats" in text and "1.000 KWD" in text
    assert "13.345 KWD" in text and "VAT (20 %)" in text and "2.669 KWD" in text and "16.014 KWD" in text
    assert "10.000 KWD" in text and "6.014 KWD" in text  # credited and offset
    assert "Refunded" not in text


def test_zero_decimal_currency_and_a_voided_balance(actor, django_capture_on_commit_callbacks):
    from credit_notes.services import void_credit_note

    cust = f.customer(currency="JPY")
    inv = c.finalized(cust, fees=[(1, 123456)])
    fee = inv.fees.get()
    note = create_credit_note(inv.pk, actor, reason="order_change", items=[{"fee_id": fee.pk, "amount_cents": 23456}],
                              credit_amount_cents=23456)
    void_credit_note(note.pk, actor)
    text = pdf_text(render_credit_note_pdf_bytes(CreditNote.objects.get(pk=note.pk)))
    assert "23,456 JPY" in text and "VOIDED" in text and "Order change" in text


def test_a_failed_render_is_recorded_and_retried(actor, django_capture_on_commit_callbacks, monkeypatch):
    def broken(note):
        raise RuntimeError("fonts are on holiday")

    monkeypatch.setattr("credit_notes.pdf.render_credit_note_pdf_bytes", broken)
    inv = kwd_invoice()
    note = issue(inv, actor, django_capture_on_commit_callbacks, credit_amount_cents=16014)
    assert note.status == "finalized" and not note.pdf_file  # the note is committed regardless
    assert "fonts are on holiday" in note.pdf_error
    with pytest.raises(RuntimeError):  # the task raises, so the cluster retries it (ack_failure=False)
        render_credit_note_pdfs([note.pk])

    monkeypatch.undo()
    render_credit_note_pdf(note.pk)  # the retry succeeds and clears the error
    note.refresh_from_db()
    assert note.pdf_file and note.pdf_error == ""


def test_a_refused_credit_note_queues_nothing(actor, django_capture_on_commit_callbacks):
    inv = kwd_invoice()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Exception):
            issue(inv, actor, django_capture_on_commit_callbacks, credit_amount_cents=1)
    assert callbacks == [] and CreditNote.objects.count() == 0


def test_the_admin_page_links_to_the_pdf_and_renders_it_on_demand(client, actor):
    inv = kwd_invoice()
    fee = inv.fees.get(invoice_display_name="Seats")
    note = create_credit_note(inv.pk, actor, reason="other", items=[{"fee_id": fee.pk, "amount_cents": 1000}], credit_amount_cents=1200)
    assert not note.pdf_file  # on_commit never fired inside the test transaction
    user = User.objects.create_user("carla", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_creditnote"))
    client.force_login(user)
    page = client.get(reverse("admin:credit_notes_creditnote_change", args=[note.pk]))
    url = reverse("admin:credit_notes_creditnote_pdf", args=[note.pk])
    assert page.status_code == 200 and url in page.content.decode() and "not rendered yet" in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert note.number in pdf_text(b"".join(response.streaming_content))
    note.refresh_from_db()
    assert note.pdf_file
    assert client.get(reverse("admin:credit_notes_creditnote_pdf", args=["not-a-uuid"])).status_code == 404

    outsider = User.objects.create_user("oscar", password="pw", is_staff=True)
    client.force_login(outsider)
    assert client.get(url).status_code == 403
