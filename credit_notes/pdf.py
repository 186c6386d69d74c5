"""Credit note PDFs: rendering (WeasyPrint, templates/credit_notes/pdf/credit_note.html) and the django-q2 task.

As invoices (invoices/pdf/render.py, invoices/pdf/tasks.py), through the same routines of
`core.documents`: `render_pdf` (WeasyPrint) and `render_and_store` (the default storage, touching only
the `pdf_*` fields; a failure is written to `pdf_error` and re-raised so the cluster retries it,
`ack_failure=False`, up to Q_CLUSTER["max_attempts"]). `create_credit_note` queues the render with
transaction.on_commit.
Amounts are formatted here, once, with the currency's ISO 4217 decimals.
"""
from django.db import transaction

from core.documents import render_and_store, render_pdf
from core.money import format_amount
from core.queue import enqueue_many, run_each

from .models import CreditNote
from .serializers import applied_taxes

TASK = "credit_notes.pdf.render_credit_note_pdfs"


def render_credit_note_pdf_bytes(note: CreditNote) -> bytes:
    return render_pdf("credit_notes/pdf/credit_note.html", credit_note_context(note))


def credit_note_context(note: CreditNote) -> dict:
    invoice = note.invoice

    def money(cents):
        return format_amount(cents, note.currency)

    items = list(note.items.select_related("fee").prefetch_related("fee__applied_taxes").order_by("created_at", "pk"))
    taxes = [
        {"name": f"{tax['tax_name']} ({tax['tax_rate']:g} %)", "base": money(tax["base_amount_cents"]), "amount": money(tax["amount_cents"])}
        for tax in applied_taxes(note, items)
    ]
    totals = [("Items", money(sum(item.amount_cents for item in items)), "")]
    if note.coupons_adjustment_amount_cents:
        totals.append(("Coupons", "-" + money(note.coupons_adjustment_amount_cents), ""))
    totals.append(("Sub total excluding taxes", money(note.sub_total_excluding_taxes_amount_cents), ""))
    totals += [(f"{tax['name']} on {tax['base']}", tax["amount"], "small") for tax in taxes]
    totals.append(("Taxes", money(note.taxes_amount_cents), ""))
    split = [(label, money(cents)) for label, cents in (
        ("Credited to the customer's balance", note.credit_amount_cents),
        ("Refunded", note.refund_amount_cents),
        ("Offset against the invoice", note.offset_amount_cents),
    ) if cents]
    return {
        "note": note,
        "invoice": invoice,
        "entity": invoice.billing_entity,
        "customer": note.customer,
        "stamp": "VOIDED" if note.credit_status == CreditNote.CreditStatus.VOIDED else "",
        "items": [{"name": item.fee.display_name, "amount": money(item.amount_cents)} for item in items],
        "taxes": taxes,
        "totals": totals,
        "total": money(note.total_amount_cents),
        "split": split,
    }


# --- the after-commit task ----------------------------------------------------------------------

def queue_credit_note_pdfs(credit_note_ids) -> None:
    """Queue one render task per credit note; call after commit (the task reads the committed note)."""
    enqueue_many((TASK, ([str(pk)],), {"ack_failure": False, "task_name": f"credit-note-pdf-{pk}"}) for pk in credit_note_ids)


def queue_after_commit(note: CreditNote) -> None:
    """Called by `create_credit_note` inside its transaction: the render waits for the commit (and never runs on rollback)."""
    note_id = note.pk
    transaction.on_commit(lambda: queue_credit_note_pdfs([note_id]))


def render_credit_note_pdfs(credit_note_ids) -> dict:
    """The queued task: render each; if any failed, raise after the others so the cluster retries."""
    return run_each(render_credit_note_pdf, credit_note_ids, "Rendering the PDFs of credit notes")


def render_credit_note_pdf(credit_note_id) -> str:
    """Render and store a credit note's PDF; the previous file (if any) is replaced."""
    note = CreditNote.objects.select_related("invoice__billing_entity", "customer").filter(pk=credit_note_id).first()
    if note is None:
        return "skipped"
    return render_and_store(note, note.number, render_credit_note_pdf_bytes)
