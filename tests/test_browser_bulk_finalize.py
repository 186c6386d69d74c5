"""Issue 13 in a real browser: an operator selects all 1,000 drafts across the list's pages, runs
"Finalize selected invoices", confirms, lands on the job page and watches it (through its polled
progress.json) reach done. Test settings run django-q2 in sync mode, so the job has run by the time
the confirmation's redirect lands; what the page shows still comes from the JSON it polls."""
import pytest
from playwright.sync_api import expect

from closing.models import BulkFinalizeJob
from invoices.models import Invoice

from . import factories as f
from .bulk_factories import drafts_in_bulk

COUNT = 1000


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operator_finalizes_a_thousand_drafts_as_a_background_job(live_server, page, operator, settings):
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    entity = f.billing_entity(document_number_prefix="CLS")
    drafts_in_bulk(COUNT - 1, f.customer(entity, name="Globex"))
    drafts_in_bulk(1, f.customer(entity, name="Empty Co", finalize_zero_amount_invoice="skip"), empty=True)
    page.set_default_timeout(90_000)

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", "olivia-operator-pass")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    # The draft list, every draft of every page selected.
    page.goto(f"{live_server.url}/admin/invoices/invoice/?status=draft")
    page.check("#action-toggle")
    page.click(".actions .question a")  # "Select all 1000 invoices"
    expect(page.locator(".actions .all")).to_be_visible()
    page.select_option("select[name=action]", "finalize_selected")
    page.click("button[name=index]")

    expect(page.locator("#bulk-summary")).to_contain_text(f"{COUNT} of the {COUNT} selected invoices are drafts")
    with page.expect_response(lambda response: "progress.json" in response.url) as polled:
        page.click("input[value='Yes, finalize them in the background']")
    progress = polled.value.json()
    assert progress["status"] == "done" and progress["finalized"] + progress["closed"] == COUNT

    job = BulkFinalizeJob.objects.get()
    assert page.url.endswith(f"/admin/invoices/invoice/bulk-finalize/{job.pk}/")
    expect(page.locator(".messagelist .success")).to_contain_text(f"Finalizing {COUNT} invoices in the background")
    expect(page.locator("#job-status")).to_have_text("done")
    expect(page.locator("#job-finalized")).to_have_text(str(COUNT - 1))
    expect(page.locator("#job-closed")).to_have_text("1")
    expect(page.locator("#job-done")).to_have_text(str(COUNT))
    expect(page.locator("#job-left")).to_have_text("0")
    expect(page.locator("#job-items tbody tr")).to_have_count(500)  # the first page of the per-invoice list
    assert not Invoice.objects.drafts().exists()
    assert sorted(Invoice.objects.filter(status="finalized").values_list("billing_entity_sequential_id", flat=True)) == list(range(1, COUNT))

    # The operator may leave: back to the invoices, and the job is in the job list.
    page.click("#back-to-invoices")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)
    page.goto(f"{live_server.url}/admin/closing/bulkfinalizejob/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text("Done")
