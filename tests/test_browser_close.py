"""Month-end close in a real browser: the operator signs in and lands on the close dashboard, clicks into the
past-due drafts, opens one with a readiness problem and sees it, finalizes a clean one, and the dashboard's
"finalized today" counts it."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from invoices.models import Invoice

from . import factories as f


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_walks_the_close_dashboard(live_server, page, operator):
    due = timezone.now() - timedelta(hours=2)
    strict = f.billing_entity(requires_customer_tax_id=True, document_number_prefix="CLS")
    untaxed = f.invoice(f.customer(strict, name="Untaxed Ltd"), fees=[(1, 1000)], grace_period_ends_at=due)
    clean = f.invoice(f.customer(strict, name="Clean Co", tax_identification_number="FR42"), fees=[(2, 1500)],
                      grace_period_ends_at=due)

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", "olivia-operator-pass")
    page.click("input[type=submit]")

    # Lands on the dashboard: two drafts past due in USD, one with a readiness problem, nothing finalized yet.
    dashboard = page.locator("#close-dashboard")
    expect(dashboard).to_be_visible()
    expect(page.locator("#close-buckets .bucket-past_due .bucket-count")).to_have_text("2")
    expect(page.locator("#close-readiness a")).to_have_text("1")
    expect(page.locator("#close-finalized-today")).to_contain_text("none yet")

    # Into the past-due bucket.
    page.click("#close-buckets .bucket-past_due .bucket-count")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)

    # The draft with a problem shows it at the top of its page.
    rows.filter(has_text="Untaxed Ltd").locator("th a").click()
    expect(page.locator(".readiness-problems .readiness-missing_tax_id")).to_contain_text("tax identification number")
    page.go_back()

    # The clean one: no warning, finalized through the confirmation page.
    page.locator("#result_list tbody tr").filter(has_text="Clean Co").locator("th a").click()
    expect(page.locator(".readiness-problems")).to_have_count(0)
    page.click("text=Finalize invoice")
    expect(page.locator(".readiness-problems")).to_have_count(0)
    page.click("input[value='Yes, finalize invoice']")
    expect(page.locator(".messagelist .success")).to_contain_text("was finalized")

    # Back on the dashboard: finalized today counts it, one draft left past due.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#close-finalized-today .finalized-USD")).to_contain_text("30.00 USD")
    expect(page.locator("#close-finalized-today .finalized-USD a")).to_have_text("1")
    expect(page.locator("#close-buckets .bucket-past_due .bucket-count")).to_have_text("1")
    clean.refresh_from_db()
    untaxed.refresh_from_db()
    assert clean.status == Invoice.Status.FINALIZED and untaxed.status == Invoice.Status.DRAFT
