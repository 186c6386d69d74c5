"""Money is integer minor units scaled by the ISO 4217 exponent; rounding is half away from zero."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.actors import Actor
from core.money import currency_exponent, format_amount, major_to_cents, round_cents
from invoices.transitions.finalization import finalize_invoice

from . import factories as f


def test_exponents():
    assert [currency_exponent(c) for c in ("JPY", "USD", "KWD")] == [0, 2, 3]
    with pytest.raises(ValidationError):
        currency_exponent("XAU")
    with pytest.raises(ValidationError):
        currency_exponent("ZZZ")


def test_round_half_away_from_zero():
    assert round_cents(Decimal("832.5")) == 833
    assert round_cents(Decimal("-832.5")) == -833
    assert round_cents(Decimal("832.4999")) == 832


def test_format_and_parse():
    assert format_amount(123456, "USD") == "1,234.56 USD"
    assert format_amount(123456, "JPY") == "123,456 JPY"
    assert format_amount(1234, "KWD") == "1.234 KWD"
    assert major_to_cents("12.34", "USD") == 1234
    assert major_to_cents("1200", "JPY") == 1200
    with pytest.raises(ValidationError):
        major_to_cents("12.5", "JPY")


@pytest.mark.django_db
def test_jpy_invoice_rounds_taxes_to_whole_yen():
    tax = f.tax(rate="10")
    cust = f.customer(currency="JPY")
    # 3 x 333 = 999 yen, 10 % = 99.9 -> 100 yen; 2.5 x 333 = 832.5 -> 833 yen, tax 83.3 -> 83.
    invoice = f.invoice(cust, fees=[(3, 333), ("2.5", 333)], taxes=[tax])
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()
    assert invoice.fees_amount_cents == 999 + 833
    # Invoice taxes = round(sum of unrounded per-fee taxes) = round(99.9 + 83.3) = 183.
    assert invoice.taxes_amount_cents == 183
    assert invoice.total_amount_cents == 1832 + 183
    assert invoice.display("total_amount_cents") == "2,015 JPY"


@pytest.mark.django_db
def test_kwd_invoice_keeps_three_decimals():
    tax = f.tax(rate="5")
    cust = f.customer(currency="KWD")
    invoice = f.invoice(cust, fees=[(1, 12345)], taxes=[tax])
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()
    assert invoice.taxes_amount_cents == 617  # 617.25 fils
    assert invoice.display("total_amount_cents") == "12.962 KWD"
