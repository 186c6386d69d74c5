"""Worked examples of Lago's order at finalization: fees → coupons → taxes → credit notes → prepaid credits."""
from decimal import Decimal

import pytest

from coupons.models import Credit
from credit_notes.services import create_credit_note
from invoices.transitions.finalization import finalize_invoice
from wallets.models import WalletTransaction

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def finalize(inv):
    assert finalize_invoice(inv.pk, c.SYSTEM).result == "finalized"
    inv.refresh_from_db()
    return inv


def test_full_order_with_fixed_and_percentage_coupons_credit_note_and_wallet():
    vat = f.tax(rate="20")
    cust = f.customer()
    # A credit note of 20.00 from an earlier invoice, available as credit.
    earlier = c.finalized(cust, fees=[(1, 10000)], taxes=[vat])
    fee = earlier.fees.get()
    create_credit_note(earlier.pk, c.SYSTEM, reason="other", items=[{"fee_id": fee.pk, "amount_cents": 2000}], credit_amount_cents=2400)
    c.give(cust, c.coupon(amount_cents=3000))  # older: applied first
    c.give(cust, c.coupon(rate="10", frequency="forever"))
    c.wallet(cust, granted_cents=5000)

    inv = finalize(f.invoice(cust, fees=[(1, 10000), (1, 5000)], taxes=[vat]))

    assert inv.fees_amount_cents == 15000
    # fixed 30.00 on 150.00, then 10 % of the remaining 120.00
    assert inv.coupons_amount_cents == 3000 + 1200
    assert inv.sub_total_excluding_taxes_amount_cents == 10800
    fees = list(inv.fees.order_by("position"))
    assert [fee.precise_coupons_amount_cents for fee in fees] == [Decimal(2800), Decimal(1400)]
    assert [fee.taxes_amount_cents for fee in fees] == [1440, 720]  # 20 % of (amount − coupon share)
    assert inv.taxes_amount_cents == 2160
    assert inv.sub_total_including_taxes_amount_cents == 12960
    assert inv.credit_notes_amount_cents == 2400  # after taxes
    assert inv.prepaid_credit_amount_cents == 5000  # last
    assert inv.total_amount_cents == 12960 - 2400 - 5000
    assert sorted(Credit.objects.filter(invoice=inv).values_list("amount_cents", "before_taxes")) == [(1200, True), (2400, False), (3000, True)]
    assert WalletTransaction.objects.get(invoice=inv).amount_cents == 5000


def test_pro_rata_split_gives_the_cent_remainder_to_the_largest_fraction_then_the_earliest_fee():
    vat = f.tax(rate="10")
    cust = f.customer()
    c.give(cust, c.coupon(amount_cents=100))

    inv = finalize(f.invoice(cust, fees=[(1, 1000), (1, 1000), (1, 1000)], taxes=[vat]))

    fees = list(inv.fees.order_by("position"))
    # 100 / 3 = 33.33 each: the left-over cent goes to the first fee (a tie).
    assert [fee.precise_coupons_amount_cents for fee in fees] == [34, 33, 33]
    assert [fee.taxes_amount_cents for fee in fees] == [97, 97, 97]  # 96.6, 96.7, 96.7 each rounded
    assert inv.taxes_amount_cents == 290  # Σ unrounded (290.0), rounded once — not 291
    assert inv.total_amount_cents == 2900 + 290


def test_remainder_goes_to_the_largest_fractional_share():
    cust = f.customer()
    c.give(cust, c.coupon(amount_cents=1000))
    inv = finalize(f.invoice(cust, fees=[(1, 3333), (1, 3333), (1, 3334)]))
    # exact shares 333.3, 333.3, 333.4
    assert [fee.precise_coupons_amount_cents for fee in inv.fees.order_by("position")] == [333, 333, 334]
    assert inv.coupons_amount_cents == 1000


def test_percentage_is_rounded_half_away_from_zero():
    vat = f.tax(rate="20")
    cust = f.customer()
    c.give(cust, c.coupon(rate="12.5"))
    inv = finalize(f.invoice(cust, fees=[(1, 999)], taxes=[vat]))
    assert inv.coupons_amount_cents == 125  # 124.875
    assert inv.taxes_amount_cents == 175  # 20 % of 874 = 174.8
    assert inv.total_amount_cents == 874 + 175


def test_fixed_coupon_larger_than_the_fees_stops_at_zero_and_keeps_the_rest():
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=5000))
    c.give(cust, c.coupon(rate="50"))
    inv = finalize(f.invoice(cust, fees=[(1, 3000)]))
    assert inv.coupons_amount_cents == 3000
    assert inv.total_amount_cents == 0
    assert inv.payment_status == "succeeded"
    applied.refresh_from_db()
    assert applied.status == "active" and applied.remaining_amount_cents() == 2000
    assert Credit.objects.filter(invoice=inv).count() == 1  # the percentage coupon had nothing left to take


def test_jpy_has_no_minor_unit():
    tax = f.tax(rate="10")
    cust = f.customer(currency="JPY")
    c.give(cust, c.coupon(rate="15"))
    c.wallet(cust, granted_cents=500, currency="JPY")

    inv = finalize(f.invoice(cust, fees=[(1, 1000), (1, 555)], taxes=[tax]))

    assert inv.coupons_amount_cents == 233  # 15 % of 1555 = 233.25
    assert [fee.precise_coupons_amount_cents for fee in inv.fees.order_by("position")] == [150, 83]  # 149.84 / 83.16
    assert inv.taxes_amount_cents == 132  # 85 + 47.2
    assert inv.sub_total_including_taxes_amount_cents == 1322 + 132
    assert inv.prepaid_credit_amount_cents == 500
    assert inv.total_amount_cents == 954
    assert inv.display("total_amount_cents") == "954 JPY"


def test_fixed_coupon_in_another_currency_is_not_applied():
    cust = f.customer(currency="EUR")
    c.give(cust, c.coupon(amount_cents=500, currency="USD"))
    inv = finalize(f.invoice(cust, fees=[(1, 1000)]))
    assert inv.coupons_amount_cents == 0
