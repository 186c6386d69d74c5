"""The django-q2 task that renders and stores an invoice's PDF, after the change has committed.

Queued per finalized invoice by `invoices.side_effects.invoices_finalized`, with the
finalization's transaction (`queue_invoice_pdfs_with_transaction`), and
again by voiding (the stored PDF then carries the VOIDED stamp). A failed render
is written to `pdf_error` (visible on the invoice page) and re-raised so the
cluster retries it (`ack_failure=False`: the broker re-delivers it up to
Q_CLUSTER["max_attempts"] times). It never touches the invoice's frozen fields,
so it cannot interfere with finalization.
"""
from core.documents import render_and_store
from core.queue import enqueue_many, enqueue_with_transaction, run_each

from ..models import Invoice
from .render import render_invoice_pdf_bytes

TASK = "invoices.pdf.tasks.render_invoice_pdfs"
# Invoices per queued task: a finalization batch of 500 is 10 tasks of ~10 s, well inside the
# cluster's timeout, instead of 500 queue rows.
PDFS_PER_TASK = 50
STORED_STATUSES = (Invoice.Status.FINALIZED, Invoice.Status.VOIDED)


def queue_invoice_pdfs(invoice_ids) -> None:
    """Queue the renders of these invoices; call after commit (the task reads the committed invoices).

    A failure here must not reach whoever finalized (in sync mode the task's own exception
    surfaces here): the invoice is committed, the error is in `pdf_error`, and the download
    view renders a missing PDF on demand.
    """
    enqueue_many(_tasks(invoice_ids))


def queue_invoice_pdfs_with_transaction(invoice_ids) -> None:
    """Queue the renders from inside the transaction that finalizes these invoices: the worker sees the
    tasks when it commits (a rollback takes them away), or they are queued after commit where they cannot
    join it (core/queue.py `enqueue_with_transaction`; sync mode renders after commit, as before)."""
    enqueue_with_transaction(_tasks(invoice_ids))


def _tasks(invoice_ids) -> list:
    ids = [str(invoice_id) for invoice_id in invoice_ids]
    chunks = [ids[i:i + PDFS_PER_TASK] for i in range(0, len(ids), PDFS_PER_TASK)]
    return [
        (TASK, (chunk,), {"ack_failure": False, "task_name": f"invoice-pdf-{chunk[0]}" + (f"+{len(chunk) - 1}" if len(chunk) > 1 else "")})
        for chunk in chunks
    ]


def render_invoice_pdfs(invoice_ids) -> dict:
    """The queued task: render each invoice; if any failed, raise after the others so the cluster retries.

    Each failure is already written to its invoice's `pdf_error`; a retry renders the group again.
    """
    return run_each(render_invoice_pdf, invoice_ids, "Rendering the PDFs of invoices")


def render_invoice_pdf(invoice_id) -> str:
    """Render and store the PDF of a finalized or voided invoice; drafts and closed ones have none."""
    invoice = Invoice.objects.select_related("customer__billing_entity", "billing_entity").filter(pk=invoice_id).first()
    if invoice is None or invoice.status not in STORED_STATUSES:
        return "skipped"
    # If the invoice was voided while it rendered, this PDF is out of date and the render queued by voiding wins.
    return render_and_store(invoice, invoice.number, render_invoice_pdf_bytes, still_current=lambda row: row.status == invoice.status)
