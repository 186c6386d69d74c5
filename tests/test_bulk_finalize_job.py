"""Issue 13: finalizing more than a page of drafts from the console is a background job.

Up to a page stays in the request (test_admin_finalize.py); more than a page, or "select all"
across pages, asks first, then queues a `closing.BulkFinalizeJob` whose task finalizes the
drafts in batches with the operator as actor. A second job over the same drafts is refused
while one is queued or running. (Test settings run django-q2 in sync mode: the task runs
inline right after the job's commit.)
"""
import pytest
from django.urls import reverse

from audit.actors import Actor
from audit.models import AuditLogEntry
from closing import tasks
from closing.models import BulkFinalizeItem, BulkFinalizeJob
from closing.services import Overlap, start_bulk_finalize
from invoices.admin.invoice import InvoiceAdmin
from invoices.models import Invoice
from invoices.transitions.finalization import finalize_invoice

from . import factories as f
from .admin_helpers import messages_of
from .bulk_factories import drafts_in_bulk

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:invoices_invoice_changelist")
PAGE = InvoiceAdmin.list_per_page


@pytest.fixture(autouse=True)
def no_pdfs(settings):
    settings.INVOICE_PDF_AFTER_FINALIZATION = False  # hundreds of PDFs are not what these tests are about


def job_url(job):
    return reverse("admin:invoices_invoice_bulk_finalize_job", args=[job.pk])


def progress_url(job):
    return reverse("admin:invoices_invoice_bulk_finalize_progress", args=[job.pk])


def bulk(client, invoices=(), *, confirm, select_across=False, query="", follow=None):
    data = {"action": "finalize_selected", "_selected_action": [str(invoice.pk) for invoice in invoices]}
    if select_across:
        data["select_across"] = "1"
    if confirm:
        data["post"] = "yes"
    return client.post(LIST_URL + query, data, follow=confirm if follow is None else follow)


def test_a_page_or_fewer_stays_in_the_request(operator_client):
    invoices = drafts_in_bulk(PAGE)

    confirmation = bulk(operator_client, invoices, confirm=False)
    assert "Yes, finalize them" in confirmation.content.decode()
    assert "in the background" not in confirmation.content.decode()

    response = bulk(operator_client, invoices, confirm=True)

    [message] = messages_of(response)
    assert message.startswith(f"{PAGE} finalized, 0 closed as empty, 0 refused (not a draft). Finalized: ")
    assert not BulkFinalizeJob.objects.exists()
    assert Invoice.objects.filter(status="finalized").count() == PAGE


def test_more_than_a_page_asks_then_runs_as_a_job_with_each_outcome(operator_client, operator, django_capture_on_commit_callbacks,
                                                                   monkeypatch):
    monkeypatch.setattr(tasks, "BATCH_SIZE", 25)  # several batches, each its own transaction
    entity = f.billing_entity(document_number_prefix="BLK")
    drafts = drafts_in_bulk(PAGE, f.customer(entity))
    empty = drafts_in_bulk(2, f.customer(entity, finalize_zero_amount_invoice="skip"), empty=True)
    already = f.invoice(f.customer(entity), fees=[(1, 500)])
    finalize_invoice(already.pk, Actor.system())
    selected = drafts + empty + [already]

    confirmation = bulk(operator_client, selected, confirm=False)
    content = confirmation.content.decode()
    assert confirmation.status_code == 200
    assert f"{PAGE + 2} of the {PAGE + 3} selected invoices are drafts" in content
    assert "Yes, finalize them in the background" in content
    assert Invoice.objects.drafts().count() == PAGE + 2 and not BulkFinalizeJob.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(operator_client, selected, confirm=True, follow=False)

    job = BulkFinalizeJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    job.refresh_from_db()
    assert (job.status, job.requested_by, job.total) == ("done", operator, PAGE + 3)
    assert (job.finalized, job.closed, job.refused, job.left) == (PAGE, 2, 1, 0)
    assert job.started_at and job.finished_at and not job.error

    for invoice in drafts:
        invoice.refresh_from_db()
        assert invoice.status == "finalized"
    numbers = sorted(Invoice.objects.filter(pk__in=[d.pk for d in drafts]).values_list("billing_entity_sequential_id", flat=True))
    assert numbers == list(range(2, PAGE + 2))  # gapless across the batches (1 is the one finalized before)
    entries = AuditLogEntry.objects.filter(action="invoice.finalized", source="admin_bulk")
    assert entries.count() == PAGE and set(entries.values_list("user", flat=True)) == {operator.pk}
    assert set(entries.values_list("invoice_id", flat=True)) == {d.pk for d in drafts}
    assert AuditLogEntry.objects.filter(action="invoice.closed", user=operator).count() == 2

    items = {item.invoice_id: item for item in job.items.all()}
    assert {items[d.pk].outcome for d in drafts} == {"finalized"}
    assert all(items[d.pk].number == Invoice.objects.get(pk=d.pk).number for d in drafts)
    assert [items[e.pk].outcome for e in empty] == ["closed", "closed"] and items[already.pk].outcome == "not_draft"
    assert not BulkFinalizeItem.objects.filter(active=True).exists()  # the drafts are free for another job

    page = operator_client.get(job_url(job))
    content = page.content.decode()
    assert page.status_code == 200 and "Back to invoices" in content and progress_url(job) in content
    assert Invoice.objects.get(pk=drafts[0].pk).number in content  # each invoice with its new number


