"""Upstream mode, sync runs: mirroring a real standalone upstream (a subprocess) by its API."""
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.utils import timezone

from customers.models import Customer
from invoices.models import Fee, FeeTax, Invoice
from invoices.readiness import readiness_problems
from upstream import sync
from upstream.models import InvoiceMirror, SyncRun

from .test_upstream_operations import subscription_draft  # noqa: F401
from .upstream_support import PYTHON, ROOT, lago_mode, proxy, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sync_of_1000_invoices_mirrors_them_keyed_by_lago_id_and_is_idempotent(lago_mode, upstream):
    drafts = upstream.seed(1000, drafts=10, prefix="k")
    run = sync.run_full_sync()
    assert run.ok, run.errors
    assert run.counts["invoices"] >= 1000 and run.counts["fees_written"] >= 1000
    page = upstream.get("invoices?per_page=5")
    for item in page["invoices"]:
        mirror = Invoice.objects.get(pk=item["lago_id"])  # the runbook's {id} is Lago's invoice id
        assert (mirror.status, mirror.number, mirror.fees_amount_cents, mirror.taxes_amount_cents) == (
            item["status"], item["number"], item["fees_amount_cents"], item["taxes_amount_cents"])
        assert str(mirror.customer_id) == item["customer"]["lago_id"]
    assert InvoiceMirror.objects.count() == Invoice.objects.count() >= 1000
    assert set(map(str, Invoice.objects.drafts().values_list("pk", flat=True))) >= set(drafts)
    assert FeeTax.objects.filter(fee__invoice_id=drafts[0]).get().tax_code == "vat"
    assert Customer.objects.filter(external_id="k-cust-0").exists()

    again = sync.run_full_sync()
    assert again.ok and again.counts["invoices_changed"] == 0  # nothing moved upstream: nothing rewritten
    assert SyncRun.objects.latest().pk == again.pk and again.finished_at >= again.started_at


def test_a_draft_changed_upstream_is_flagged_at_the_next_sync(lago_mode, upstream):
    draft = upstream.seed(1, drafts=1, prefix="chg")[0]
    sync.run_full_sync()
    assert InvoiceMirror.objects.get(pk=draft).readiness == "as last synced"
    upstream.manage("shell", "-c", f"from invoices.models import Fee; Fee.objects.filter(invoice_id='{draft}').update(amount_cents=777)")
    run = sync.run_full_sync()
    mirror = InvoiceMirror.objects.get(pk=draft)
    assert mirror.readiness == "changed upstream since last sync (invoice)" and run.counts["invoices_changed"] >= 1
    assert Fee.objects.get(invoice_id=draft).amount_cents == 777


def test_a_mirror_older_than_two_sync_intervals_is_flagged_stale(lago_mode, upstream, settings):
    """The schedule stopped: no run since, and the last one is more than two intervals old."""
    draft = upstream.seed(1, drafts=1, prefix="old")[0]
    assert sync.run_full_sync().ok
    assert readiness_problems(Invoice.objects.get(pk=draft)) == []
    settings.LAGO_SYNC_INTERVAL_MINUTES = 15
    InvoiceMirror.objects.update(synced_at=F("synced_at") - timedelta(minutes=31))  # as if 31 minutes had passed
    SyncRun.objects.update(started_at=F("started_at") - timedelta(minutes=31), finished_at=F("finished_at") - timedelta(minutes=31))
    [problem] = readiness_problems(Invoice.objects.get(pk=draft))
    assert problem.code == "stale_sync" and "more than 30 minutes (two sync intervals) ago" in problem.message
    settings.LAGO_SYNC_INTERVAL_MINUTES = 30
    assert readiness_problems(Invoice.objects.get(pk=draft)) == []
    settings.LAGO_API_URL = ""  # standalone: no upstream check applies
    InvoiceMirror.objects.update(synced_at=timezone.now() - timedelta(days=30))
    assert readiness_problems(Invoice.objects.get(pk=draft)) == []


def test_a_finalized_mirror_is_updated_by_the_mirror_path_only(lago_mode, upstream):
    """Lago changed a finalized invoice (payment, overdue); the mirror follows. Outside the mirror path the guard holds."""
    upstream.seed(1, prefix="paid")
    sync.run_full_sync()
    item = upstream.get("invoices?search_term=PAID")["invoices"][0]
    assert upstream.request("PUT", f"invoices/{item['lago_id']}", {"invoice": {"payment_status": "succeeded"}}).status_code == 200
    sync.run_full_sync()
    mirror = Invoice.objects.get(pk=item["lago_id"])
    assert mirror.payment_status == "succeeded" and mirror.ui_status == "paid"
    mirror.total_amount_cents += 1
    with pytest.raises(Exception):
        mirror.save()  # save()'s guard (and on PostgreSQL the trigger) still refuses a frozen change


