"""What follows an invoice change: never done inside the lock.

Each line queues a django-q2 task so a slow or failing side effect (PDF rendering, webhook delivery)
can neither block nor undo the change that caused it. Called from inside the change's transaction:
the tasks are queued with it (core/queue.py `enqueue_with_transaction`: rows of that transaction with
the ORM broker, so the worker sees them at commit and a rollback takes them away; after commit where
they cannot join it, e.g. sync mode, where a task runs as it is queued).
"""
from django.conf import settings

from .pdf.tasks import queue_invoice_pdfs_with_transaction


def invoices_finalized(invoice_ids: list) -> None:
    """Queue what follows a finalization: the invoice PDF."""
    if settings.INVOICE_PDF_AFTER_FINALIZATION:
        queue_invoice_pdfs_with_transaction(invoice_ids)
