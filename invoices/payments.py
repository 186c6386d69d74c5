"""Payment status of an invoice: the one place it changes (API, and any later door).

Lago's Invoices::UpdateService: a payment status change is refused on drafts; `succeeded`
clears the overdue flag and marks the total as paid. The change, its audit entry and
the invoice.payment_status_updated webhook event share one transaction.
"""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import log as audit_log
from webhooks import outbox

from .models import Invoice, InvoiceLocked


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
        invoice.payment_status = status
        if status == Invoice.PaymentStatus.SUCCEEDED:
            invoice.payment_overdue = False
            invoice.total_paid_amount_cents = invoice.total_amount_cents
        invoice.updated_at = timezone.now()
        invoice.save(update_fields=["payment_status", "payment_overdue", "total_paid_amount_cents", "updated_at"])
        audit_log.record("invoice.payment_status_updated", actor, invoice=invoice, obj=invoice, before=before,
                         after={"payment_status": invoice.payment_status, "payment_overdue": invoice.payment_overdue,
                                "total_paid_amount_cents": invoice.total_paid_amount_cents})
        outbox.record("invoice.payment_status_updated", invoice)
    return invoice
