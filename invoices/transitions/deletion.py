"""Deleting a draft (DELETE /api/v1/invoices/{id}): the draft becomes `deleted`, an invisible status.

This module is the only writer of draft → deleted (`Invoice.STATUS_TRANSITIONS`). The row stays
(audit entries point at it); only drafts can be deleted, checked with a conditional UPDATE
(`InvoiceQuerySet.transition`: the from-state is in the WHERE clause) so a concurrent
finalization wins cleanly.
"""
from django.db import transaction
from django.utils import timezone

from audit import log as audit_log

from ..models import Invoice, InvoiceLocked


def delete_draft(invoice_id, actor) -> Invoice:
    with transaction.atomic():
        changed = Invoice.objects.filter(pk=invoice_id).transition(
            Invoice.Status.DRAFT, Invoice.Status.DELETED, grace_period_ends_at=None, updated_at=timezone.now()
        )
        if not changed:
            raise InvoiceLocked("Only draft invoices can be deleted.", code="not_deletable")
        invoice = Invoice.objects.get(pk=invoice_id)
        audit_log.record("invoice.deleted", actor, invoice=invoice, obj=invoice,
                         before={"status": Invoice.Status.DRAFT}, after={"status": invoice.status})
    return invoice
