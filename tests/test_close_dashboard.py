"""The close dashboard (issue 11 part 1), the operators' landing page: drafts by grace deadline per currency,
what will close as empty, readiness problems, finalized today, the worker and the billing run; every figure
links to the changelist that makes it up, and the page runs a constant number of queries."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule, Task

from audit.actors import Actor
from billing_run.tasks import run_billing
from closing.models import BulkFinalizeJob
from closing.services import start_bulk_finalize
from invoices.dashboard import bucket_q, close_dashboard, day_bounds
from invoices.models import Invoice, TaskRun
from invoices.tasks import finalize_due_invoices
from invoices.transitions.finalization import finalize_invoice

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")
NOW = b.utc(2026, 11, 4, 12)  # a Wednesday noon, UTC (the server's TIME_ZONE)


def drafts_due(customer, when, n=1, fees=((1, 1000),), **kwargs):
    return [f.invoice(customer, fees=list(fees), grace_period_ends_at=when, **kwargs) for _ in range(n)]


def buckets(dashboard):
    return {bucket["key"]: {row["currency"]: row for row in bucket["rows"]} for bucket in dashboard["buckets"]}


def test_drafts_are_bucketed_by_deadline_and_currency_with_sums():
    usd, eur = f.customer(), f.customer(currency="EUR")
    drafts_due(usd, NOW - timedelta(hours=1), n=2, taxes=[f.tax(rate="10")])
    drafts_due(eur, NOW, fees=[(1, 250)])  # at the deadline: past due (the worker's rule, due(now))
    drafts_due(usd, NOW + timedelta(hours=11))  # today
    drafts_due(usd, b.utc(2026, 11, 5, 0))  # tomorrow, midnight
    drafts_due(usd, b.utc(2026, 11, 10, 23))  # later this week (the 6th day after today)
    drafts_due(usd, b.utc(2026, 11, 11, 0))  # 7 days on: not shown (the week is today and the 6 days after)
    drafts_due(usd, None)  # never finalized by itself

    got = buckets(close_dashboard(NOW))

    assert got["past_due"]["USD"]["count"] == 2
    assert got["past_due"]["USD"]["fees"] == "20.00 USD" and got["past_due"]["USD"]["taxes"] == "2.00 USD"
    assert got["past_due"]["USD"]["total"] == "22.00 USD"
    assert got["past_due"]["EUR"]["count"] == 1 and got["past_due"]["EUR"]["total"] == "2.50 EUR"
    assert [got[k]["USD"]["count"] for k in ("today", "tomorrow", "this_week")] == [1, 1, 1]
    assert "EUR" not in got["today"]


def test_each_bucket_links_to_the_changelist_it_counts(operator_client):
    usd, eur = f.customer(), f.customer(currency="EUR")
    now = timezone.now()
    drafts_due(usd, now - timedelta(minutes=5), n=3)
    drafts_due(eur, now - timedelta(minutes=5))
    drafts_due(usd, day_bounds(now, 1)[0] + timedelta(hours=1), n=2)

    dashboard = close_dashboard(now)
    for bucket in dashboard["buckets"]:
        for row in bucket["rows"]:
            listed = operator_client.get(row["url"])
            assert listed.context["cl"].result_count == row["count"], row["url"]
        assert operator_client.get(bucket["url"]).context["cl"].result_count == bucket["count"]
    assert buckets(dashboard)["past_due"]["USD"]["url"].endswith("status=draft&grace_bucket=past_due&currency__exact=USD")


def test_bucket_rule_is_the_workers_rule_for_past_due():
    draft = drafts_due(f.customer(), NOW)[0]
    assert set(Invoice.objects.filter(bucket_q("past_due", NOW))) == set(Invoice.objects.due(NOW)) == {draft}


def test_finalized_today_per_currency_links_to_its_list(operator_client):
    a = f.invoice(fees=[(1, 1000)])
    b_ = f.invoice(f.customer(currency="EUR"), fees=[(1, 500)])
    f.invoice(fees=[(1, 100)])  # still a draft
    for invoice in (a, b_):
        finalize_invoice(invoice.pk, Actor.system())

    rows = {row["currency"]: row for row in close_dashboard()["finalized_today"]}

    assert rows["USD"]["count"] == 1 and rows["USD"]["total"] == "10.00 USD"
    assert rows["EUR"]["count"] == 1
    assert operator_client.get(rows["USD"]["url"]).context["cl"].result_count == 1


def test_the_sweep_records_its_runs_and_the_dashboard_shows_the_last():
    customer = f.customer(finalize_zero_amount_invoice="skip")
    drafts_due(customer, NOW - timedelta(hours=1), n=2)
    drafts_due(customer, NOW - timedelta(hours=1), fees=())  # empty: closed

    assert finalize_due_invoices(NOW) == 3

    run = TaskRun.last(TaskRun.Kind.FINALIZE_SWEEP)
    assert (run.finalized, run.closed, run.failed, run.error) == (2, 1, 0, "") and run.finished_at is not None
    assert close_dashboard(NOW)["sweep"]["last"] == run


def test_a_crashed_sweep_is_recorded_with_its_error():
    drafts_due(f.customer(), NOW - timedelta(hours=1))

    def crash(outcomes):
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        finalize_due_invoices(NOW, on_batch=crash)
    run = TaskRun.last(TaskRun.Kind.FINALIZE_SWEEP)
    assert run.error == "RuntimeError: worker died" and run.finished_at is None


def test_the_billing_run_records_its_runs():
    customer = f.customer(f.billing_entity(invoice_grace_period=3))
    b.subscription(customer, b.plan(amount_cents=1000), started_at=b.utc(2026, 1, 1))
    b.subscription(customer, b.plan(amount_cents=1000), started_at=b.utc(2026, 1, 1))

    run_billing(b.utc(2026, 3, 1, 1))

    run = TaskRun.last(TaskRun.Kind.BILLING_RUN)
    assert (run.subscriptions, run.created, run.error) == (2, 4, "")
    assert close_dashboard()["billing"]["last"] == run


def test_next_runs_and_recent_failures_come_from_django_q(operator_client):
    Schedule.objects.filter(name="finalize_due_invoices").update(next_run=NOW + timedelta(minutes=5))
    now = timezone.now()
    Task.objects.create(id="t1", name="t1", func="invoices.tasks.finalize_due_invoices", started=now, stopped=now,
                        success=False, result="boom")
    dashboard = close_dashboard(now)
    assert dashboard["sweep"]["next_run"] == NOW + timedelta(minutes=5)
    assert dashboard["failures_count"] == 1 and dashboard["failures"][0].result == "boom"


def test_the_admin_index_is_the_dashboard_for_operators_only(operator_client, client, outsider):
    drafts_due(f.customer(), timezone.now() - timedelta(hours=1))
    page = operator_client.get(INDEX).content.decode()
    assert 'id="close-dashboard"' in page and "Month-end close" in page
    assert "?status=draft&amp;grace_bucket=past_due&amp;currency__exact=USD" in page
    assert 'id="content-main"' in page  # the app list is still there, below
    client.force_login(outsider)
    assert 'id="close-dashboard"' not in client.get(INDEX).content.decode()


def _build(n):
    usd, eur = f.customer(), f.customer(currency="EUR", finalize_zero_amount_invoice="skip")
    now = timezone.now()
    for i in range(n):
        customer = usd if i % 2 else eur
        f.invoice(customer, fees=[] if i % 5 == 0 else [(1, 100)], grace_period_ends_at=now + timedelta(hours=i - n // 2))
    for invoice in Invoice.objects.drafts().filter(customer=usd)[: max(n // 10, 1)]:
        finalize_invoice(invoice.pk, Actor.system())
    TaskRun.objects.create(kind=TaskRun.Kind.FINALIZE_SWEEP, started_at=now, finished_at=now, finalized=3)


@pytest.mark.parametrize("n", [5, 50])
def test_constant_number_of_queries(operator_client, django_assert_max_num_queries, n):
    _build(n)
    with django_assert_max_num_queries(10):
        close_dashboard()
    # The whole index page: session, user, permissions, the dashboard, the recent actions.
    with django_assert_max_num_queries(19):
        assert operator_client.get(INDEX).status_code == 200


def test_superusers_get_a_link_to_the_failed_tasks(admin_client):
    page = admin_client.get(INDEX).content.decode()
    assert 'id="worker-failures"' in page and reverse("admin:django_q_failure_changelist") in page


def test_the_dashboard_shows_the_last_audit_log_verification(operator_client):
    from django.core.management import call_command

    page = operator_client.get("/admin/").content.decode()
    assert "verify_audit_log" in page  # never verified yet
    call_command("verify_audit_log", stdout=__import__("io").StringIO())
    page = operator_client.get("/admin/").content.decode()
    assert 'id="audit-verification"' in page and "intact" in page


def job_page(job):
    return reverse("admin:invoices_invoice_bulk_finalize_job", args=[job.pk])


def test_the_dashboard_shows_running_and_recent_bulk_finalize_jobs(client, operator, auditor,
                                                                    django_capture_on_commit_callbacks):
    skipping = f.customer(finalize_zero_amount_invoice="skip")
    batch = [f.invoice(fees=[(1, 1000)]) for _ in range(3)] + [f.invoice(skipping)]  # the last one is empty
    with django_capture_on_commit_callbacks(execute=True):  # the task runs (sync django-q2) after the commit
        finished = start_bulk_finalize([invoice.pk for invoice in batch], operator)
    waiting = start_bulk_finalize([f.invoice(fees=[(1, 500)]).pk], operator)  # queued: its task never ran

    finished.refresh_from_db()
    assert (finished.status, finished.finalized, finished.closed, finished.refused) == ("done", 3, 1, 0)
    # Queued and running jobs come first, however old, then the latest finished ones.
    panel = {p["name"]: p for p in close_dashboard()["panels"]}["bulk_finalize_jobs"]
    assert panel["jobs"] == [waiting, finished]

    client.force_login(operator)
    page = client.get(INDEX).content.decode()
    assert 'id="close-bulk-jobs"' in page
    done_row = page[page.index(f'id="bulk-job-{finished.pk}"'):].split("</tr>")[0]
    assert f'<a href="{job_page(finished)}">#{finished.pk}</a>' in done_row and "Done" in done_row
    assert "olivia-operator" in done_row
    for cls, value in [("job-done", "4 of 4"), ("job-finalized", "3"), ("job-closed", "1"), ("job-refused", "0"),
                       ("job-left", "0")]:
        assert f'<td class="{cls}">{value}</td>' in done_row, cls
    queued_row = page[page.index(f'id="bulk-job-{waiting.pk}"'):].split("</tr>")[0]
    assert "Queued" in queued_row and '<td class="job-done">0 of 1</td>' in queued_row
    assert '<td class="job-left">1</td>' in queued_row
    assert page.index(f'id="bulk-job-{waiting.pk}"') < page.index(f'id="bulk-job-{finished.pk}"')
    assert client.get(job_page(finished)).status_code == 200

    # An auditor may not open the live job page: the link is the read-only job instead.
    client.force_login(auditor)
    page = client.get(INDEX).content.decode()
    change = reverse("admin:closing_bulkfinalizejob_change", args=[finished.pk])
    assert f'<a href="{change}">#{finished.pk}</a>' in page and job_page(finished) not in page
    assert client.get(change).status_code == 200


def test_no_bulk_finalize_job_yet(operator_client):
    page = operator_client.get(INDEX).content.decode()
    table = page[page.index('id="close-bulk-jobs"'):].split("</table>")[0]
    assert "none yet" in table
    assert reverse("admin:closing_bulkfinalizejob_changelist") in page


def test_the_jobs_panel_is_one_query_whatever_the_number_of_jobs(operator_client, operator):
    def queries(jobs):
        for _ in range(jobs):
            start_bulk_finalize([f.invoice(fees=[(1, 100)]).pk], operator)
        operator_client.get(INDEX)  # warm the per-process caches (content types) before counting
        with CaptureQueriesContext(connection) as dashboard:
            close_dashboard()
        with CaptureQueriesContext(connection) as page:
            assert operator_client.get(INDEX).status_code == 200
        return len(dashboard), len(page)

    one = queries(1)
    five = queries(4)
    assert BulkFinalizeJob.objects.count() == 5
    assert five == one
