"""The auto-finalization sweep: due drafts are finalized exactly once, in batches, and a crash loses nothing."""
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AuditLogEntry
from invoices.models import Invoice
from invoices.tasks import finalize_due_invoices
from webhooks.models import WebhookEvent

from . import billing_factories as b
from . import factories as f

DUE = b.utc(2026, 2, 10)


def make_drafts(count, grace=3):
    entity = f.billing_entity(invoice_grace_period=grace)
    ids = []
    for i in range(count):
        inv = f.invoice(f.customer(entity), fees=[(1, 100 + i)], grace_period_ends_at=b.utc(2026, 2, 4))
        ids.append(inv.pk)
    return ids


@pytest.mark.django_db
def test_only_due_drafts_are_finalized_through_the_one_transition():
    due = make_drafts(3)
    later = f.invoice(fees=[(1, 100)], grace_period_ends_at=b.utc(2026, 3, 1))
    no_deadline = f.invoice(fees=[(1, 100)])
    out = StringIO()
    call_command("finalize_due_invoices", "--at", DUE.isoformat(), "--batch-size", "2", stdout=out, verbosity=0)
    assert "3 invoices finalized or closed" in out.getvalue()
    assert set(Invoice.objects.filter(pk__in=due).values_list("status", flat=True)) == {"finalized"}
    assert Invoice.objects.get(pk=later.pk).status == "draft" and Invoice.objects.get(pk=no_deadline.pk).status == "draft"
    entries = AuditLogEntry.objects.filter(action="invoice.finalized")
    assert entries.count() == 3 and set(entries.values_list("source", "actor_label")) == {("task", "system")}


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_sweep_keeps_finished_batches_and_the_next_run_finishes_the_rest():
    ids = make_drafts(5)
    batches = []

    def crash_after_first_batch(outcomes):
        batches.append(outcomes)
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        finalize_due_invoices(DUE, batch_size=2, on_batch=crash_after_first_batch)
    assert Invoice.objects.filter(pk__in=ids, status="finalized").count() == 2
    assert Invoice.objects.filter(pk__in=ids, status="draft").count() == 3

    assert finalize_due_invoices(DUE, batch_size=2) == 3
    assert Invoice.objects.filter(pk__in=ids, status="finalized").count() == 5
    assert AuditLogEntry.objects.filter(action="invoice.finalized").count() == 5
    assert WebhookEvent.objects.filter(webhook_type="invoice.created").count() == 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_finalize_each_draft_exactly_once():
    ids = make_drafts(40)
    counts, errors = [], []
    start = threading.Barrier(2)

    def sweep():
        try:
            start.wait()
            counts.append(finalize_due_invoices(DUE, batch_size=3))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(counts) == 40
    assert Invoice.objects.filter(pk__in=ids, status="finalized").count() == 40
    assert AuditLogEntry.objects.filter(action="invoice.finalized").count() == 40
    assert WebhookEvent.objects.filter(webhook_type="invoice.created").count() == 40
    assert len(set(Invoice.objects.filter(pk__in=ids).values_list("number", flat=True))) == 40


@pytest.mark.django_db(transaction=True)
def test_one_bad_draft_does_not_hold_back_the_others():
    ids = make_drafts(4)
    poison = f.invoice(f.customer(), grace_period_ends_at=b.utc(2026, 2, 1))  # due first
    f.fee(poison, {"amount_cents": -500})  # a negative total: the database refuses to finalize it

    assert finalize_due_invoices(DUE, batch_size=3) == 4
    assert Invoice.objects.filter(pk__in=ids, status="finalized").count() == 4
    assert Invoice.objects.get(pk=poison.pk).status == "draft"
    assert not AuditLogEntry.objects.filter(invoice=poison).exists()