def test_select_across_pages_takes_the_whole_filtered_list(operator_client, django_capture_on_commit_callbacks):
    drafts = drafts_in_bulk(PAGE + 5)
    finalized = f.invoice(fees=[(1, 100)])
    finalize_invoice(finalized.pk, Actor.system())
    on_the_page = drafts[:PAGE]

    confirmation = bulk(operator_client, on_the_page, confirm=False, select_across=True, query="?status=draft")
    content = confirmation.content.decode()
    assert f"{PAGE + 5} of the {PAGE + 5} selected invoices are drafts" in content
    assert 'name="select_across" value="1"' in content

    with django_capture_on_commit_callbacks(execute=True):
        bulk(operator_client, on_the_page, confirm=True, select_across=True, query="?status=draft")

    job = BulkFinalizeJob.objects.get()
    assert (job.status, job.total, job.finalized) == ("done", PAGE + 5, PAGE + 5)
    assert not Invoice.objects.drafts().exists()
    assert not job.items.filter(invoice=finalized).exists()  # filtered out by ?status=draft


def test_a_second_job_over_the_same_drafts_is_refused_while_one_runs(operator_client, operator):
    drafts = drafts_in_bulk(PAGE + 1)
    first = start_bulk_finalize([d.pk for d in drafts], operator)  # queued; its task has not run (no commit here)
    assert first.status == "queued"

    response = bulk(operator_client, drafts[-3:] + drafts_in_bulk(PAGE), confirm=True)

    assert messages_of(response) == [
        f"3 of the selected invoices are already being finalized by job #{first.pk} (queued, requested by "
        f"{operator.username}): nothing was queued."
    ]
    assert BulkFinalizeJob.objects.count() == 1 and Invoice.objects.drafts().count() == 2 * PAGE + 1
    with pytest.raises(Overlap):
        start_bulk_finalize([drafts[0].pk], operator)

    tasks.run_bulk_finalize(first.pk)  # once it is done, the same drafts may be selected again
    second = start_bulk_finalize([drafts[0].pk], operator)
    assert second.pk != first.pk


