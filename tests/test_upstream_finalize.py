"""Upstream mode, finalization through Lago by every door; failures at the network edge; the race; webhooks."""
import base64
import hashlib
import hmac
import json
import threading
import uuid

import pytest
from django.db import connection, transaction

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.models import Invoice
from invoices.tasks import finalize_due_invoices
from invoices.transitions.finalization import finalize_invoice
from upstream import sync

from .test_admin_api import api_client, post, url
from .upstream_support import lago_mode, proxy, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def drafts(lago_mode, upstream):
    def make(n=1, prefix="d"):
        ids = upstream.seed(n, drafts=n, prefix=f"{prefix}{uuid.uuid4().hex[:8]}")
        assert sync.sync_invoice(ids[0], trigger="test").ok if n == 1 else sync.run_full_sync().ok
        return ids
    return make


def upstream_status(upstream, pk) -> str:
    return upstream.get(f"invoices/{pk}")["invoice"]["status"]


def test_runbook_endpoint_finalizes_in_lago_and_mirrors_its_answer(drafts, upstream, operator, lago_mode):
    pk = drafts()[0]
    response = post(api_client(operator), url(pk))
    assert response.status_code == 200, response.content
    lago = upstream.get(f"invoices/{pk}")["invoice"]
    assert lago["status"] == "finalized" and response.json()["invoice"]["number"] == lago["number"]
    mirror = Invoice.objects.get(pk=pk)
    assert (mirror.status, mirror.number, mirror.payment_status, mirror.taxes_amount_cents) == (
        "finalized", lago["number"], lago["payment_status"], lago["taxes_amount_cents"])
    entry = AuditLogEntry.objects.get(action="invoice.finalized", object_id=pk)
    assert entry.user == operator and entry.after["status"] == "finalized" and entry.created_at
    assert lago_mode.finalize_calls == 1


def test_the_button_finalizes_in_lago(drafts, upstream, operator_client):
    pk = drafts()[0]
    response = operator_client.post(f"/admin/invoices/invoice/{pk}/finalize/", follow=True)
    assert "was finalized" in response.content.decode()
    assert upstream_status(upstream, pk) == "finalized" and Invoice.objects.get(pk=pk).status == "finalized"


def test_the_bulk_action_finalizes_each_in_lago(drafts, upstream, operator_client):
    ids = drafts(2, prefix="b")
    response = operator_client.post("/admin/invoices/invoice/", {"action": "finalize_selected", "_selected_action": ids, "post": "yes"}, follow=True)
    assert "2 finalized" in response.content.decode()
    assert [upstream_status(upstream, pk) for pk in ids] == ["finalized", "finalized"]


def test_the_worker_sweeps_due_drafts_through_lago(drafts, upstream):
    ids = drafts(2, prefix="w")  # seeded with a 3-day grace period, issued 5 days ago: due
    assert finalize_due_invoices() >= 2
    assert all(upstream_status(upstream, pk) == "finalized" for pk in ids)
    assert AuditLogEntry.objects.filter(action="invoice.finalized", object_id__in=ids, source="task").count() == 2


@pytest.mark.parametrize("failure, message", [
    ("422", "Unprocessable Entity: validation_errors"),
    ("500", "Internal Server Error"),
    ("slow:3", "did not answer within 1.5 s"),
    ("stopped", "could not be reached"),
])
def test_each_failure_answers_502_with_lagos_message_and_the_draft_stays_a_draft(drafts, upstream, operator, lago_mode, settings, failure, message):
    pk = drafts()[0]
    if failure == "stopped":
        settings.LAGO_API_URL = "http://127.0.0.1:9"
    else:
        lago_mode.mode = failure
    response = post(api_client(operator), url(pk))
    lago_mode.mode = "pass"
    assert response.status_code == 502
    assert response.json()["error"].startswith("Failed to finalize invoice: ") and message in response.json()["error"]
    assert Invoice.objects.get(pk=pk).status == "draft" and upstream_status(upstream, pk) == "draft"
    refused = AuditLogEntry.objects.get(action="invoice.finalize_refused", object_id=pk)
    assert refused.user == operator and message in refused.after["upstream_error"]


def test_the_admin_shows_lagos_message(drafts, operator_client, lago_mode):
    pk = drafts()[0]
    lago_mode.mode = "422"
    page = operator_client.post(f"/admin/invoices/invoice/{pk}/finalize/", follow=True).content.decode()
    assert "value_is_mandatory" in page and Invoice.objects.get(pk=pk).status == "draft"


def test_already_finalized_in_lago_refreshes_the_mirror(drafts, upstream, operator):
    pk = drafts()[0]
    assert upstream.request("PUT", f"invoices/{pk}/finalize").status_code == 200  # someone finalized it in Lago
    response = post(api_client(operator), url(pk))
    assert response.status_code == 409 and "already finalized in Lago" in response.json()["error"]
    assert Invoice.objects.get(pk=pk).status == "finalized"  # the mirror caught up


@pytest.mark.postgres_only
def test_two_operators_racing_call_lago_once(drafts, lago_mode, operator):
    pk = drafts()[0]
    lago_mode.mode = "delay:0.5"  # the first call is in flight while the second operator clicks
    results, barrier = [], threading.Barrier(2)

    def click():
        barrier.wait()
        try:
            results.append(finalize_invoice(pk, Actor.operator(operator)).result)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["finalized", "not_draft"] and lago_mode.finalize_calls == 1


def test_a_signed_webhook_syncs_the_invoice_it_names(drafts, upstream, client):
    pk = drafts()[0]
    upstream.request("PUT", f"invoices/{pk}/finalize")
    body = json.dumps({"webhook_type": "invoice.created", "object_type": "invoice", "invoice": {"lago_id": pk}}).encode()
    signature = base64.b64encode(hmac.new(b"hmac-test-key", body, hashlib.sha256).digest()).decode()
    bad = client.post("/upstream/webhooks", body, content_type="application/json", HTTP_X_LAGO_SIGNATURE="nope",
                      HTTP_X_LAGO_SIGNATURE_ALGORITHM="hmac")
    assert bad.status_code == 401 and Invoice.objects.get(pk=pk).status == "draft"
    ok = client.post("/upstream/webhooks", body, content_type="application/json", HTTP_X_LAGO_SIGNATURE=signature,
                     HTTP_X_LAGO_SIGNATURE_ALGORITHM="hmac", HTTP_X_LAGO_UNIQUE_KEY="u-1")
    assert ok.status_code == 200 and Invoice.objects.get(pk=pk).status == "finalized"


def test_fee_edits_are_not_offered_on_a_mirror(drafts, operator_client):
    pk = drafts()[0]
    page = operator_client.get(f"/admin/invoices/invoice/{pk}/change/").content.decode()
    assert "Fee edits are not available in upstream mode" in page and f"/invoice/{pk}/overview" in page
    assert 'name="fees-0-units"' not in page
