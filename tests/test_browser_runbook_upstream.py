"""Seed 001's runbook in a real browser, the console in upstream mode in front of a real Lago-speaking
upstream (this project standalone in a subprocess, tests/upstream_support.py), through a proxy at the
network edge that injects the failures. Steps 1-3 as written (find the draft, confirm the most recent sync
run, review, finalize by the button and by the runbook's JSON endpoint) and every case of "If something
goes wrong"; after each, the upstream's own state is read through its API, not the proxy."""
import time
import uuid

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from audit.models import AuditLogEntry
from core.money import format_amount
from invoices.models import Invoice
from upstream import sync
from upstream.models import SyncRun

from .upstream_support import Proxy, lago_mode, proxy, upstream  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "olivia-operator-pass"


@pytest.fixture
def seeded(lago_mode, upstream):
    """n drafts in Lago (one customer each, renamed), mirrored here by the operator's command."""
    def make(n, names):
        prefix = f"rb{uuid.uuid4().hex[:8]}"
        ids = upstream.seed(n, drafts=n, prefix=prefix, grace_days=30)
        for number, name in enumerate(names):
            customer = {"external_id": f"{prefix}-cust-{number}", "name": name, "currency": "USD"}
            assert upstream.request("POST", "customers", {"customer": customer}).status_code == 200
        call_command("sync_lago")
        return ids
    return make