def test_the_database_refuses_a_second_active_item_for_an_invoice(operator):
    """The race guard itself: two jobs that both passed the friendly check cannot both hold a draft."""
    from django.db import IntegrityError, transaction

    draft = drafts_in_bulk(1)[0]
    first = start_bulk_finalize([draft.pk], operator)
    other = BulkFinalizeJob.objects.create(requested_by=operator, total=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        BulkFinalizeItem.objects.create(job=other, invoice=draft, position=0)
    BulkFinalizeItem.objects.filter(job=first).update(active=None)
    BulkFinalizeItem.objects.create(job=other, invoice=draft, position=0)


def test_progress_json_counts_what_is_done_and_left(operator_client, operator, monkeypatch):
    drafts = drafts_in_bulk(5)
    job = start_bulk_finalize([d.pk for d in drafts], operator)

    queued = operator_client.get(progress_url(job)).json()
    assert queued | {"created_at": None} == {
        "id": job.pk, "status": "queued", "finished": False, "total": 5, "finalized": 0, "closed": 0, "refused": 0,
        "left": 5, "error": "", "requested_by": operator.username, "created_at": None, "started_at": None,
        "finished_at": None,
    }
    tasks._run_batch(job.pk, Actor.operator(operator), 2)  # one batch of two, as the worker would, mid-job
    assert operator_client.get(progress_url(job)).json()["left"] == 3

    tasks.run_bulk_finalize(job.pk)
    done = operator_client.get(progress_url(job)).json()
    assert (done["status"], done["finished"], done["finalized"], done["left"]) == ("done", True, 5, 0)
    assert "no-store" in operator_client.get(progress_url(job))["Cache-Control"]


def test_a_failing_batch_is_retried_one_by_one_and_a_broken_job_is_failed(operator, monkeypatch):
    from invoices.transitions import finalization

    drafts = drafts_in_bulk(4)
    bad = drafts[1].pk
    real = finalization.finalize_invoices

    def flaky(ids, actor, **kwargs):
        if bad in ids:
            raise ValueError("boom")
        return real(ids, actor, **kwargs)

    monkeypatch.setattr(tasks, "finalize_invoices", flaky)
    job = start_bulk_finalize([d.pk for d in drafts], operator)
    assert tasks.run_bulk_finalize(job.pk) == "done"
    job.refresh_from_db()
    assert (job.finalized, job.refused) == (3, 1)
    assert job.items.get(invoice_id=bad).outcome == "error" and Invoice.objects.get(pk=bad).status == "draft"

    def broken(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("server closed the connection")

    monkeypatch.setattr(tasks, "finalize_invoices", broken)
    job = start_bulk_finalize([bad], operator)
    assert tasks.run_bulk_finalize(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "server closed the connection" in job.error and job.left == 1
    assert not job.items.filter(active=True).exists()
    assert tasks.run_bulk_finalize(job.pk) == "failed"  # a finished job is left as it is


def test_recent_jobs_for_the_dashboard(operator):
    jobs = [start_bulk_finalize([d.pk], operator) for d in drafts_in_bulk(3)]
    assert list(BulkFinalizeJob.objects.recent(2)) == [jobs[2], jobs[1]]
    assert set(BulkFinalizeJob.objects.active()) == set(jobs)


def test_permissions(auditor_client, client, outsider, operator, django_capture_on_commit_callbacks):
    drafts = drafts_in_bulk(PAGE + 1)
    job = start_bulk_finalize([drafts[0].pk], operator)

    with django_capture_on_commit_callbacks(execute=True):
        bulk(auditor_client, drafts, confirm=True)  # the action is not offered to an auditor
    assert BulkFinalizeJob.objects.count() == 1 and Invoice.objects.drafts().count() == PAGE + 1
    assert auditor_client.get(job_url(job)).status_code == 403
    assert auditor_client.get(progress_url(job)).status_code == 403
    # The job list is read-only, readable with the invoices.
    jobs = auditor_client.get(reverse("admin:closing_bulkfinalizejob_changelist"))
    assert jobs.status_code == 200 and str(job) in jobs.content.decode()
    assert auditor_client.get(reverse("admin:closing_bulkfinalizejob_change", args=[job.pk])).status_code == 200
    assert auditor_client.post(reverse("admin:closing_bulkfinalizejob_delete", args=[job.pk])).status_code == 403

    client.force_login(outsider)
    assert client.get(progress_url(job)).status_code == 403
    assert client.get(reverse("admin:closing_bulkfinalizejob_changelist")).status_code == 403
