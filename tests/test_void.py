"""Voiding a finalized invoice: only finalized ones, coupons and credits given back, audited, announced."""
import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon
from credit_notes.models import CreditNote
from credit_notes.services import create_credit_note
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice, InvoiceLocked
from invoices.transitions.voiding import void_invoice
from wallets.models import Wallet, WalletTransaction
from webhooks.models import WebhookEvent

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def test_voiding_sets_status_and_dates_audits_and_records_the_webhook():
    inv = c.finalized(fees=[(1, 10000)])
    Invoice.objects.filter(pk=inv.pk).update(payment_overdue=True)

    void_invoice(inv.pk, c.SYSTEM)

    inv.refresh_from_db()
    assert (inv.status, inv.payment_overdue, inv.total_due_amount_cents) == ("voided", False, 0)
    assert inv.voided_at is not None
    assert inv.total_amount_cents == 10000  # frozen amounts stay as they were
    entry = AuditLogEntry.objects.get(action="invoice.voided", invoice=inv)
    assert (entry.before["status"], entry.after["status"], entry.actor_label) == ("finalized", "voided", "system")
    assert WebhookEvent.objects.filter(webhook_type="invoice.voided", object_id=str(inv.pk)).count() == 1


def test_only_finalized_invoices_can_be_voided():
    draft = f.invoice(fees=[(1, 1000)])
    with pytest.raises(InvoiceLocked) as err:
        void_invoice(draft.pk, c.SYSTEM)
    assert err.value.code == "not_voidable"

    inv = c.finalized()
    void_invoice(inv.pk, c.SYSTEM)
    with pytest.raises(InvoiceLocked) as err:
        void_invoice(inv.pk, c.SYSTEM)
    assert err.value.code == "not_voidable"
    assert AuditLogEntry.objects.filter(action="invoice.voided").count() == 1
    assert WebhookEvent.objects.filter(webhook_type="invoice.voided").count() == 1


def test_coupons_wallet_and_credit_note_balances_are_given_back():
    cust = f.customer()
    once = c.give(cust, c.coupon(rate="10", frequency="once"))
    recurring = c.give(cust, c.coupon(amount_cents=100, frequency="recurring", duration=1))
    source = c.finalized(cust, fees=[(1, 500)], invoice_type="one_off")
    cn = create_credit_note(source.pk, c.SYSTEM, reason="other", items=[{"fee_id": source.fees.get().pk, "amount_cents": 300}], credit_amount_cents=300)
    wallet = c.wallet(cust, granted_cents=2000)

    inv = c.finalized(cust, fees=[(1, 10000)])
    assert (inv.coupons_amount_cents, inv.credit_notes_amount_cents, inv.prepaid_credit_amount_cents) == (1000 + 100, 300, 2000)
    for obj in (once, recurring, cn, wallet):
        obj.refresh_from_db()
    assert (once.status, recurring.status, cn.credit_status, wallet.balance_cents) == ("terminated", "terminated", "consumed", 0)

    void_invoice(inv.pk, c.SYSTEM)

    for obj in (once, recurring, cn, wallet):
        obj.refresh_from_db()
    assert once.status == "active"
    assert (recurring.status, recurring.frequency_duration_remaining) == ("active", 1)
    assert (cn.credit_status, cn.balance_amount_cents) == ("available", 300)
    assert wallet.balance_cents == 2000
    back = WalletTransaction.objects.get(invoice=inv, transaction_type="inbound")
    assert (back.transaction_status, back.amount_cents) == ("voided", 2000)
    given = AuditLogEntry.objects.get(action="invoice.voided", invoice=inv).after["given_back"]
    assert len(given["coupons"]) == 2 and given["wallets"][0]["amount_cents"] == 2000

    # …and the next invoice consumes them again.
    again = c.finalized(cust, fees=[(1, 10000)])
    assert (again.coupons_amount_cents, again.credit_notes_amount_cents, again.prepaid_credit_amount_cents) == (1100, 300, 2000)


def test_a_fixed_once_coupon_gets_its_amount_back():
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=1500))
    inv = c.finalized(cust, fees=[(1, 1000)])
    assert applied.remaining_amount_cents() == 500
    void_invoice(inv.pk, c.SYSTEM)
    applied.refresh_from_db()
    assert (applied.status, applied.remaining_amount_cents()) == ("active", 1500)


