"""What happens after an invoice change has committed: never inside the lock.

Called from `transaction.on_commit`; each line queues a django-q2 task so a
slow or failing side effect (PDF rendering, webhook delivery) can neither
block nor undo the change that caused it.
"""
from django.conf import settings

from .pdf.tasks import queue_invoice_pdfs


def invoices_finalized(invoice_ids: list) -> None:
    """Queue what follows a finalization: the invoice PDF."""
    if settings.INVOICE_PDF_AFTER_FINALIZATION:
        queue_invoice_pdfs(invoice_ids)