def test_upstream_unreachable_is_a_recorded_error_not_a_crash(settings, lago_mode):
    settings.LAGO_API_URL = "http://127.0.0.1:9"  # nothing listens
    run = sync.run_full_sync()
    assert run.finished_at and run.errors and "could not be reached" in run.errors[0]["message"]


def test_the_command_needs_upstream_mode(settings):
    settings.LAGO_API_URL = ""
    with pytest.raises(CommandError, match="Standalone mode"):
        call_command("sync_lago")


@pytest.mark.parametrize("env, message", [
    ({"LAGO_API_URL": "http://lago:3000/api/v1", "LAGO_API_KEY": "k"}, "origin"),
    ({"LAGO_API_URL": "http://lago:3000"}, "LAGO_API_KEY"),
    ({"LAGO_API_KEY": "k"}, "LAGO_API_URL is not"),
    ({"LAGO_API_URL": "http://lago:3000", "LAGO_API_KEY": "k", "LAGO_TIMEOUT_SECONDS": "0"}, "LAGO_TIMEOUT_SECONDS"),
    ({"LAGO_API_URL": "http://lago:3000", "LAGO_API_KEY": "k", "LAGO_SYNC_INTERVAL_MINUTES": "soon"}, "LAGO_SYNC_INTERVAL_MINUTES"),
])
def test_bad_upstream_settings_fail_loudly(env, message):
    import os
    result = subprocess.run([PYTHON, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True, text=True,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("LAGO_")},
                                 "DJANGO_SETTINGS_MODULE": "billing_console.settings", "SECRET_KEY": "x", **env})
    assert result.returncode != 0 and message in result.stderr


def test_a_draft_whose_customer_or_subscription_changed_in_lago_is_flagged_until_a_run_finds_them_unchanged(
        lago_mode, upstream, subscription_draft):
    pk, _ = subscription_draft()
    customer = Customer.objects.get(invoices__pk=pk)
    for _ in range(2):  # the first full run mirrors the subscription (and may see the list's answer differ from GET /invoices/{id})
        assert sync.run_full_sync().ok
    assert InvoiceMirror.objects.get(pk=pk).readiness == "as last synced"
    assert readiness_problems(Invoice.objects.get(pk=pk)) == []

    # The customer renamed in Lago, through its API: the next run flags the draft, saying it is the customer.
    assert upstream.request("POST", "customers", {"customer": {"external_id": customer.external_id, "name": "Hooli Inc."}}).status_code == 200
    run = sync.run_full_sync()
    assert run.ok
    customer.refresh_from_db()
    mirror = InvoiceMirror.objects.get(pk=pk)
    assert customer.name == "Hooli Inc." and mirror.customer_changed_at == run.started_at
    assert mirror.readiness == "changed upstream since last sync (customer)"
    [problem] = readiness_problems(Invoice.objects.get(pk=pk))
    assert problem.code == "changed_upstream"
    assert f"its customer (found at {run.started_at:%Y-%m-%d %H:%M:%S})" in problem.message

    assert sync.run_full_sync().ok  # nothing moved since: the flag clears
    assert InvoiceMirror.objects.get(pk=pk).readiness == "as last synced"

    # The subscription terminated in Lago: the draft of its customer is flagged for the subscription.
    subscription = customer.subscriptions.get()
    assert upstream.request("DELETE", f"subscriptions/{subscription.external_id}").status_code == 200
    run = sync.run_full_sync()
    assert run.ok
    subscription.refresh_from_db()
    mirror = InvoiceMirror.objects.get(pk=pk)
    assert subscription.status == "terminated" and mirror.subscription_changed_at == run.started_at
    assert "subscription" in mirror.readiness
    [problem] = readiness_problems(Invoice.objects.get(pk=pk))
    assert f"its subscription (found at {run.started_at:%Y-%m-%d %H:%M:%S})" in problem.message

    assert sync.run_full_sync().ok
    mirror = InvoiceMirror.objects.get(pk=pk)
    assert (mirror.customer_changed_at, mirror.subscription_changed_at, mirror.changed_upstream_at) == (None, None, None)
