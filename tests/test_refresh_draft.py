"""Refreshing a draft re-aggregates usage in its period; the operator's adjustments survive."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions import fee_edits
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Fee, Invoice
from invoices.transitions.refresh import refresh_draft
from billing_run.billing import run_billing

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db
OPERATOR = Actor.system("admin")
TIERS = {"graduated_ranges": [
    {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
    {"from_value": 11, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
]}


@pytest.fixture
def draft():
    cust = f.customer(invoice_grace_period=3)
    plan = b.plan(amount_cents=1000)
    calls, api, idle = (b.metric("count", code=c) for c in ("calls", "api", "idle"))
    charges = {
        "calls": b.charge(plan, calls, "standard", {"amount": "1"}),
        "api": b.charge(plan, api, "graduated", TIERS),
        "idle": b.charge(plan, idle, "graduated", TIERS),
    }
    sub = b.subscription(cust, plan, started_at=b.utc(2026, 1, 1))
    b.event(sub, "calls", b.utc(2026, 1, 10))
    b.event(sub, "api", b.utc(2026, 1, 10))
    run_billing(b.utc(2026, 2, 1, 1))
    return Invoice.objects.get(subscription=sub), sub, charges


def test_late_events_in_the_period_show_up_and_later_ones_do_not(draft):
    invoice, sub, _ = draft
    b.event(sub, "calls", b.utc(2026, 1, 31, 23, 59, 59))
    b.event(sub, "calls", b.utc(2026, 2, 1))  # next period
    refresh_draft(invoice.pk, OPERATOR)
    invoice.refresh_from_db()
    calls_fee = invoice.fees.get(charge__billable_metric__code="calls")
    assert (calls_fee.units, calls_fee.amount_cents, calls_fee.events_count) == (2, 200, 2)
    assert invoice.fees_amount_cents == 1000 + 200 + 100
    assert AuditLogEntry.objects.filter(action="invoice.refreshed", invoice=invoice).count() == 1


def test_adjustments_survive_a_refresh(draft):
    invoice, sub, charges = draft
    sub_fee = invoice.fees.get(kind="subscription")
    calls_fee = invoice.fees.get(charge=charges["calls"])
    api_fee = invoice.fees.get(charge=charges["api"])
    fee_edits.update_fee(sub_fee.pk, OPERATOR, invoice_display_name="Platform")
    fee_edits.update_fee(calls_fee.pk, OPERATOR, adjustment="total_amount", amount_cents=777)
    fee_edits.update_fee(api_fee.pk, OPERATOR, adjustment="total_units", units="14")
    api_fee.refresh_from_db()
    assert api_fee.amount_cents == 1200  # priced by the graduated tiers: 10 x 1 + 4 x 0.5
    for _ in range(5):
        b.event(sub, "calls", b.utc(2026, 1, 20))
        b.event(sub, "api", b.utc(2026, 1, 20))

    refresh_draft(invoice.pk, OPERATOR)

    sub_fee.refresh_from_db(), calls_fee.refresh_from_db(), api_fee.refresh_from_db()
    assert (sub_fee.display_name, sub_fee.amount_cents) == ("Platform", 1000)
    assert (calls_fee.amount_cents, calls_fee.adjustment) == (777, "total_amount")
    assert (api_fee.units, api_fee.amount_cents) == (14, 1200)
    invoice.refresh_from_db()
    assert invoice.fees_amount_cents == 1000 + 777 + 1200
    # Finalization refreshes too: the adjustments are what gets invoiced.
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()
    assert invoice.status == "finalized" and invoice.fees_amount_cents == 2977


def test_add_a_fee_for_a_charge_without_usage_is_priced_by_its_model_and_kept(draft):
    invoice, sub, charges = draft
    fee = fee_edits.add_fee(invoice.pk, OPERATOR, charge=charges["idle"], subscription=sub, description="Idle",
                            adjustment="total_units", units=Decimal(12))
    assert fee.amount_cents == 1100
    refresh_draft(invoice.pk, OPERATOR)
    fee.refresh_from_db()
    assert (fee.units, fee.amount_cents) == (12, 1100)
    assert invoice.fees.filter(charge=charges["idle"]).count() == 1


def test_refresh_refuses_non_subscription_invoices_and_leaves_finalized_ones_alone(draft):
    one_off = f.invoice(invoice_type="one_off", fees=[(1, 100)])
    with pytest.raises(ValidationError) as error:
        refresh_draft(one_off.pk, OPERATOR)
    assert error.value.code == "feature_unavailable"
    invoice, sub, _ = draft
    finalize_invoice(invoice.pk, Actor.system())
    b.event(sub, "calls", b.utc(2026, 1, 12))
    before = Invoice.objects.get(pk=invoice.pk).fees_amount_cents
    assert refresh_draft(invoice.pk, OPERATOR).fees_amount_cents == before
    assert Fee.objects.filter(invoice=invoice).count() == 3


def test_finalization_refreshes_usage_and_rewrites_the_tax_lines():
    vat = f.tax(rate="20")
    cust = f.customer(invoice_grace_period=3)
    cust.taxes.add(vat)
    plan = b.plan(amount_cents=1000)
    b.charge(plan, b.metric("count", code="late"), "standard", {"amount": "1"})
    sub = b.subscription(cust, plan, started_at=b.utc(2026, 1, 1))
    run_billing(b.utc(2026, 2, 1, 1))
    invoice = Invoice.objects.get(subscription=sub)
    assert [(t.fees_amount_cents, t.amount_cents) for t in invoice.applied_taxes.all()] == [(1000, 200)]
    b.event(sub, "late", b.utc(2026, 1, 31, 22))  # arrives during the grace period

    finalize_invoice(invoice.pk, Actor.system())

    invoice.refresh_from_db()
    assert (invoice.status, invoice.fees_amount_cents, invoice.taxes_amount_cents, invoice.total_amount_cents) == ("finalized", 1100, 220, 1320)
    assert [(t.fees_amount_cents, t.amount_cents) for t in invoice.applied_taxes.all()] == [(1100, 220)]
    assert sorted(fee.taxes_amount_cents for fee in invoice.fees.all()) == [20, 200]