def sign_in(page, base, operator):
    page.goto(f"{base}/admin/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def runbook_post(page, base, invoice_id):
    """The runbook's POST /api/admin/invoice/{id}/finalize, from the signed-in page (its cookies, its CSRF token)."""
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    return page.request.post(f"{base}/api/admin/invoice/{invoice_id}/finalize", headers={"X-CSRFToken": token})


def lago_invoice(upstream, pk) -> dict:
    return upstream.get(f"invoices/{pk}")["invoice"]


def click_finalize(page):
    page.click("text=Finalize invoice")
    page.click("input[value='Yes, finalize invoice']")


def open_invoice(page, base, pk):
    page.goto(f"{base}/admin/invoices/invoice/{pk}/change/")


def test_the_runbook_steps_1_to_3_against_lago(live_server, page, operator, seeded, upstream, lago_mode):
    hooli, globex = seeded(2, ["Hooli", "Globex"])
    base = live_server.url
    sign_in(page, base, operator)

    # Prerequisite: confirm via the most recent sync run.
    page.click("a[href='/admin/upstream/syncrun/']")
    newest = page.locator("#result_list tbody tr").first
    expect(newest.locator(".field-ok img")).to_have_attribute("alt", "True")
    expect(newest.locator(".field-kind")).to_have_text("Full")
    run = SyncRun.objects.latest()
    assert run.ok and run.trigger == "command" and run.counts["invoices"] >= 2 and run.counts["customers"] >= 2

    # 1. Billing -> Invoices, filtered by status Draft; click the row of the invoice to finalize.
    page.click("#site-name a")
    page.click("a[href='/admin/invoices/invoice/']")
    page.click("#changelist-filter a[href='?status=draft']")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(Invoice.objects.drafts().count())
    expect(page.locator("#result_list .ui-status-finalized")).to_have_count(0)
    rows.filter(has_text="Hooli").locator("th a").click()
    assert f"/admin/invoices/invoice/{hooli}/change/" in page.url  # the runbook's {id} is Lago's invoice id

    # 2. Verify the customer and the totals, read from Lago: its API says the same.
    lago = lago_invoice(upstream, hooli)
    expect(page.locator(".field-customer_name .readonly")).to_have_text("Hooli")
    expect(page.locator(".field-customer_external_id .readonly")).to_have_text(lago["customer"]["external_id"])
    expect(page.locator(".field-fees_total .readonly")).to_have_text(format_amount(lago["fees_amount_cents"], "USD"))
    expect(page.locator(".field-taxes_total .readonly")).to_have_text(format_amount(lago["taxes_amount_cents"], "USD"))
    expect(page.locator(".field-grand_total .readonly")).to_have_text(format_amount(lago["total_amount_cents"], "USD"))
    expect(page.locator(".field-ui_status_badge .ui-status")).to_have_text("draft")
    panel = page.locator(".field-upstream_panel")
    expect(panel).to_contain_text("as last synced")
    expect(panel.locator(".last-sync-run")).to_contain_text("ago")
    expect(panel.locator("a")).to_have_attribute("href", f"{lago_mode.url}/invoice/{hooli}/overview")
    expect(page.locator(".readiness-problems")).to_have_count(0)
    expect(page.locator("input[name='fees-0-units']")).to_have_count(0)  # fees are Lago's: not edited here

    # 3. Click Finalize invoice (the confirmation page shows Lago's totals), confirm.
    page.click("text=Finalize invoice")
    expect(page.locator("#confirmation-totals")).to_contain_text(format_amount(lago["total_amount_cents"], "USD"))
    page.click("input[value='Yes, finalize invoice']")

    # Verify: Lago finalized it, once; the page shows what Lago returned.
    lago = lago_invoice(upstream, hooli)
    mirror = Invoice.objects.get(pk=hooli)
    assert lago["status"] == mirror.status == "finalized" and lago_mode.finalize_calls == 1
    assert (mirror.number, mirror.payment_status, mirror.fees_amount_cents, mirror.taxes_amount_cents) == (
        lago["number"], lago["payment_status"], lago["fees_amount_cents"], lago["taxes_amount_cents"])
    expect(page.locator(".messagelist .success")).to_have_text(f"Invoice {lago['number']} was finalized.")
    expect(page.locator(".field-ui_status_badge .ui-status")).to_have_text(mirror.ui_status)
    assert mirror.ui_status in ("finalized", "pending", "overdue")
    expect(page.locator(".field-number .readonly")).to_have_text(lago["number"])
    expect(page.locator(".field-taxes_total .readonly")).to_have_text(format_amount(lago["taxes_amount_cents"], "USD"))
    expect(page.locator("text=Finalize invoice")).to_have_count(0)

    # Draft no longer lists it; Finalized does.
    page.goto(f"{base}/admin/invoices/invoice/?status=draft")
    expect(page.locator("#result_list tbody tr", has_text=lago["number"])).to_have_count(0)
    expect(page.locator("#result_list tbody tr", has_text="Globex")).to_have_count(1)
    page.goto(f"{base}/admin/invoices/invoice/?status=finalized")
    expect(page.locator("#result_list tbody tr", has_text=lago["number"])).to_have_count(1)

    # The audit log: the operator, the invoice, the time.
    page.goto(f"{base}/admin/audit/auditlogentry/?action=invoice.finalized")
    entry = page.locator("#result_list tbody tr", has_text=lago["number"])
    expect(entry).to_contain_text(operator.username)
    audited = AuditLogEntry.objects.get(action="invoice.finalized", object_id=hooli)
    assert audited.user == operator and audited.created_at and audited.after["number"] == lago["number"]

    # The same step by the runbook's JSON endpoint (what the admin app issues): the refreshed invoice.
    response = runbook_post(page, base, globex)
    assert response.status == 200, response.text()
    body = response.json()["invoice"]
    lago = lago_invoice(upstream, globex)
    assert (body["lago_id"], body["status"], body["number"]) == (globex, "finalized", lago["number"])
    assert body["ui_status"] in ("finalized", "pending", "overdue")
    assert (body["fees_amount_cents"], body["taxes_amount_cents"]) == (lago["fees_amount_cents"], lago["taxes_amount_cents"])
    assert lago_mode.finalize_calls == 2
    assert AuditLogEntry.objects.get(action="invoice.finalized", object_id=globex).source == "runbook"
    open_invoice(page, base, globex)
    expect(page.locator(".field-ui_status_badge .ui-status")).to_have_text(body["ui_status"])


def test_lago_returning_an_error_leaves_the_draft_a_draft_on_both_sides(live_server, page, operator, seeded, upstream, lago_mode, settings):
    [pk] = seeded(1, ["Initech"])
    base = live_server.url
    sign_in(page, base, operator)
    open_invoice(page, base, pk)

    def still_a_draft_on_both_sides():
        assert Invoice.objects.get(pk=pk).status == "draft" and lago_invoice(upstream, pk)["status"] == "draft"

    # Lago refuses (the customer is missing required tax info): the error names Lago's message.
    lago_mode.mode = "422"
    click_finalize(page)
    error = page.locator(".messagelist .error")
    expect(error).to_contain_text("Unprocessable Entity: validation_errors")
    expect(error).to_contain_text("value_is_mandatory")
    expect(page.locator(".field-ui_status_badge .ui-status")).to_have_text("draft")
    still_a_draft_on_both_sides()

    # The same through the runbook endpoint: 502 with Lago's message.
    response = runbook_post(page, base, pk)
    assert response.status == 502
    assert response.json()["error"].startswith("Failed to finalize invoice: Unprocessable Entity: validation_errors")
    lago_mode.mode = "500"
    response = runbook_post(page, base, pk)
    assert (response.status, response.json()) == (502, {"error": "Failed to finalize invoice: Internal Server Error (HTTP 500)"})
    still_a_draft_on_both_sides()

    # Lago is down (nothing answers where the console reaches it).
    gone = Proxy(upstream.port)
    settings.LAGO_API_URL = gone.url
    gone.close()
    click_finalize(page)
    expect(page.locator(".messagelist .error")).to_contain_text("Lago could not be reached")
    response = runbook_post(page, base, pk)
    assert response.status == 502 and "Failed to finalize invoice: Lago could not be reached" in response.json()["error"]
    still_a_draft_on_both_sides()

    # Each refusal is in the audit log, by the operator; none is a finalization.
    page.goto(f"{base}/admin/audit/auditlogentry/?action=invoice.finalize_refused")
    expect(page.locator("#result_list tbody tr")).to_have_count(5)
    expect(page.locator("#result_list tbody tr").first).to_contain_text(operator.username)
    assert not AuditLogEntry.objects.filter(action="invoice.finalized").exists()

    # Fixed in Lago (here: Lago back), retry: finalized.
    settings.LAGO_API_URL, lago_mode.mode = lago_mode.url, "pass"
    open_invoice(page, base, pk)
    click_finalize(page)
    expect(page.locator(".messagelist .success")).to_contain_text("was finalized")
    assert lago_invoice(upstream, pk)["status"] == Invoice.objects.get(pk=pk).status == "finalized"


def test_already_finalized_in_lago_by_another_operator_or_after_a_timeout(live_server, page, operator, seeded, upstream, lago_mode):
    elsewhere, slow = seeded(2, ["Umbrella", "Soylent"])
    base = live_server.url
    sign_in(page, base, operator)

    # Another operator finalized it in Lago: the console says so and catches up; nothing is finalized twice.
    number = upstream.request("PUT", f"invoices/{elsewhere}/finalize").json()["invoice"]["number"]
    open_invoice(page, base, elsewhere)
    expect(page.locator(".field-ui_status_badge .ui-status")).to_have_text("draft")
    click_finalize(page)
    expect(page.locator(".messagelist .error")).to_contain_text(f"Invoice {number} is already finalized in Lago")
    expect(page.locator(".field-ui_status_badge .ui-status")).not_to_have_text("draft")
    assert Invoice.objects.get(pk=elsewhere).number == number

    # Lago slower than LAGO_TIMEOUT_SECONDS: 502 and still a draft here; the draft remains a draft.
    lago_mode.mode = "slow:3"
    response = runbook_post(page, base, slow)
    assert (response.status, response.json()) == (502, {"error": "Failed to finalize invoice: Lago did not answer within 1.5 s"})
    assert Invoice.objects.get(pk=slow).status == "draft"
    # The late request still reached Lago, which finalized it after all: the retry reports it and refreshes the mirror.
    lago_mode.mode = "pass"
    for _ in range(50):
        if lago_invoice(upstream, slow)["status"] == "finalized":
            break
        time.sleep(0.2)
    assert lago_invoice(upstream, slow)["status"] == "finalized"
    response = runbook_post(page, base, slow)
    assert response.status == 409 and "already finalized in Lago" in response.json()["error"]
    assert Invoice.objects.get(pk=slow).status == "finalized" and not AuditLogEntry.objects.filter(action="invoice.finalized").exists()


def test_an_expired_session_and_a_missing_id(live_server, page, operator, seeded, upstream, lago_mode):
    [pk] = seeded(1, ["Vandelay"])
    base = live_server.url
    sign_in(page, base, operator)
    open_invoice(page, base, pk)

    # 400 Missing invoice id: the route parameter did not propagate; nothing reaches Lago.
    response = runbook_post(page, base, "")
    assert (response.status, response.json()) == (400, {"error": "Missing invoice id"})

    # 401: the session expired. Signed out, nothing reaches Lago; signed back in, the retry works.
    page.context.clear_cookies()
    response = page.request.post(f"{base}/api/admin/invoice/{pk}/finalize")
    assert (response.status, response.json()) == (401, {"error": "Unauthorized"})
    page.click("text=Finalize invoice")
    expect(page.locator("#id_username")).to_be_visible()  # the admin sends the button to sign-in
    assert lago_mode.finalize_calls == 0 and lago_invoice(upstream, pk)["status"] == "draft"
    sign_in(page, base, operator)
    response = runbook_post(page, base, pk)
    assert response.status == 200 and lago_invoice(upstream, pk)["status"] == "finalized" and lago_mode.finalize_calls == 1


def test_readiness_flags_a_draft_changed_in_lago_and_a_stale_sync(live_server, page, operator, seeded, upstream, lago_mode):
    [pk] = seeded(1, ["Wonka"])
    base = live_server.url
    sign_in(page, base, operator)
    open_invoice(page, base, pk)
    expect(page.locator(".readiness-problems")).to_have_count(0)

    # Lago changes the draft (a fee re-rated there); the next sync flags it for review.
    upstream.manage("shell", "-c", f"from invoices.models import Fee; Fee.objects.filter(invoice_id='{pk}').update(amount_cents=777)")
    assert sync.run_full_sync(trigger="schedule").ok
    open_invoice(page, base, pk)
    expect(page.locator(".readiness-problems .readiness-changed_upstream")).to_contain_text("Lago changed this draft")
    expect(page.locator(".field-upstream_panel")).to_contain_text("changed upstream since last sync")
    page.goto(f"{base}/admin/")
    expect(page.locator("#close-readiness a")).to_have_text("1")
    page.click("#close-readiness a")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)

    # Lago goes down; the scheduled sync fails: the sync run says so, and the draft is flagged as stale.
    lago_mode.mode = "500"
    failed = sync.run_full_sync(trigger="schedule")
    assert not failed.ok and "Internal Server Error" in failed.errors[0]["message"]
    page.goto(f"{base}/admin/upstream/syncrun/")
    expect(page.locator("#result_list tbody tr").first.locator(".field-ok img")).to_have_attribute("alt", "False")
    open_invoice(page, base, pk)
    stale = page.locator(".readiness-problems .readiness-stale_sync")
    expect(stale).to_contain_text("Stale sync")
    expect(stale).to_contain_text("failed: Internal Server Error")
    page.click("text=Finalize invoice")  # the confirmation page warns too
    expect(page.locator(".readiness-problems .readiness-stale_sync")).to_have_count(1)

    # Lago back, the next sync: nothing to flag any more, the draft as Lago has it.
    lago_mode.mode = "pass"
    assert sync.run_full_sync(trigger="schedule").ok
    open_invoice(page, base, pk)
    expect(page.locator(".readiness-problems")).to_have_count(0)
    assert Invoice.objects.get(pk=pk).fees.get().amount_cents == 777
