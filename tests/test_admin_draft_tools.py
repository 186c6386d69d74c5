"""The invoice page's draft tools: Refresh, and Add a fee for a charge without usage (priced by its model)."""
import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from audit.models import AuditLogEntry
from invoices.models import Invoice
from billing_run.billing import run_billing

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db
TIERS = {"graduated_ranges": [
    {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
    {"from_value": 11, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
]}


@pytest.fixture
def operator(client):
    user = User.objects.create_user("olga", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_invoice", "change_invoice"]))
    client.force_login(user)
    return user


@pytest.fixture
def draft():
    plan = b.plan(amount_cents=1000)
    calls = b.charge(plan, b.metric("count", code="calls"), "standard", {"amount": "1"})
    seats = b.charge(plan, b.metric("count", code="seats", filters={"tier": ["pro", "basic"]}), "graduated", TIERS)
    pro = b.charge_filter(seats, {"tier": ["pro"]}, {"amount": "5"}, invoice_display_name="Pro seats")
    sub = b.subscription(f.customer(invoice_grace_period=3), plan, started_at=b.utc(2026, 1, 1))
    b.event(sub, "calls", b.utc(2026, 1, 5))
    run_billing(b.utc(2026, 2, 1, 1))
    return Invoice.objects.get(subscription=sub), sub, {"calls": calls, "seats": seats, "pro": pro}


def test_refresh_button_picks_up_late_events(client, operator, draft):
    invoice, sub, _ = draft
    b.event(sub, "calls", b.utc(2026, 1, 30))
    url = reverse("admin:invoices_invoice_refresh", args=[invoice.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "was refreshed" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.fees_amount_cents == 1000 + 200
    entry = AuditLogEntry.objects.get(action="invoice.refreshed")
    assert (entry.source, entry.user) == ("admin", operator)


def test_add_a_fee_offers_charges_without_fee_and_prices_total_units_by_the_model(client, operator, draft):
    invoice, _, charges = draft
    url = reverse("admin:invoices_invoice_add_charge_fee", args=[invoice.pk])
    page = client.get(url).content.decode()
    assert "Pro seats" in page and str(charges["seats"].pk) in page
    assert f'value="{charges["calls"].pk}"' not in page  # already has a fee

    response = client.post(url, {"target": str(charges["seats"].pk), "mode": "total_units", "units": "14",
                                 "invoice_display_name": "Seats (manual)"})
    assert response.status_code == 302
    fee = invoice.fees.get(charge=charges["seats"], charge_filter=None)
    assert (fee.units, fee.amount_cents, fee.adjustment, fee.display_name) == (14, 1200, "total_units", "Seats (manual)")

    client.post(url, {"target": f'{charges["seats"].pk}:{charges["pro"].pk}', "mode": "total_amount", "amount": "12.34"})
    fee = invoice.fees.get(charge_filter=charges["pro"])
    assert (fee.amount_cents, fee.adjustment) == (1234, "total_amount")
    invoice.refresh_from_db()
    assert invoice.fees_amount_cents == 1000 + 100 + 1200 + 1234
    assert AuditLogEntry.objects.filter(action="fee.created", invoice=invoice, user=operator).count() == 2


def test_add_a_fee_form_errors_and_non_drafts(client, operator, draft):
    invoice, _, charges = draft
    url = reverse("admin:invoices_invoice_add_charge_fee", args=[invoice.pk])
    response = client.post(url, {"target": str(charges["seats"].pk), "mode": "total_amount", "amount": "1.234"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not invoice.fees.filter(charge=charges["seats"]).exists()
    one_off = f.invoice(invoice_type="one_off", fees=[(1, 100)])
    response = client.get(reverse("admin:invoices_invoice_add_charge_fee", args=[one_off.pk]))
    assert response.status_code == 302


def test_draft_tools_need_the_change_permission(client, draft):
    invoice, _, _ = draft
    viewer = User.objects.create_user("val", password="x", is_staff=True)
    client.force_login(viewer)
    assert client.post(reverse("admin:invoices_invoice_refresh", args=[invoice.pk])).status_code == 403
