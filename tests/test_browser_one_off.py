"""In the browser: an operator issues a one-off invoice with two lines from the customer's page."""
import re

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from addons.models import AddOn
from invoices.models import Invoice

from . import factories as f


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_creates_a_one_off_invoice_from_the_customer_page(live_server, page):
    user = User.objects.create_user("olivia", password="a-long-password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "view_invoice", "add_invoice"]))
    cust = f.customer(name="Globex", currency="EUR")
    cust.taxes.set([f.tax(code="vat-fr", rate="20", name="TVA")])
    AddOn.objects.create(code="setup", name="Setup fee", amount_cents=50000, amount_currency="EUR", description="Implementation")
    AddOn.objects.create(code="training", name="Training day", amount_cents=80000, amount_currency="EUR")

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", "a-long-password")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/customers/customer/{cust.pk}/change/")
    page.get_by_role("link", name="Create one-off invoice").click()

    expect(page.locator("h1")).to_contain_text("Create a one-off invoice for Globex")
    page.select_option("#id_lines-0-add_on", label="Setup fee (setup) — 500.00 EUR")
    expect(page.locator("#id_lines-0-unit_price")).to_have_attribute("placeholder", "500.00")
    page.get_by_role("button", name="Add a line").click()
    page.select_option("#id_lines-1-add_on", label="Training day (training) — 800.00 EUR")
    page.fill("#id_lines-1-units", "0.5")
    page.fill("#id_lines-1-unit_price", "700")
    page.fill("#id_lines-1-description", "Half a day on site")
    page.fill("#id_lines-1-from_date", "2026-12-01")
    page.fill("#id_lines-1-to_date", "2026-12-01")
    page.get_by_role("button", name="Preview").click()

    # 500.00 + 0.5 x 700.00 = 850.00; TVA 20 % = 170.00; total 1,020.00 EUR
    expect(page.locator("#preview-fees")).to_have_text("850.00 EUR")
    expect(page.locator("#preview-taxes")).to_have_text("170.00 EUR")
    expect(page.locator("#preview-total")).to_have_text("1,020.00 EUR")
    assert Invoice.objects.count() == 0

    page.get_by_role("button", name="Create", exact=True).click()

    invoice = Invoice.objects.get()
    expect(page).to_have_url(re.compile(rf"/admin/invoices/invoice/{invoice.pk}/change/$"))
    expect(page.locator(".messagelist")).to_contain_text(f"One-off invoice {invoice.number} was created and finalized: 1,020.00 EUR.")
    assert invoice.status == Invoice.Status.FINALIZED and invoice.total_amount_cents == 102000
    assert [fee.description for fee in invoice.fees.order_by("position")] == ["Implementation", "Half a day on site"]
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
