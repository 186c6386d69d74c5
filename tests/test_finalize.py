"""Finalizing a draft: state, totals, number, dates, audit row and webhook event, and the lost race."""
from datetime import date, datetime, timezone as dt_timezone

import pytest

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import CLOSED, FINALIZED, NOT_DRAFT, NOT_FOUND, finalize_invoice
from invoices.models import Invoice, InvoiceLocked
from webhooks.models import WebhookEvent

from . import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 3, 23, 30, tzinfo=dt_timezone.utc)


def test_finalize_sets_status_number_dates_totals_and_audits():
    vat = f.tax(rate="20")
    entity = f.billing_entity(document_number_prefix="ACME", net_payment_term=30)
    cust = f.customer(entity, timezone="Asia/Tokyo")
    invoice = f.invoice(cust, fees=[(2, 1000), (1, 550)], taxes=[vat])
    assert invoice.number == "ACME-DRAFT"

    outcome = finalize_invoice(invoice.pk, Actor.system(), now=NOW)

    assert outcome.result == FINALIZED
    invoice.refresh_from_db()
    assert invoice.status == "finalized"
    assert invoice.number == f"ACME-{cust.sequential_id:03d}-001"
    # 23:30 UTC on Nov 3 is already Nov 4 in Tokyo.
    assert invoice.issuing_date == date(2026, 11, 4)
    assert invoice.payment_due_date == date(2026, 12, 4)
    assert invoice.fees_amount_cents == 2550
    assert invoice.taxes_amount_cents == 510
    assert invoice.total_amount_cents == 3060
    assert invoice.payment_status == "pending"
    assert invoice.finalized_at is not None
    entry = AuditLogEntry.objects.get(invoice=invoice, action="invoice.finalized")
    assert entry.actor_label == "system" and entry.source == "task"
    assert entry.before["status"] == "draft" and entry.after["status"] == "finalized"
    assert entry.after["number"] == invoice.number
    assert WebhookEvent.objects.filter(webhook_type="invoice.created", object_id=str(invoice.pk)).count() == 1


def test_second_finalization_is_a_clean_refusal():
    invoice = f.invoice(fees=[(1, 100)])
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()
    number = invoice.number

    again = finalize_invoice(invoice.pk, Actor.system())

    assert again.result == NOT_DRAFT
    assert "not a draft" in again.message
    invoice.refresh_from_db()
    assert invoice.number == number
    assert AuditLogEntry.objects.filter(invoice=invoice).count() == 1
    assert WebhookEvent.objects.filter(object_id=str(invoice.pk)).count() == 1


def test_unknown_invoice_is_not_found():
    import uuid

    assert finalize_invoice(uuid.uuid4(), Actor.system()).result == NOT_FOUND


def test_zero_total_is_paid_at_once():
    invoice = f.invoice(fees=[(1, 0)])
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()
    assert invoice.status == "finalized"
    assert invoice.payment_status == "succeeded"
    assert invoice.ui_status == "paid"


def test_per_customer_numbers_are_consecutive_per_customer():
    entity = f.billing_entity(document_number_prefix="PC")
    alice, bob = f.customer(entity), f.customer(entity)
    numbers = []
    for cust in (alice, bob, alice):
        inv = f.invoice(cust, fees=[(1, 100)])
        finalize_invoice(inv.pk, Actor.system())
        inv.refresh_from_db()
        numbers.append(inv.number)
    assert numbers == [
        f"PC-{alice.sequential_id:03d}-001",
        f"PC-{bob.sequential_id:03d}-001",
        f"PC-{alice.sequential_id:03d}-002",
    ]


def test_per_billing_entity_numbers_use_month_in_entity_timezone_and_never_reset():
    entity = f.billing_entity(document_number_prefix="BE", document_numbering="per_billing_entity", timezone="America/New_York")
    cust = f.customer(entity)
    first = f.invoice(cust, fees=[(1, 100)])
    second = f.invoice(cust, fees=[(1, 100)])
    # Nov 1, 02:00 UTC is still October 31 in New York.
    finalize_invoice(first.pk, Actor.system(), now=datetime(2026, 11, 1, 2, 0, tzinfo=dt_timezone.utc))
    finalize_invoice(second.pk, Actor.system(), now=datetime(2026, 11, 2, 12, 0, tzinfo=dt_timezone.utc))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.number == "BE-202610-001"
    assert second.number == "BE-202611-002"


def test_finalized_invoice_and_fees_are_immutable_through_save():
    invoice = f.invoice(fees=[(1, 100)])
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()

    invoice.total_amount_cents = 1
    with pytest.raises(InvoiceLocked, match="total_amount_cents"):
        invoice.save()
    fee = invoice.fees.get()
    fee.amount_cents = 5
    with pytest.raises(InvoiceLocked):
        fee.save()
    with pytest.raises(InvoiceLocked):
        fee.delete()
    invoice.refresh_from_db()
    assert invoice.total_amount_cents == 100
    # What legitimately changes after finalization still can.
    invoice.payment_status = "succeeded"
    invoice.save(update_fields=["payment_status"])
    invoice.refresh_from_db()
    assert invoice.ui_status == "paid"


def test_one_off_invoice_sends_one_off_created_not_created():
    invoice = f.invoice(fees=[(1, 100)], invoice_type=Invoice.InvoiceType.ONE_OFF)
    finalize_invoice(invoice.pk, Actor.system())
    assert list(WebhookEvent.objects.filter(object_id=str(invoice.pk)).values_list("webhook_type", flat=True)) == [
        "invoice.one_off_created"
    ]


def test_closed_outcome_keeps_draft_number():
    entity = f.billing_entity(document_number_prefix="EMP", finalize_zero_amount_invoice=False)
    invoice = f.invoice(f.customer(entity))
    outcome = finalize_invoice(invoice.pk, Actor.system())
    assert outcome.result == CLOSED
    invoice.refresh_from_db()
    assert invoice.status == "closed" and invoice.number == "EMP-DRAFT"
    assert invoice.sequential_id is None
