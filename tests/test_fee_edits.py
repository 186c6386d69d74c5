"""Seed 002: on a draft, fees can be renamed, re-counted (total units) or overridden (total amount), or added."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions import fee_edits
from invoices.transitions.finalization import finalize_invoice
from invoices.models import InvoiceLocked

from . import factories as f

pytestmark = pytest.mark.django_db


def test_total_units_reprices_and_recomputes_totals_with_audit():
    vat = f.tax(rate="20")
    invoice = f.invoice(fees=[(1, 333)], taxes=[vat])
    fee = invoice.fees.get()

    fee_edits.update_fee(fee.pk, Actor.system("admin"), adjustment="total_units", units="2.5", invoice_display_name="API calls")

    fee.refresh_from_db()
    invoice.refresh_from_db()
    assert fee.amount_cents == 833 and fee.units == Decimal("2.5") and fee.adjustment == "total_units"
    assert invoice.fees_amount_cents == 833
    assert invoice.taxes_amount_cents == 167  # 166.6
    assert invoice.total_amount_cents == 1000
    entry = AuditLogEntry.objects.get(action="fee.updated")
    assert entry.before["amount_cents"] == 333 and entry.after["amount_cents"] == 833
    assert entry.after["display_name"] == "API calls"


def test_total_amount_overrides_amount():
    invoice = f.invoice(fees=[(4, 100)])
    fee = invoice.fees.get()
    fee_edits.update_fee(fee.pk, Actor.system("admin"), adjustment="total_amount", amount_cents=1000)
    fee.refresh_from_db()
    invoice.refresh_from_db()
    assert fee.amount_cents == 1000 and fee.unit_amount_cents == 250 and fee.units == 4
    assert invoice.total_amount_cents == 1000


def test_add_fee_to_draft():
    vat = f.tax(rate="10")
    cust = f.customer()
    cust.taxes.add(vat)
    invoice = f.invoice(cust, fees=[(1, 1000)])
    fee_edits.add_fee(invoice.pk, Actor.system("admin"), invoice_display_name="Storage", units=3, unit_amount_cents=200)
    invoice.refresh_from_db()
    assert invoice.fees.count() == 2
    assert invoice.fees_amount_cents == 1600
    assert invoice.taxes_amount_cents == 60  # only the new fee carries the customer's tax
    assert AuditLogEntry.objects.filter(action="fee.created", invoice=invoice).count() == 1


def test_negative_units_refused_and_nothing_written():
    invoice = f.invoice(fees=[(1, 1000)])
    fee = invoice.fees.get()
    with pytest.raises(ValidationError):
        fee_edits.update_fee(fee.pk, Actor.system("admin"), adjustment="total_units", units="-1")
    fee.refresh_from_db()
    assert fee.units == 1 and not AuditLogEntry.objects.exists()


def test_finalized_invoice_fees_cannot_be_edited():
    invoice = f.invoice(fees=[(1, 1000)])
    finalize_invoice(invoice.pk, Actor.system())
    fee = invoice.fees.get()
    with pytest.raises(InvoiceLocked):
        fee_edits.update_fee(fee.pk, Actor.system("admin"), adjustment="total_amount", amount_cents=1)
    with pytest.raises(InvoiceLocked):
        fee_edits.add_fee(invoice.pk, Actor.system("admin"), units=1, unit_amount_cents=1)
    fee.refresh_from_db()
    assert fee.amount_cents == 1000
