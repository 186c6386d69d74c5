"""The runbook (seed 001) in a real browser: sign in as an operator, filter drafts, open one, read the
totals, finalize it through the button and its confirmation page, see the status badge change and the
entry in the audit log."""
import re

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice

from . import factories as f


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_finalizes_a_draft_following_the_runbook(live_server, page, operator):
    entity = f.billing_entity(document_number_prefix="RUN")
    vat = f.tax(rate="20")
    hooli = f.customer(entity, external_id="hooli-42", name="Hooli")
    draft = f.invoice(hooli, fees=[(3, 1000), (2, 250)], taxes=[vat])
    f.invoice(f.customer(entity, name="Globex"), fees=[(1, 999)])
    done = f.invoice(f.customer(entity, name="Initech"), fees=[(1, 100)])
    finalize_invoice(done.pk, Actor.system())

    # Sign in.
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", "olivia-operator-pass")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    # Billing -> Invoices, filtered by status Draft.
    page.click("a[href='/admin/invoices/invoice/']")
    page.click("#changelist-filter a[href='?status=draft']")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list .ui-status-finalized")).to_have_count(0)

    # Open Hooli's draft and verify the customer and the totals.
    rows.filter(has_text="Hooli").locator("th a").click()
    expect(page.locator(".field-customer_name .readonly")).to_have_text("Hooli")
    expect(page.locator(".field-customer_external_id .readonly")).to_have_text("hooli-42")
    expect(page.locator(".field-billing_period .readonly")).to_contain_text("2026-10-01 → 2026-10-31")
    assert page.locator(".field-fees_total .readonly").inner_text() == "35.00 USD"
    assert page.locator(".field-taxes_total .readonly").inner_text() == "7.00 USD"
    assert page.locator(".field-grand_total .readonly").inner_text() == "42.00 USD"
    expect(page.locator(".field-ui_status_badge .ui-status")).to_have_text("draft")

    # Click Finalize invoice, check the confirmation page, confirm.
    page.click("text=Finalize invoice")
    expect(page.locator("#confirmation-totals")).to_contain_text("42.00 USD")
    page.click("input[value='Yes, finalize invoice']")

    draft.refresh_from_db()
    assert draft.status == "finalized" and re.fullmatch(r"RUN-\d{3}-001", draft.number)
    expect(page.locator(".messagelist .success")).to_have_text(f"Invoice {draft.number} was finalized.")
    expect(page.locator(".field-ui_status_badge .ui-status")).to_have_text("finalized")
    expect(page.locator(".field-number .readonly")).to_have_text(draft.number)
    expect(page.locator("text=Finalize invoice")).to_have_count(0)

    # The draft list no longer shows it; the finalized list does.
    page.goto(f"{live_server.url}/admin/invoices/invoice/?status=draft")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/admin/invoices/invoice/?status=finalized")
    expect(page.locator("#result_list tbody tr", has_text=draft.number)).to_have_count(1)

    # The audit log attributes the finalization to the operator.
    page.goto(f"{live_server.url}/admin/audit/auditlogentry/?action=invoice.finalized")
    entry = page.locator("#result_list tbody tr", has_text=draft.number)
    expect(entry).to_contain_text(operator.username)
    expect(entry).to_contain_text("invoice.finalized")
    expect(entry).to_contain_text("Admin")
    assert Invoice.objects.drafts().count() == 1
