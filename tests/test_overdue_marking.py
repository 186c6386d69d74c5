"""The hourly overdue task flags unpaid finalized invoices past their due date, and clears paid ones."""
import pytest

from audit.actors import Actor
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice
from invoices.tasks import mark_overdue_invoices
from webhooks.models import WebhookEvent

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db


def finalized(net_payment_term=3, **customer_kwargs):
    cust = f.customer(f.billing_entity(net_payment_term=net_payment_term), **customer_kwargs)
    inv = f.invoice(cust, fees=[(1, 1000)])
    finalize_invoice(inv.pk, Actor.system(), now=b.utc(2026, 2, 1, 12))
    return Invoice.objects.get(pk=inv.pk)


def test_flags_after_the_due_day_and_records_the_webhook_event():
    inv = finalized()
    assert str(inv.payment_due_date) == "2026-02-04"
    assert mark_overdue_invoices(b.utc(2026, 2, 4, 23)) == (0, 0)  # still the due day
    assert mark_overdue_invoices(b.utc(2026, 2, 5, 0, 1)) == (1, 0)
    inv.refresh_from_db()
    assert inv.payment_overdue and inv.ui_status
    assert WebhookEvent.objects.filter(webhook_type="invoice.payment_overdue", object_id=str(inv.pk)).count() == 1
    assert mark_overdue_invoices(b.utc(2026, 2, 6)) == (0, 0)  # flagged once, one event
    assert WebhookEvent.objects.filter(webhook_type="invoice.payment_overdue").count() == 1


def test_due_day_is_the_customers_local_day():
    inv = finalized(timezone="Pacific/Auckland")  # UTC+13 in February: issued Feb 2 there, due Feb 5
    assert str(inv.payment_due_date) == "2026-02-05"
    assert mark_overdue_invoices(b.utc(2026, 2, 5, 10, 59)) == (0, 0)
    assert mark_overdue_invoices(b.utc(2026, 2, 5, 11)) == (1, 0)  # Feb 6 00:00 in Auckland
    assert Invoice.objects.get(pk=inv.pk).payment_overdue


def test_paid_and_draft_invoices_are_not_flagged_and_paid_ones_are_cleared():
    paid = finalized()
    draft = f.invoice(fees=[(1, 100)])
    mark_overdue_invoices(b.utc(2026, 3, 1))
    Invoice.objects.filter(pk=paid.pk).update(payment_status="succeeded")
    assert mark_overdue_invoices(b.utc(2026, 3, 1)) == (0, 1)
    assert not Invoice.objects.get(pk=paid.pk).payment_overdue
    assert not Invoice.objects.get(pk=draft.pk).payment_overdue
