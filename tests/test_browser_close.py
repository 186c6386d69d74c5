"""Month-end close in a real browser: the operator signs in and lands on the close dashboard, clicks into the
past-due drafts, opens one with a readiness problem and sees it, finalizes a clean one, and the dashboard's
"finalized today" counts it. The whole close: the ready drafts finalized with the bulk action, then the
auditor reads their entries, verifies the hash chain from the console and exports the CSV."""
import csv
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.models import AuditLogEntry, AuditVerification
from invoices.models import Invoice

from . import factories as f


def sign_in(page, url, username):
    page.goto(f"{url}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-pass")
    page.click("input[type=submit]")


def open_past_due_drafts(page, url, username, *, past_due, problems, closing_empty):
    """Sign in, land on the dashboard (nothing finalized yet), open the past-due bucket, see the untaxed draft's problem."""
    sign_in(page, url, username)
    expect(page.locator("#close-dashboard")).to_be_visible()
    expect(page.locator("#close-buckets .bucket-past_due .bucket-count")).to_have_text(str(past_due))
    expect(page.locator("#close-readiness a")).to_have_text(str(problems))
    expect(page.locator("#close-empty a")).to_have_text(str(closing_empty))
    expect(page.locator("#close-finalized-today")).to_contain_text("none yet")

    page.click("#close-buckets .bucket-past_due .bucket-count")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(past_due)
    # The draft with a problem shows it at the top of its page.
    rows.filter(has_text="Untaxed Ltd").locator("th a").click()
    expect(page.locator(".readiness-problems .readiness-missing_tax_id")).to_contain_text("tax identification number")
    page.go_back()
    return rows


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_walks_the_close_dashboard(live_server, page, operator):
    due = timezone.now() - timedelta(hours=2)
    strict = f.billing_entity(requires_customer_tax_id=True, document_number_prefix="CLS")
    untaxed = f.invoice(f.customer(strict, name="Untaxed Ltd"), fees=[(1, 1000)], grace_period_ends_at=due)
    clean = f.invoice(f.customer(strict, name="Clean Co", tax_identification_number="FR42"), fees=[(2, 1500)],
                      grace_period_ends_at=due)

    open_past_due_drafts(page, live_server.url, operator.username, past_due=2, problems=1, closing_empty=0)

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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_whole_close_from_the_dashboard_to_the_auditors_csv(live_server, page, operator, auditor, settings):
    settings.INVOICE_PDF_AFTER_FINALIZATION = False  # PDFs are not what this walk is about
    due = timezone.now() - timedelta(hours=2)
    strict = f.billing_entity(requires_customer_tax_id=True, document_number_prefix="CLS")

    def draft(name, external_id, fees, **customer):
        customer.setdefault("tax_identification_number", "FR42")
        return f.invoice(f.customer(strict, name=name, external_id=external_id, **customer), fees=fees,
                         grace_period_ends_at=due)

    untaxed = draft("Untaxed Ltd", "untaxed", [(1, 1000)], tax_identification_number="")
    clean = draft("Clean Co", "clean-co", [(2, 1500)])
    second = draft("Second Co", "second-co", [(1, 1000)])
    empty = draft("Empty Co", "empty-co", [], finalize_zero_amount_invoice="skip")  # the policy closes it

    # The operator lands on the dashboard: four drafts past due, two with readiness problems (a missing tax id,
    # and the empty one the policy will close); the untaxed draft shows its problem on its page.
    rows = open_past_due_drafts(page, live_server.url, operator.username, past_due=4, problems=2, closing_empty=1)

    # The ready drafts, ticked in the list and finalized with the bulk action.
    for name in ("Clean Co", "Second Co", "Empty Co"):
        rows.filter(has_text=name).locator("input.action-select").check()
    page.select_option("select[name=action]", "finalize_selected")
    page.click("button[name=index]")

    # The confirmation marks the draft that will close as empty.
    expect(page.locator("#closing-empty")).to_contain_text("1 draft has no fees and will be")
    marked = page.locator("tr.empty-draft")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("Draft · Empty Co (empty-co)")
    expect(marked.locator(".closes-empty")).to_contain_text("closes as empty")
    page.click("input[value='Yes, finalize them']")

    # The result names the new numbers.
    for invoice in (clean, second, empty, untaxed):
        invoice.refresh_from_db()
    assert (clean.status, second.status, empty.status, untaxed.status) == ("finalized", "finalized", "closed", "draft")
    numbers = {clean.number, second.number}
    assert all(number.startswith("CLS-") for number in numbers)
    result = page.locator(".messagelist .success")
    expect(result).to_contain_text("2 finalized, 1 closed as empty, 0 refused")
    expect(result).to_contain_text(f"{clean.number} (clean-co)")
    expect(result).to_contain_text(f"{second.number} (second-co)")

    # The dashboard: both under finalized today, one draft left past due; the list behind the figure names them.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#close-finalized-today .finalized-USD a")).to_have_text("2")
    expect(page.locator("#close-finalized-today .finalized-USD")).to_contain_text("40.00 USD")
    expect(page.locator("#close-buckets .bucket-past_due .bucket-count")).to_have_text("1")
    page.click("#close-finalized-today .finalized-USD a")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    for number in numbers:
        expect(page.locator("#result_list")).to_contain_text(number)

    # The auditor signs in and opens the audit log, filtered to the bulk action.
    page.click("#logout-form button")
    sign_in(page, live_server.url, auditor.username)
    expect(page.locator("#close-dashboard")).to_be_visible()
    page.goto(f"{live_server.url}/admin/audit/auditlogentry/")
    page.click("#changelist-filter a:has-text('Admin bulk action')")
    bulk_entries = AuditLogEntry.objects.filter(source="admin_bulk")
    assert {e.action for e in bulk_entries} == {"invoice.finalized", "invoice.closed"}
    entries = page.locator("#result_list tbody tr")
    expect(entries).to_have_count(bulk_entries.count())
    for number, customer in ((clean.number, "Clean Co (clean-co)"), (second.number, "Second Co (second-co)")):
        row = entries.filter(has_text=number)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("invoice.finalized")
        expect(row).to_contain_text(customer)
        expect(row).to_contain_text("Admin bulk action")
    closed_row = entries.filter(has_text="invoice.closed")
    expect(closed_row).to_contain_text("Closed · Empty Co (empty-co)")
    expect(page.locator("#result_list")).not_to_contain_text("-DRAFT")

    # Verifies the chain from the console: intact, and the run recorded (the dashboard shows it).
    page.click("button.audit-verify")
    expect(page.locator(".messagelist .success")).to_contain_text(
        f"The audit log is intact: {AuditLogEntry.objects.count()} entries checked")
    assert AuditVerification.objects.get().ok
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#audit-verification")).to_contain_text("intact")

    # Exports the bulk action's entries as CSV and the file holds them.
    page.goto(f"{live_server.url}/admin/audit/auditlogentry/")
    page.click("#changelist-filter a:has-text('Admin bulk action')")
    with page.expect_download() as download_info:
        page.click("a.audit-export")
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert len(exported) == bulk_entries.count() and {row["source"] for row in exported} == {"admin_bulk"}
    finalized = {row["invoice_current_number"]: row for row in exported if row["action"] == "invoice.finalized"}
    assert set(finalized) == numbers
    assert finalized[clean.number]["customer_name"] == "Clean Co" and finalized[clean.number]["actor"] == operator.username
    [closed] = [row for row in exported if row["action"] == "invoice.closed"]
    assert closed["invoice"].startswith("Closed · Empty Co (empty-co) · ")
    assert closed["invoice_current_number"] == "" and closed["invoice_id"] == str(empty.pk)
