"""Wallets (prepaid credits): granted and paid top-ups, consumption after taxes and credit notes, never on drafts."""
import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditLogEntry
from coupons.services import pending_for
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice
from wallets.models import Wallet, WalletTransaction
from wallets.top_ups import create_wallet, mark_top_up_paid, top_up

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def finalize(inv):
    assert finalize_invoice(inv.pk, c.SYSTEM).result == "finalized"
    inv.refresh_from_db()
    return inv


def test_granted_top_up_credits_the_balance_at_once():
    cust = f.customer()
    wallet = c.wallet(cust)
    [tx] = top_up(wallet.pk, c.SYSTEM, granted_cents=2500)
    wallet.refresh_from_db()
    assert wallet.balance_cents == 2500
    assert (tx.transaction_type, tx.transaction_status, tx.status, tx.invoice) == ("inbound", "granted", "settled", None)
    assert AuditLogEntry.objects.filter(action="wallet.topped_up", object_id=str(wallet.pk)).count() == 1
    assert not Invoice.objects.filter(customer=cust).exists()


def test_paid_top_up_issues_a_credit_invoice_and_credits_the_balance_when_it_is_paid():
    cust = f.customer()
    wallet = c.wallet(cust)
    c.give(cust, c.coupon(amount_cents=500))  # must not touch a top-up invoice
    [tx] = top_up(wallet.pk, c.SYSTEM, paid_cents=10000)

    invoice = tx.invoice
    assert (invoice.invoice_type, invoice.status, invoice.total_amount_cents, invoice.coupons_amount_cents) == ("credit", "finalized", 10000, 0)
    assert not invoice.number.endswith("DRAFT")
    assert invoice.fees.get().kind == "credit"
    assert tx.status == "pending"
    wallet.refresh_from_db()
    assert wallet.balance_cents == 0

    mark_top_up_paid(invoice.pk, c.SYSTEM)
    wallet.refresh_from_db()
    invoice.refresh_from_db()
    tx.refresh_from_db()
    assert wallet.balance_cents == 10000
    assert (tx.status, invoice.payment_status, invoice.total_due_amount_cents) == ("settled", "succeeded", 0)
    with pytest.raises(ValidationError) as err:
        mark_top_up_paid(invoice.pk, c.SYSTEM)
    assert err.value.code == "already_paid"


def test_wallet_pays_what_is_left_after_taxes_and_up_to_its_balance():
    vat = f.tax(rate="20")
    cust = f.customer()
    wallet = c.wallet(cust, granted_cents=1500)
    inv = finalize(f.invoice(cust, fees=[(1, 1000)], taxes=[vat]))
    assert (inv.sub_total_including_taxes_amount_cents, inv.prepaid_credit_amount_cents, inv.total_amount_cents) == (1200, 1200, 0)
    wallet.refresh_from_db()
    assert wallet.balance_cents == 300
    out = WalletTransaction.objects.get(invoice=inv)
    assert (out.transaction_type, out.transaction_status, out.amount_cents) == ("outbound", "invoiced", 1200)

    second = finalize(f.invoice(cust, fees=[(1, 1000)], taxes=[vat]))
    assert (second.prepaid_credit_amount_cents, second.total_amount_cents) == (300, 900)
    wallet.refresh_from_db()
    assert wallet.balance_cents == 0


def test_drafts_and_one_off_invoices_do_not_consume_the_wallet():
    cust = f.customer()
    wallet = c.wallet(cust, granted_cents=1000)
    draft = f.invoice(cust, fees=[(1, 400)])
    assert draft.prepaid_credit_amount_cents == 0 and draft.total_amount_cents == 400
    assert [(line.kind, line.detail) for line in pending_for(draft)] == [("wallet", "balance 10.00 USD")]
    one_off = finalize(f.invoice(cust, fees=[(1, 400)], invoice_type="one_off"))
    assert one_off.prepaid_credit_amount_cents == 0
    wallet.refresh_from_db()
    assert wallet.balance_cents == 1000


def test_only_the_wallet_in_the_invoice_currency_is_used():
    cust = f.customer(currency="EUR")
    c.wallet(cust, granted_cents=1000, currency="USD")
    inv = finalize(f.invoice(cust, fees=[(1, 400)]))
    assert inv.prepaid_credit_amount_cents == 0


def test_one_active_wallet_per_customer_and_currency():
    cust = f.customer()
    c.wallet(cust)
    with pytest.raises(ValidationError) as err:
        create_wallet(cust, c.SYSTEM)
    assert err.value.error_dict["currency"][0].code == "wallet_already_exists"
    assert Wallet.objects.filter(customer=cust).count() == 1


def test_bad_top_up_amounts_are_refused():
    wallet = c.wallet(f.customer())
    for kwargs in ({}, {"granted_cents": -5}, {"paid_cents": "1.5"}):
        with pytest.raises(ValidationError):
            top_up(wallet.pk, c.SYSTEM, **kwargs)
    assert not WalletTransaction.objects.exists()


def test_voiding_an_unpaid_top_up_invoice_fails_the_purchase():
    from invoices.transitions.voiding import void_invoice

    wallet = c.wallet(f.customer())
    [tx] = top_up(wallet.pk, c.SYSTEM, paid_cents=1000)
    void_invoice(tx.invoice_id, c.SYSTEM)
    tx.refresh_from_db()
    assert tx.status == "failed"
    with pytest.raises(ValidationError):
        mark_top_up_paid(tx.invoice_id, c.SYSTEM)
    wallet.refresh_from_db()
    assert wallet.balance_cents == 0
