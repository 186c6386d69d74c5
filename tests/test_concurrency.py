"""Several connections finalize the same drafts at once: each is finalized exactly once, numbers stay gapless."""
import random
import threading

import pytest
from django.db import connection

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import FINALIZED, finalize_invoice
from invoices.models import Invoice
from webhooks.models import WebhookEvent

from . import factories as f


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_finalizers_finalize_each_draft_exactly_once():
    entity = f.billing_entity(document_number_prefix="RACE", document_numbering="per_billing_entity")
    customers = [f.customer(entity) for _ in range(3)]
    ids = [f.invoice(customers[i % 3], fees=[(1, 100 + i)]).pk for i in range(30)]
    wins: list = []
    errors: list = []
    start = threading.Barrier(4)

    def worker(seed):
        try:
            order = ids[:]
            random.Random(seed).shuffle(order)
            start.wait()
            for pk in order:
                outcome = finalize_invoice(pk, Actor.system())
                if outcome.result == FINALIZED:
                    wins.append(pk)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(wins) == sorted(ids)  # each won by exactly one thread
    invoices = list(Invoice.objects.filter(pk__in=ids))
    assert {i.status for i in invoices} == {"finalized"}
    entity_seqs = sorted(i.billing_entity_sequential_id for i in invoices)
    assert entity_seqs == list(range(1, 31))
    assert len({i.number for i in invoices}) == 30
    for cust in customers:
        seqs = sorted(i.sequential_id for i in invoices if i.customer_id == cust.pk)
        assert seqs == list(range(1, 11))
    assert AuditLogEntry.objects.filter(action="invoice.finalized", invoice_id__in=ids).count() == 30
    assert WebhookEvent.objects.filter(webhook_type="invoice.created").count() == 30
