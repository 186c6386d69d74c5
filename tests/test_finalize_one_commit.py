"""One commit per finalization: its PDF task (and webhook delivery tasks) are rows of the finalizing transaction.

With django-q2's ORM broker on the default database (production), the tasks are inserted inside the
transaction: the worker sees them only once it commits, and a rollback takes them away with the change.
In sync mode (the rest of the suite) a task runs as it is queued, so it is still queued after commit,
never inside the locks (tests/test_pdf.py `test_nothing_is_rendered_before_commit`).
"""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf
from django_q.models import OrmQ

from audit.actors import Actor
from invoices.models import Invoice
from invoices.pdf.tasks import TASK as PDF_TASK
from invoices.transitions.finalization import finalize_invoice, finalize_invoices
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.outbox import DELIVER

from . import factories as f

ACTOR = Actor.system("admin")


@pytest.fixture
def orm_broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)  # tasks go to the ORM broker and wait there, as in production


def queued() -> list[tuple]:
    return sorted((row.task["func"], row.task["args"]) for row in OrmQ.objects.all())


@pytest.mark.django_db(transaction=True)
def test_the_pdf_and_delivery_tasks_commit_with_the_finalization(orm_broker):
    endpoint = WebhookEndpoint.objects.create(webhook_url="http://127.0.0.1:9/hooks", signature_algo="jwt")
    draft = f.invoice(fees=[(1, 1000)])
    with CaptureQueriesContext(connection) as captured:
        assert finalize_invoice(draft.pk, ACTOR).ok
    statements = [q["sql"] for q in captured.captured_queries]
    assert statements.count("COMMIT") == 1 and statements[-1] == "COMMIT"  # nothing runs after it

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event.object_id == str(draft.pk) and delivery.queued_at is not None
    assert queued() == sorted([(PDF_TASK, ([str(draft.pk)],)), (DELIVER, (str(delivery.pk),))])
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.FINALIZED and not draft.pdf_file  # rendered by the worker, later


@pytest.mark.django_db
def test_a_rolled_back_finalization_leaves_no_task(orm_broker):
    WebhookEndpoint.objects.create(webhook_url="http://127.0.0.1:9/hooks", signature_algo="jwt")
    draft = f.invoice(fees=[(1, 1000)])
    with pytest.raises(RuntimeError), transaction.atomic():
        assert finalize_invoices([draft.pk], ACTOR)[0].ok
        assert len(queued()) == 2  # inside the transaction: the PDF and the delivery
        raise RuntimeError("the caller gives up")
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.DRAFT
    assert queued() == [] and not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_in_sync_mode_the_pdf_waits_for_the_commit(django_capture_on_commit_callbacks):
    draft = f.invoice(fees=[(1, 1000)])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            assert finalize_invoices([draft.pk], ACTOR)[0].ok
            draft.refresh_from_db()
            assert not draft.pdf_file and OrmQ.objects.count() == 0
    assert len(callbacks) == 1
    draft.refresh_from_db()
    assert draft.pdf_file.name.startswith("invoices/")
