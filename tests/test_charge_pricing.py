"""Charge models price Decimal units into integer minor units; filters split a charge's events."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from invoices.models import Invoice
from plans.pricing import price_cents, validate_properties
from billing_run.billing import run_billing

from . import billing_factories as b
from . import factories as f

TIERS = [
    {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
    {"from_value": 11, "to_value": 20, "per_unit_amount": "0.5", "flat_amount": "2"},
    {"from_value": 21, "to_value": None, "per_unit_amount": "0.1", "flat_amount": "0"},
]


def test_standard_rounds_half_away_from_zero_once():
    assert price_cents("standard", {"amount": "0.005"}, Decimal("1"), "USD") == 1  # 0.5 cent -> 1
    assert price_cents("standard", {"amount": "0.0333"}, Decimal("3"), "USD") == 10  # 9.99 -> 10
    assert price_cents("standard", {"amount": "12"}, Decimal("2.5"), "JPY") == 30
    assert price_cents("standard", {"amount": "1.001"}, Decimal("1"), "KWD") == 1001


def test_graduated_prices_each_tier_and_adds_flat_amounts_reached():
    props = {"graduated_ranges": TIERS}
    assert price_cents("graduated", props, Decimal(0), "USD") == 0
    assert price_cents("graduated", props, Decimal(5), "USD") == 500
    assert price_cents("graduated", props, Decimal(15), "USD") == 1000 + 200 + 250
    assert price_cents("graduated", props, Decimal(25), "USD") == 1000 + 200 + 500 + 50


def test_volume_prices_all_units_at_the_tier_reached():
    props = {"volume_ranges": TIERS}
    assert price_cents("volume", props, Decimal(5), "USD") == 500
    assert price_cents("volume", props, Decimal(15), "USD") == 200 + 750
    assert price_cents("volume", props, Decimal(25), "USD") == 250


def test_package_bills_every_started_package_after_free_units():
    props = {"amount": "5", "package_size": 100, "free_units": 10}
    assert price_cents("package", props, Decimal(10), "USD") == 0
    assert price_cents("package", props, Decimal(11), "USD") == 500
    assert price_cents("package", props, Decimal(210), "USD") == 1000
    assert price_cents("package", props, Decimal(211), "USD") == 1500


def test_bad_properties_are_refused_with_a_code():
    with pytest.raises(ValidationError) as error:
        validate_properties("graduated", {"graduated_ranges": [{"from_value": 0, "to_value": 10, "per_unit_amount": "1"}]})
    assert error.value.error_dict["properties"][0].code == "invalid_charge_properties"
    with pytest.raises(ValidationError):
        validate_properties("package", {"amount": "1", "package_size": 0})


@pytest.mark.django_db
def test_aggregations_and_filters_make_one_fee_per_charge_and_filter():
    cust = f.customer(invoice_grace_period=3)
    plan = b.plan(amount_cents=0)
    calls = b.metric("count", code="calls")
    storage = b.metric("sum", "gb", code="storage")
    peak = b.metric("max", "seats", code="seats")
    users = b.metric("unique_count", "user", code="users", filters={"region": ["eu", "us"]})
    b.charge(plan, calls, "graduated", {"graduated_ranges": TIERS})
    b.charge(plan, storage, "standard", {"amount": "0.25"})
    b.charge(plan, peak, "volume", {"volume_ranges": TIERS})
    users_charge = b.charge(plan, users, "standard", {"amount": "2"})
    eu = b.charge_filter(users_charge, {"region": ["eu"]}, {"amount": "3"})
    unused = b.charge(plan, b.metric("count", code="unused"), "standard", {"amount": "1"})
    sub = b.subscription(cust, plan, started_at=b.utc(2026, 1, 1))
    for i in range(15):
        b.event(sub, "calls", b.utc(2026, 1, 2, 0, i))
    for gb in ("1.5", "2.25"):
        b.event(sub, "storage", b.utc(2026, 1, 3), {"gb": gb})
    for seats in (3, 12, 7):
        b.event(sub, "seats", b.utc(2026, 1, 4), {"seats": seats})
    for user, region in [("a", "eu"), ("a", "eu"), ("b", "eu"), ("c", "us"), ("d", None)]:
        b.event(sub, "users", b.utc(2026, 1, 5), {"user": user, **({"region": region} if region else {})})

    run_billing(b.utc(2026, 2, 1, 1))

    invoice = Invoice.objects.get(subscription=sub)
    fees = {(fee.charge.billable_metric.code if fee.charge else fee.kind, fee.charge_filter_id): fee for fee in invoice.fees.all()}
    assert fees[("calls", None)].amount_cents == 1450 and fees[("calls", None)].units == 15
    assert fees[("storage", None)].units == Decimal("3.75") and fees[("storage", None)].amount_cents == 94  # 93.75
    assert fees[("seats", None)].units == 12 and fees[("seats", None)].amount_cents == 800  # 12 x 0.5 + 2
    assert fees[("users", eu.pk)].units == 2 and fees[("users", eu.pk)].amount_cents == 600
    assert fees[("users", None)].units == 2 and fees[("users", None)].amount_cents == 400  # us + no region
    assert not invoice.fees.filter(charge=unused).exists()  # 0 units: no fee
    assert ("subscription", None) not in fees  # plan amount 0: no fee
    assert invoice.fees_amount_cents == 1450 + 94 + 800 + 600 + 400
