"""Coupons (seed 002): consumed only when a subscription invoice is finalized, never on drafts or one-off invoices."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon, Credit
from coupons.services import pending_for, terminate
from invoices.transitions.fee_edits import update_fee
from invoices.transitions.finalization import finalize_invoice

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def finalize(inv):
    assert finalize_invoice(inv.pk, c.SYSTEM).result == "finalized"
    inv.refresh_from_db()
    return inv


def test_coupon_added_during_grace_period_is_absent_from_the_draft_and_applied_at_finalization():
    cust = f.customer()
    draft = f.invoice(cust, fees=[(1, 10000)], grace_period_ends_at=datetime(2026, 11, 3, tzinfo=dt_timezone.utc))
    applied = c.give(cust, c.coupon(amount_cents=2500, name="Welcome"))

    # The draft is recomputed (an operator edits a fee): still no coupon on it.
    fee = draft.fees.get()
    update_fee(fee.pk, c.SYSTEM, adjustment="total_amount", amount_cents=12000)
    draft.refresh_from_db()
    fee.refresh_from_db()
    assert draft.coupons_amount_cents == 0 and fee.precise_coupons_amount_cents == 0
    assert draft.total_amount_cents == 12000
    assert not Credit.objects.exists()
    # …but the invoice page can say what finalization will apply.
    [line] = pending_for(draft)
    assert (line.kind, line.label) == ("coupon", "Welcome")
    assert "25.00 USD" in line.detail

    inv = finalize(draft)
    assert inv.coupons_amount_cents == 2500
    assert inv.total_amount_cents == 9500
    applied.refresh_from_db()
    assert applied.status == "terminated"
    assert pending_for(inv) == []


def test_once_percentage_coupon_serves_one_invoice():
    cust = f.customer()
    c.give(cust, c.coupon(rate="10", frequency="once"))
    assert finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents == 100
    assert finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents == 0


def test_once_fixed_coupon_is_used_up_across_invoices():
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=1500, frequency="once"))
    assert finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents == 1000
    applied.refresh_from_db()
    assert applied.status == "active" and applied.remaining_amount_cents() == 500
    assert finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents == 500
    applied.refresh_from_db()
    assert applied.status == "terminated"
    assert finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents == 0


def test_recurring_coupon_serves_n_invoices():
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=100, frequency="recurring", duration=2))
    assert applied.frequency_duration_remaining == 2
    amounts = [finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents for _ in range(3)]
    assert amounts == [100, 100, 0]
    applied.refresh_from_db()
    assert (applied.status, applied.frequency_duration_remaining) == ("terminated", 0)


def test_forever_coupon_never_ends():
    cust = f.customer()
    applied = c.give(cust, c.coupon(rate="5", frequency="forever"))
    amounts = [finalize(f.invoice(cust, fees=[(1, 2000)])).coupons_amount_cents for _ in range(4)]
    assert amounts == [100] * 4
    applied.refresh_from_db()
    assert applied.status == "active"


def test_expired_coupon_cannot_be_applied_but_an_earlier_application_still_counts():
    soon = datetime.now(dt_timezone.utc) + timedelta(hours=1)
    cpn = c.coupon(amount_cents=300, expiration="time_limit", expiration_at=soon)
    early = f.customer()
    c.give(early, cpn)

    with pytest.raises(ValidationError) as err:
        c.give(f.customer(), cpn, now=soon + timedelta(seconds=1))
    assert err.value.error_dict["coupon"][0].code == "coupon_is_expired"
    assert finalize(f.invoice(early, fees=[(1, 1000)])).coupons_amount_cents == 300


def test_a_non_reusable_coupon_is_applied_to_a_customer_once():
    cust = f.customer()
    cpn = c.coupon(amount_cents=100, reusable=False)
    c.give(cust, cpn)
    with pytest.raises(ValidationError) as err:
        c.give(cust, cpn)
    assert err.value.error_dict["coupon"][0].code == "coupon_is_not_reusable"


def test_one_off_invoices_get_no_coupon_and_leave_it_for_the_next_subscription_invoice():
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=400))
    one_off = finalize(f.invoice(cust, fees=[(1, 1000)], invoice_type="one_off"))
    assert one_off.coupons_amount_cents == 0 and one_off.total_amount_cents == 1000
    assert pending_for(f.invoice(cust, fees=[(1, 10)], invoice_type="one_off")) == []
    applied.refresh_from_db()
    assert applied.status == "active"
    assert finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents == 400


def test_oldest_applied_coupon_goes_first():
    cust = f.customer()
    first = c.give(cust, c.coupon(amount_cents=700))
    second = c.give(cust, c.coupon(amount_cents=700))
    inv = finalize(f.invoice(cust, fees=[(1, 1000)]))
    assert list(Credit.objects.filter(invoice=inv).order_by("created_at").values_list("applied_coupon_id", "amount_cents")) == [
        (first.pk, 700), (second.pk, 300)
    ]


def test_applying_and_terminating_are_audited():
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=100))
    terminate(applied.pk, c.SYSTEM)
    assert list(AuditLogEntry.objects.filter(object_id=str(applied.pk)).order_by("created_at").values_list("action", flat=True)) == [
        "applied_coupon.created", "applied_coupon.terminated"
    ]
    assert AppliedCoupon.objects.get(pk=applied.pk).status == "terminated"
    assert finalize(f.invoice(cust, fees=[(1, 1000)])).coupons_amount_cents == 0


def test_two_drafts_finalized_in_one_batch_share_one_coupon_once():
    from django.db import transaction

    from invoices.transitions.finalization import finalize_invoices

    cust = f.customer()
    c.give(cust, c.coupon(amount_cents=1500))
    c.wallet(cust, granted_cents=700)
    ids = [f.invoice(cust, fees=[(1, 1000)]).pk for _ in range(2)]
    with transaction.atomic():
        outcomes = finalize_invoices(ids, c.SYSTEM)
    first, second = (o.invoice for o in outcomes)
    assert (first.coupons_amount_cents, second.coupons_amount_cents) == (1000, 500)
    assert (first.prepaid_credit_amount_cents, second.prepaid_credit_amount_cents) == (0, 500)
    assert (first.total_amount_cents, second.total_amount_cents) == (0, 0)
