"""The close dashboard's sync panel (issue 12): in upstream mode, the last successful full sync run with its age and
counts, the latest run's errors when it failed, a link to the sync runs; standalone, nothing and no query."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.dashboard import close_dashboard
from upstream import sync
from upstream.models import SyncRun

from .upstream_support import lago_mode, proxy, upstream  # noqa: F401

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")


def panels(dashboard) -> dict:
    return {panel["name"]: panel for panel in dashboard["panels"]}


def test_standalone_shows_no_sync_panel_and_asks_nothing_of_the_sync_runs(operator_client):
    SyncRun.objects.create(started_at="2026-11-01T00:00:00Z", finished_at="2026-11-01T00:01:00Z", counts={"invoices": 3})
    with CaptureQueriesContext(connection) as queries:
        dashboard = close_dashboard()
    assert "upstream_sync" not in panels(dashboard) and "bulk_finalize_jobs" in panels(dashboard)
    assert not [q for q in queries.captured_queries if "upstream_syncrun" in q["sql"]]
    page = operator_client.get(INDEX).content.decode()
    assert 'id="close-sync-runs"' not in page and "Sync from Lago" not in page


def test_upstream_mode_shows_the_last_successful_run_then_the_failed_one(lago_mode, upstream, operator_client):
    page = operator_client.get(INDEX).content.decode()
    assert 'id="close-sync-runs"' in page and "none yet: run <code>manage.py sync_lago</code>" in page

    upstream.seed(3, drafts=1, prefix="dash")
    good = sync.run_full_sync()
    assert good.ok, good.errors
    panel = panels(close_dashboard())["upstream_sync"]
    assert panel["last_successful"]["run"] == good and panel["latest_failed"] is None
    assert dict(panel["last_successful"]["counts"])["invoices"] == good.counts["invoices"] >= 3
    page = operator_client.get(INDEX).content.decode()
    row = page[page.index('id="sync-last-successful"'):].split("</tr>")[0]
    assert f"{good.started_at:%Y-%m-%d %H:%M:%S}" in row and '<span class="sync-age">0' in row
    assert f"invoices {good.counts['invoices']}" in row
    assert reverse("admin:upstream_syncrun_change", args=[good.pk]) in row
    assert f'<a href="{reverse("admin:upstream_syncrun_changelist")}" id="close-sync-runs-all">' in page
    assert operator_client.get(reverse("admin:upstream_syncrun_changelist")).status_code == 200  # operators may follow it

    lago_mode.mode = "500"  # the next run fails at the first call
    bad = sync.run_full_sync()
    assert not bad.ok
    panel = panels(close_dashboard())["upstream_sync"]
    assert panel["last_successful"]["run"] == good and panel["latest_failed"]["run"] == bad
    page = operator_client.get(INDEX).content.decode()
    failed = page[page.index('id="sync-latest-failed"'):].split("</tr>")[0]
    assert "billing_entities: Internal Server Error" in failed and "HTTP 500" in failed
    assert f"{good.started_at:%Y-%m-%d %H:%M:%S}" in page[page.index('id="sync-last-successful"'):].split("</tr>")[0]


def test_the_sync_panel_is_one_query_or_two_whatever_the_number_of_runs(lago_mode):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            close_dashboard()
        return len(captured)

    close_dashboard()  # warm the per-process caches
    none_yet = queries()
    SyncRun.objects.create(started_at="2026-11-01T00:00:00Z", finished_at="2026-11-01T00:01:00Z")
    one_good = queries()
    assert one_good == none_yet - 1  # the latest run succeeded: it is the last successful one, one query (none yet: two)
    for day in range(2, 12):
        SyncRun.objects.create(started_at=f"2026-11-{day:02d}T00:00:00Z", finished_at=f"2026-11-{day:02d}T00:01:00Z",
                               errors=[{"resource": "customers", "message": "down"}])
    failing = queries()
    assert failing == one_good + 1  # the latest failed: one more for the last successful one
    SyncRun.objects.create(started_at="2026-11-20T00:00:00Z", finished_at="2026-11-20T00:01:00Z", errors=[{"resource": "x", "message": "y"}])
    assert queries() == failing