def test_void_with_a_credit_note():
    vat = f.tax(rate="20")
    inv = c.finalized(fees=[(1, 6000), (1, 4000)], taxes=[vat])
    assert inv.total_amount_cents == 12000
    Invoice.objects.filter(pk=inv.pk).update(total_paid_amount_cents=12000, payment_status="succeeded")

    void_invoice(inv.pk, c.SYSTEM, generate_credit_note=True, credit_amount_cents=5000, refund_amount_cents=2000)

    inv.refresh_from_db()
    cn = CreditNote.objects.get(invoice=inv)
    assert inv.status == "voided"
    assert (cn.number, cn.credit_amount_cents, cn.refund_amount_cents, cn.total_amount_cents) == (f"{inv.number}-CN001", 5000, 2000, 7000)
    assert (cn.credit_status, cn.balance_amount_cents, cn.refund_status) == ("available", 5000, "pending")
    assert abs(cn.sub_total_excluding_taxes_amount_cents + cn.taxes_amount_cents - 7000) <= 1
    assert AuditLogEntry.objects.get(action="invoice.voided", invoice=inv).after["credit_note"] == cn.number
    assert WebhookEvent.objects.filter(webhook_type="credit_note.created", object_id=str(cn.pk)).exists()


def test_void_refuses_credit_note_amounts_beyond_the_invoice_and_changes_nothing():
    inv = c.finalized(fees=[(1, 1000)])
    with pytest.raises(ValidationError) as err:
        void_invoice(inv.pk, c.SYSTEM, generate_credit_note=True, credit_amount_cents=1001)
    assert err.value.error_dict["credit_refund_amount"][0].code == "total_amount_exceeds_invoice_amount"
    inv.refresh_from_db()
    assert inv.status == "finalized"
    assert not CreditNote.objects.exists()
    assert not AuditLogEntry.objects.filter(action="invoice.voided").exists()


def test_credits_already_given_back_by_the_wallet_are_not_credited_again_by_the_note():
    cust = f.customer()
    c.wallet(cust, granted_cents=600)
    inv = c.finalized(cust, fees=[(1, 1000)])
    assert inv.total_amount_cents == 400
    with pytest.raises(ValidationError):
        void_invoice(inv.pk, c.SYSTEM, generate_credit_note=True, credit_amount_cents=1000)
    void_invoice(inv.pk, c.SYSTEM, generate_credit_note=True, credit_amount_cents=400)
    assert Wallet.objects.get(customer=cust).balance_cents == 600
    assert CreditNote.objects.get(invoice=inv).balance_amount_cents == 400
    assert AppliedCoupon.objects.count() == 0
    assert finalize_invoice(f.invoice(cust, fees=[(1, 100)]).pk, c.SYSTEM).invoice.credit_notes_amount_cents == 100


@pytest.mark.parametrize("seed", range(20))
def test_any_credit_note_amount_up_to_the_total_is_met_to_the_cent(seed):
    """Void turns an amount into items pro rata; with mixed taxes, coupons and currencies the note still totals it."""
    import random

    r = random.Random(seed)
    taxes = [f.tax(rate=r.choice(["0", "5.5", "19", "20", "7.25"])) for _ in range(2)]
    cust = f.customer(currency=r.choice(["USD", "JPY", "KWD"]))
    if r.random() < 0.5:
        c.give(cust, c.coupon(rate=r.choice(["3", "12.5", "33"])))
    inv = f.invoice(cust)
    for position in range(r.randint(1, 5)):
        f.fee(inv, (r.randint(1, 7), r.randint(1, 99999)), taxes=[t for t in taxes if r.random() < 0.6], position=position)
    finalize_invoice(inv.pk, c.SYSTEM)
    inv.refresh_from_db()
    amount = r.randint(1, inv.total_amount_cents)

    void_invoice(inv.pk, c.SYSTEM, generate_credit_note=True, credit_amount_cents=amount)

    assert CreditNote.objects.get(invoice=inv).total_amount_cents == amount
