"""The overdue flag (`payment_overdue`): the one module that writes it.

Raised by the hourly task on finalized invoices still unpaid after their due date (a day in the
customer's time zone); cleared when the invoice is paid (`invoices/transitions/payments.py`), voided
(`invoices/transitions/voiding.py`), or found paid or no longer finalized by the task. The rule it follows,
`Invoice.check_overdue_change`: only a finalized, unpaid invoice becomes overdue; clearing is always allowed.
"""
from datetime import datetime, timedelta

from ..models import Invoice


def clear(invoice: Invoice) -> list[str]:
    """Clear the flag in memory, for the caller's own save(); returns the field to save."""
    invoice.payment_overdue = False
    return ["payment_overdue"]


def flag_due(now: datetime) -> list[Invoice]:
    """Raise the flag on finalized, unpaid invoices past their due date; returns them (rows locked, skipped if held)."""
    candidates = list(
        Invoice.objects.finalized().filter(payment_overdue=False, payment_due_date__lt=now.date() + timedelta(days=1))
        .exclude(payment_status=Invoice.PaymentStatus.SUCCEEDED)
        .select_related("customer__billing_entity").select_for_update(of=("self",), skip_locked=True)
    )
    # The due date is a date in the customer's time zone: overdue once that day has passed there.
    overdue = [i for i in candidates if i.payment_due_date < now.astimezone(i.customer.tzinfo).date()]
    for invoice in overdue:
        Invoice.check_overdue_change(False, True, status=invoice.status, payment_status=invoice.payment_status, invoice=invoice)
        invoice.payment_overdue = True
    Invoice.objects.bulk_update(overdue, ["payment_overdue"])
    for invoice in overdue:
        invoice.remember_stored(["payment_overdue"])
    return overdue


def clear_settled() -> int:
    """Clear the flag on invoices that are paid or no longer finalized; returns how many."""
    settled = Invoice.objects.filter(payment_overdue=True).exclude(
        status=Invoice.Status.FINALIZED, payment_status__in=[Invoice.PaymentStatus.PENDING, Invoice.PaymentStatus.FAILED]
    )
    return settled.update(payment_overdue=False)


def flag(invoice: Invoice) -> None:
    """Raise the flag on one invoice (the demo data's overdue invoices); refused unless finalized and unpaid."""
    invoice.payment_overdue = True
    invoice.save(update_fields=["payment_overdue", "updated_at"])
