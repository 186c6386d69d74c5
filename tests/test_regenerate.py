"""Regenerate: a voided invoice becomes a new, editable draft with the same fees, finalized with a new number."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditLogEntry
from invoices.transitions.fee_edits import update_fee
from invoices.transitions.finalization import finalize_invoice
from invoices.models import InvoiceLocked
from invoices.transitions.regeneration import regenerate_from_voided
from invoices.transitions.voiding import void_invoice

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def test_regenerate_then_finalize_with_a_new_number():
    vat = f.tax(rate="20")
    cust = f.customer()
    draft = f.invoice(cust, fees=[(2, 1500), (1, 999)], taxes=[vat])
    fee = draft.fees.order_by("position").first()
    update_fee(fee.pk, c.SYSTEM, adjustment="total_amount", amount_cents=2500, invoice_display_name="Seats (adjusted)")
    assert finalize_invoice(draft.pk, c.SYSTEM).result == "finalized"
    draft.refresh_from_db()
    voided = void_invoice(draft.pk, c.SYSTEM)

    new = regenerate_from_voided(voided.pk, c.SYSTEM)

    assert (new.status, new.invoice_type, new.currency, new.voided_invoice_id) == ("draft", "subscription", "USD", voided.pk)
    assert new.number.endswith("-DRAFT")
    assert list(new.fees.order_by("position").values_list("invoice_display_name", "amount_cents", "adjustment")) == [
        ("Seats (adjusted)", 2500, "total_amount"), (draft.fees.order_by("position")[1].invoice_display_name, 999, "none")
    ]
    assert [list(fee.applied_taxes.values_list("tax_code", "tax_rate")) for fee in new.fees.all()] == [[(vat.code, Decimal("20.000"))]] * 2
    assert (new.fees_amount_cents, new.taxes_amount_cents, new.total_amount_cents) == (3499, 700, 4199)
    assert (new.period_from, new.period_to) == (voided.period_from, voided.period_to)
    entry = AuditLogEntry.objects.get(action="invoice.regenerated", invoice=new)
    assert entry.before["voided_invoice_number"] == voided.number

    # Editable like any draft, then finalized as usual.
    update_fee(new.fees.order_by("position").first().pk, c.SYSTEM, adjustment="total_amount", amount_cents=2000)
    outcome = finalize_invoice(new.pk, c.SYSTEM)
    assert outcome.result == "finalized"
    new.refresh_from_db()
    assert new.number != voided.number and not new.number.endswith("DRAFT")
    assert new.sequential_id == voided.sequential_id + 1
    assert new.total_amount_cents == 2999 + 600
    assert list(voided.regenerated_invoices.all()) == [new]


def test_only_a_voided_invoice_and_only_once():
    inv = c.finalized()
    with pytest.raises(InvoiceLocked) as err:
        regenerate_from_voided(inv.pk, c.SYSTEM)
    assert err.value.code == "not_regeneratable"
    void_invoice(inv.pk, c.SYSTEM)
    regenerate_from_voided(inv.pk, c.SYSTEM)
    with pytest.raises(ValidationError) as err:
        regenerate_from_voided(inv.pk, c.SYSTEM)
    assert err.value.code == "already_regenerated"


def test_the_regenerated_draft_gets_the_coupon_the_void_gave_back():
    cust = f.customer()
    c.give(cust, c.coupon(amount_cents=300))
    inv = c.finalized(cust, fees=[(1, 1000)])
    assert inv.coupons_amount_cents == 300
    void_invoice(inv.pk, c.SYSTEM)
    new = regenerate_from_voided(inv.pk, c.SYSTEM)
    assert new.coupons_amount_cents == 0  # a draft: applied at finalization
    assert finalize_invoice(new.pk, c.SYSTEM).invoice.coupons_amount_cents == 300
