"""Payment status of an invoice: the one module that writes `payment_status` after finalization.

(Finalization sets the first payment status, in `invoices/transitions/finalization.py`.) Which changes are
allowed is `Invoice.PAYMENT_STATUS_TRANSITIONS`: any change between pending, succeeded and failed,
as Lago's update takes, and only on a finalized invoice. Every door calls in here: the API
(`update_payment_status`, Lago's Invoices::UpdateService) and a paid wallet top-up
(`wallets.top_ups.mark_top_up_paid` → `record_payment`).

Lago's Invoices::UpdateService: a payment status change is refused on drafts; `succeeded`
clears the overdue flag (`invoices/transitions/overdue.py`) and marks the total as paid. The change, its
audit entry and the invoice.payment_status_updated webhook event share one transaction.
"""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import log as audit_log
from webhooks import outbox

from . import overdue
from ..models import Invoice, InvoiceLocked


def update_payment_status(invoice: Invoice, status: str, actor) -> Invoice:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        # The state first: a draft or voided invoice is refused whatever the status asked for (as Lago).
        if invoice.status == Invoice.Status.DRAFT:
            raise InvoiceLocked("A draft has no payment status yet.", code="payment_status_update_on_draft_invoice")
        if invoice.status == Invoice.Status.VOIDED:
            raise InvoiceLocked("A voided invoice cannot change.", code="update_on_voided_invoice")
        if status not in Invoice.PaymentStatus.values:
            raise ValidationError({"payment_status": ValidationError("Unknown payment status.", code="value_is_invalid")})
        if invoice.payment_status == status:
            return invoice
        before = {"payment_status": invoice.payment_status, "payment_overdue": invoice.payment_overdue,
                  "total_paid_amount_cents": invoice.total_paid_amount_cents}
        fields = _set_payment_status(invoice, status)
        if status == Invoice.PaymentStatus.SUCCEEDED:
            fields += overdue.clear(invoice)
        invoice.updated_at = timezone.now()
        invoice.save(update_fields=[*fields, "updated_at"])
        audit_log.record("invoice.payment_status_updated", actor, invoice=invoice, obj=invoice, before=before,
                         after={"payment_status": invoice.payment_status, "payment_overdue": invoice.payment_overdue,
                                "total_paid_amount_cents": invoice.total_paid_amount_cents})
        outbox.record("invoice.payment_status_updated", invoice)
    return invoice


def record_payment(invoice: Invoice) -> Invoice:
    """The invoice (locked by the caller, finalized) was paid in full: payment status succeeded, total paid.

    For callers that record the payment with their own audit entry (a paid wallet top-up); the
    overdue flag is left to the task, as before.
    """
    fields = _set_payment_status(invoice, Invoice.PaymentStatus.SUCCEEDED)
    invoice.save(update_fields=[*fields, "updated_at"])
    return invoice


def _set_payment_status(invoice: Invoice, status: str) -> list[str]:
    invoice.payment_status = status
    if status == Invoice.PaymentStatus.SUCCEEDED:
        invoice.total_paid_amount_cents = invoice.total_amount_cents
    return ["payment_status", "total_paid_amount_cents"]
