"""Compute, then write: totals plan what the credits give; finalization applies the plan through the ledgers."""
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from coupons.ledger import CouponUse
from coupons.models import AppliedCoupon, Credit
from credit_notes.ledger import CreditNoteUse
from credit_notes.models import CreditNote
from credit_notes.services import create_credit_note
from invoices.transitions.finalization import finalize_invoices
from invoices.models import Invoice
from invoices.totals import AvailableCredits, compute_totals, load_fees, lock_credit_holders
from wallets.ledger import WalletUse
from wallets.models import Wallet, WalletTransaction

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def customer_with_credits(vat, *, coupon_cents=3000, note_cents=2400, wallet_cents=5000):
    cust = f.customer()
    earlier = c.finalized(cust, fees=[(1, 10000)], taxes=[vat])
    items = [{"fee_id": earlier.fees.get().pk, "amount_cents": note_cents * 100 // (100 + int(vat.rate))}]
    create_credit_note(earlier.pk, c.SYSTEM, reason="other", items=items, credit_amount_cents=note_cents)
    c.give(cust, c.coupon(amount_cents=coupon_cents))
    c.wallet(cust, granted_cents=wallet_cents)
    return cust


def test_compute_totals_runs_no_query_writes_nothing_and_returns_the_plan(django_assert_num_queries):
    vat = f.tax(rate="20")
    cust = customer_with_credits(vat)
    draft = f.invoice(cust, fees=[(1, 10000), (1, 5000)], taxes=[vat])
    with transaction.atomic():
        credits = lock_credit_holders([draft]).available_to(draft)
        fees = load_fees(draft)
        credits_before = Credit.objects.count()

        with django_assert_num_queries(0):
            totals = compute_totals(draft, fees, credits)

        assert Credit.objects.count() == credits_before
        assert CreditNote.objects.get(customer=cust).balance_amount_cents == 2400
        assert Wallet.objects.get(customer=cust).balance_cents == 5000
    applied = AppliedCoupon.objects.get(customer=cust)
    note = CreditNote.objects.get(customer=cust)
    wallet = Wallet.objects.get(customer=cust)
    # 30.00 spread 2:1 over the fees; 20 % VAT on 120.00 = 24.00; 144.00 − 24.00 (note) − 50.00 (wallet)
    assert totals.plan.coupons == (CouponUse(applied, 3000, ((fees[0].pk, 2000), (fees[1].pk, 1000))),)
    assert totals.plan.credit_notes == (CreditNoteUse(note, 2400),)
    assert totals.plan.wallets == (WalletUse(wallet, 5000),)
    assert (draft.coupons_amount_cents, draft.taxes_amount_cents, draft.total_amount_cents) == (3000, 2400, 14400 - 2400 - 5000)


def test_a_draft_is_computed_without_credits_and_plans_nothing():
    vat = f.tax(rate="20")
    draft = f.invoice(customer_with_credits(vat), fees=[(1, 10000)], taxes=[vat])
    totals = compute_totals(draft, load_fees(draft), AvailableCredits())
    assert not totals.plan
    assert draft.total_amount_cents == 12000


def test_a_one_off_invoice_plans_nothing_even_with_credits_at_hand():
    vat = f.tax(rate="20")
    cust = customer_with_credits(vat)
    one_off = f.invoice(cust, fees=[(1, 10000)], taxes=[vat], invoice_type=Invoice.InvoiceType.ONE_OFF)
    subscription = f.invoice(cust, fees=[(1, 10000)], taxes=[vat])
    with transaction.atomic():
        held = lock_credit_holders([subscription])
        assert not compute_totals(one_off, load_fees(one_off), held.available_to(subscription)).plan


def test_two_drafts_of_one_customer_in_one_batch_share_each_balance():
    vat = f.tax(rate="0")
    cust = customer_with_credits(vat, coupon_cents=1500, note_cents=2000, wallet_cents=3000)
    first = f.invoice(cust, fees=[(1, 1000)], taxes=[vat])
    second = f.invoice(cust, fees=[(1, 6000)], taxes=[vat])
    with transaction.atomic():
        finalize_invoices([first.pk, second.pk], c.SYSTEM)
    first.refresh_from_db()
    second.refresh_from_db()
    # the first takes 10.00 of the 15.00 coupon and nothing else; the second the coupon's last 5.00,
    # the note's 20.00 and 30.00 of the wallet
    assert (first.coupons_amount_cents, first.credit_notes_amount_cents, first.prepaid_credit_amount_cents) == (1000, 0, 0)
    assert (second.coupons_amount_cents, second.credit_notes_amount_cents, second.prepaid_credit_amount_cents) == (500, 2000, 3000)
    assert second.total_amount_cents == 500
    assert AppliedCoupon.objects.get(customer=cust).status == "terminated"
    note = CreditNote.objects.get(customer=cust)
    assert (note.balance_amount_cents, note.credit_status) == (0, "consumed")
    assert Wallet.objects.get(customer=cust).balance_cents == 0
    assert WalletTransaction.objects.filter(invoice=second, transaction_type="outbound").get().amount_cents == 3000


def _finalize_counting(drafts):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        finalize_invoices([draft.pk for draft in drafts], c.SYSTEM)
    return [q["sql"] for q in queries.captured_queries]


def test_credits_are_loaded_once_per_batch_not_per_invoice():
    vat = f.tax(rate="20")
    one = _finalize_counting([f.invoice(customer_with_credits(vat), fees=[(1, 10000)], taxes=[vat])])
    three = _finalize_counting([f.invoice(customer_with_credits(vat), fees=[(1, 10000)], taxes=[vat]) for _ in range(3)])

    for table in ('"coupons_appliedcoupon"', '"credit_notes_creditnote"', '"wallets_wallet"'):
        # (the looks at which ledgers hold anything for the batch's customers are the lock statement's own
        # annotations, then a customers query)
        loads = [sql for sql in three if sql.startswith("SELECT") and f"FROM {table}" in sql
                 and not sql.startswith(('SELECT "customers_customer"', 'SELECT "invoices_invoice"'))]
        assert len(loads) == 1, (table, loads)
    # Each further invoice that consumes a coupon, a note and the wallet adds only its writes
    # (Credit ×2, coupon, note, wallet transaction, balance) and the finalization's own two.
    assert len(three) - len(one) <= 2 * 8
