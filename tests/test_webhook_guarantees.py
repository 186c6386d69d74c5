"""Webhook bodies are rendered with the event and sent byte for byte; the organization's HMAC key; delivery
results survive a dropped database connection; the sweep queues what was never queued, and never what waits.

All against a real HTTP receiver on 127.0.0.1 (tests/webhook_receiver.py) and the real database.
"""
import base64
import hashlib
import hmac
import json
from datetime import timedelta

import jsonschema
import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditLogEntry
from core import queue
from credit_notes.services import create_credit_note
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice
from invoices.transitions.one_off import create_one_off_invoice
from invoices.transitions.payments import update_payment_status
from invoices.tasks import mark_overdue_invoices
from invoices.transitions.voiding import void_invoice
from billing_run.billing import run_billing
from tests import billing_factories as b
from tests import factories as f
from tests.webhook_receiver import Receiver
from webhooks import delivery as webhook_delivery
from webhooks import outbox
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSettings

SYSTEM = Actor.system("test")


def hmac_of(body: bytes) -> str:
    return base64.b64encode(hmac.new(WebhookSettings.current().hmac_key.encode(), body, hashlib.sha256).digest()).decode()


def drafted_invoice():
    """A subscription invoice drafted by the billing run (grace period 3 days): the real invoice.drafted call site."""
    entity = f.billing_entity(invoice_grace_period=3)
    cust = f.customer(entity)
    plan = b.plan(amount_cents=5000)
    calls = b.metric("count", code="calls")
    b.charge(plan, calls, "standard", {"amount": "0.10"})
    sub = b.subscription(cust, plan, started_at=b.utc(2026, 1, 1))
    b.event(sub, calls.code, b.utc(2026, 1, 15))
    result = run_billing(b.utc(2026, 2, 1, 0, 30))
    assert result.drafts == 1
    return Invoice.objects.get(subscription=sub)


@pytest.mark.django_db
def test_drafted_body_stays_the_draft_after_finalization_and_every_attempt_sends_the_same_bytes(
        api, django_capture_on_commit_callbacks):
    with Receiver(statuses=[500, 200]) as receiver:
        WebhookEndpoint.objects.create(webhook_url=receiver.url, signature_algo="hmac")
        with django_capture_on_commit_callbacks(execute=True):
            draft = drafted_invoice()  # invoice.drafted: first attempt answered 500
        drafted = WebhookDelivery.objects.get(event__webhook_type="invoice.drafted")
        assert (drafted.status, drafted.attempts) == ("retrying", 1)
        with django_capture_on_commit_callbacks(execute=True):
            assert api.put(f"invoices/{draft.pk}/finalize").status_code == 200  # invoice.created: 200
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_delivery.retry_due_deliveries(now=drafted.next_attempt_at + timedelta(seconds=1)) == 1
    drafted.refresh_from_db()
    assert (drafted.status, drafted.attempts, drafted.last_response_code) == ("succeeded", 2, 200)
    by_type = {}
    for headers, body, status in receiver.requests:
        by_type.setdefault(json.loads(body)["webhook_type"], []).append((headers, body, status))
    (first, _, s1), (second, body2, s2) = [(h, bd, st) for h, bd, st in by_type["invoice.drafted"]]
    body1 = by_type["invoice.drafted"][0][1]
    assert (s1, s2) == (500, 200)
    assert body1 == body2 == drafted.event.payload.encode()  # byte for byte, as stored with the event
    assert first["X-Lago-Unique-Key"] == second["X-Lago-Unique-Key"] == str(drafted.pk)
    assert first["X-Lago-Signature"] == second["X-Lago-Signature"] == hmac_of(body1)
    invoice = json.loads(body1)["invoice"]
    assert invoice["status"] == "draft" and invoice["finalized_at"] is None and invoice["lago_id"] == str(draft.pk)
    [(_, created_body, _)] = by_type["invoice.created"]
    assert json.loads(created_body)["invoice"]["status"] == "finalized"
    assert len(receiver.accepted()) == 2


@pytest.mark.django_db
def test_the_body_is_rendered_in_the_change_transaction_and_stored(django_capture_on_commit_callbacks):
    customer = f.customer(f.billing_entity(code="acme", is_default=True), name="Before")
    with transaction.atomic():
        event = outbox.record("customer.updated", customer)
        assert json.loads(event.payload)["customer"]["name"] == "Before"
    customer.name = "After"
    customer.save()
    event.refresh_from_db()
    assert json.loads(event.payload)["customer"]["name"] == "Before"


def emit_every_type(api, capture):
    """Each webhook type the console emits, through its real call site. Returns the objects by type."""
    entity = f.billing_entity(code="acme", is_default=True)
    with capture(execute=True):
        assert api.post("customers", {"customer": {"external_id": "c1", "name": "Hooli"}}).status_code == 200
        assert api.post("customers", {"customer": {"external_id": "c1", "name": "Hooli Inc"}}).status_code == 200
    with capture(execute=True):
        draft = drafted_invoice()
    with capture(execute=True):
        assert finalize_invoice(draft.pk, SYSTEM).result == "finalized"
        tax = f.tax(code="vat", rate="20")
        paid = f.invoice(f.customer(entity, net_payment_term=0), fees=[(2, 1500)], taxes=[tax])
        finalize_invoice(paid.pk, SYSTEM, now=b.utc(2026, 2, 1, 12))
        update_payment_status(Invoice.objects.get(pk=paid.pk), "succeeded", SYSTEM)
        assert mark_overdue_invoices(timezone.now() + timedelta(days=90)) == (1, 0)  # `draft`, finalized and unpaid
        fee = Invoice.objects.get(pk=paid.pk).fees.first()
        note = create_credit_note(paid.pk, SYSTEM, reason="order_change", items=[{"fee_id": fee.pk, "amount_cents": 500}],
                                  credit_amount_cents=600)
        void_invoice(draft.pk, SYSTEM)
        from addons.models import AddOn

        item = AddOn.objects.create(code="setup", amount_cents=2500, amount_currency="USD")
        one_off = create_one_off_invoice(Invoice.objects.get(pk=paid.pk).customer, fees=[{"add_on": item}], actor=SYSTEM)
    return {"draft": draft, "paid": paid, "note": note, "one_off": one_off}


EMITTED = {
    "customer.created", "customer.updated", "invoice.drafted", "invoice.created", "invoice.payment_status_updated",
    "invoice.payment_overdue", "credit_note.created", "invoice.voided", "invoice.one_off_created",
}


@pytest.mark.django_db
def test_every_emitted_type_carries_the_full_api_object(api, django_capture_on_commit_callbacks, settings):
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(webhook_url=receiver.url, signature_algo="jwt")
        objects = emit_every_type(api, django_capture_on_commit_callbacks)
    all_events = list(WebhookEvent.objects.order_by("created_at"))
    events = {e.webhook_type: e for e in all_events}  # the last of each type
    assert set(events) == EMITTED
    sent = {headers["X-Lago-Unique-Key"]: body for headers, body, _ in receiver.requests}
    assert len(sent) == len(all_events)
    for event in all_events:
        payload = json.loads(event.payload)
        assert sent[str(event.deliveries.get().pk)] == event.payload.encode()
        assert set(payload) == {"webhook_type", "object_type", "organization_id", event.object_type}
        assert (payload["webhook_type"], payload["object_type"], payload["organization_id"]) == (
            event.webhook_type, event.object_type, settings.ORGANIZATION_ID)
        assert payload[event.object_type]["lago_id"] == event.object_id
    # The objects are the API's: the full invoice (fees, taxes, customer), the full credit note.
    for webhook_type in ["invoice.created", "invoice.payment_status_updated", "invoice.voided", "invoice.one_off_created"]:
        invoice = json.loads(events[webhook_type].payload)["invoice"]
        api_invoice = api.get(f"invoices/{invoice['lago_id']}").json()["invoice"]
        # file_url is left out while there is no PDF: rendered after commit, so absent at the event, present now.
        assert set(invoice) - {"file_url"} == set(api_invoice) - {"file_url"} and invoice["fees"] and invoice["customer"]["lago_id"]
    voided = json.loads(events["invoice.voided"].payload)["invoice"]
    assert voided["status"] == "voided" and voided["lago_id"] == str(objects["draft"].pk)
    assert json.loads(events["invoice.payment_overdue"].payload)["invoice"]["payment_overdue"] is True
    paid = json.loads(events["invoice.payment_status_updated"].payload)["invoice"]
    assert paid["payment_status"] == "succeeded" and paid["applied_taxes"][0]["tax_code"] == "vat"
    note = json.loads(events["credit_note.created"].payload)["credit_note"]
    api_note = api.get(f"credit_notes/{objects['note'].pk}").json()["credit_note"]
    assert set(note) == set(api_note) and note["items"][0]["amount_cents"] == 500
    assert note["number"] == objects["note"].number and note["customer"]["lago_id"] == api_note["customer"]["lago_id"]
    assert {k: v for k, v in note.items() if k not in ("file_url", "updated_at")} == \
        {k: v for k, v in api_note.items() if k not in ("file_url", "updated_at")}
    assert json.loads(events["customer.updated"].payload)["customer"]["name"] == "Hooli Inc"
    assert json.loads(events["customer.created"].payload)["customer"]["name"] == "Hooli"


@pytest.mark.lago_spec
@pytest.mark.django_db
def test_every_emitted_payload_has_lagos_webhook_envelope(api, django_capture_on_commit_callbacks):
    """Lago's schema of each webhook type, its object reduced to "an object with a lago_id": the object itself
    is the API's serializer, judged by the API's own spec tests (one serializer, one shape)."""
    from tests import lago_spec

    emit_every_type(api, django_capture_on_commit_callbacks)
    problems = []
    for event in WebhookEvent.objects.all():
        operation = lago_spec.spec()["webhooks"][event.webhook_type.replace(".", "_")]["post"]
        schema = json.loads(json.dumps(operation["requestBody"]["content"]["application/json"]["schema"]))
        assert schema["properties"][event.object_type]["$ref"].startswith("#/components/schemas/")
        schema["properties"][event.object_type] = {"type": "object", "required": ["lago_id"]}
        schema["additionalProperties"] = False
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for error in validator.iter_errors(json.loads(event.payload)):
            problems.append(f"{event.webhook_type} at {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message[:200]}")
    assert not problems, "\n".join(problems)


# --- the organization's HMAC key --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_hmac_endpoints_sign_with_the_organization_key_and_rotation_is_audited(admin_client, django_capture_on_commit_callbacks):
    customer = f.customer(f.billing_entity(code="acme", is_default=True))
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(webhook_url=receiver.url, signature_algo="hmac")
        WebhookEndpoint.objects.create(webhook_url=receiver.url + "/second", signature_algo="hmac")
        old_key = WebhookSettings.current().hmac_key
        page = admin_client.get("/admin/webhooks/webhooksettings/", follow=True)
        assert page.status_code == 200 and old_key.encode() in page.content and b"Rotate HMAC key" in page.content
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            outbox.record("customer.updated", customer)
        answer = admin_client.post(f"/admin/webhooks/webhooksettings/{WebhookSettings.SINGLETON_ID}/change/",
                                   {"_rotate_hmac_key": "Rotate HMAC key"}, follow=True)
        assert answer.status_code == 200 and b"HMAC key rotated" in answer.content
        new_key = WebhookSettings.current().hmac_key
        assert new_key != old_key and new_key.encode() in answer.content
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            outbox.record("customer.updated", customer)
    assert len(receiver.requests) == 4
    for index, (headers, body, _) in enumerate(receiver.requests):
        key = old_key if index < 2 else new_key
        assert headers["X-Lago-Signature"] == base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    entry = AuditLogEntry.objects.get(action="webhooks.hmac_key_rotated")
    assert entry.before["hmac_key"] != entry.after["hmac_key"] and old_key not in json.dumps([entry.before, entry.after])
    assert entry.source == "admin"


# --- delivery guarantees ------------------------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_200_answered_while_the_database_connection_dropped_is_recorded_and_sent_once():
    import psycopg

    params = connection.get_connection_params()
    conninfo = {k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}
    terminated = []

    def drop_our_connections(headers, body):
        # From another connection: end every other session on the test database (the delivery's own connection).
        with psycopg.connect(**conninfo, autocommit=True) as other:
            rows = other.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
        terminated.append(len(rows))

    customer = f.customer(f.billing_entity(code="acme", is_default=True))
    with Receiver(before_answer=drop_our_connections) as receiver:
        WebhookEndpoint.objects.create(webhook_url=receiver.url, signature_algo="hmac")
        with transaction.atomic():
            outbox.record("customer.updated", customer)  # after commit: the task runs (sync mode), claims, sends
        receiver.before_answer = None
        row = WebhookDelivery.objects.get()
        assert terminated and terminated[0] >= 1
        assert (row.status, row.attempts, row.last_response_code) == ("succeeded", 1, 200)
        assert webhook_delivery.retry_due_deliveries(now=timezone.now() + timedelta(hours=1)) == 0
    assert [h["X-Lago-Unique-Key"] for h, _, _ in receiver.requests] == [str(row.pk)]


@pytest.mark.django_db
def test_a_delivery_whose_answer_was_never_recorded_is_sent_again_when_its_lease_runs_out(django_capture_on_commit_callbacks):
    customer = f.customer(f.billing_entity(code="acme", is_default=True))
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(webhook_url=receiver.url, signature_algo="jwt")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            outbox.record("customer.updated", customer)
        row = WebhookDelivery.objects.get()
        # As if the worker died after sending: claimed, sent, nothing recorded.
        WebhookDelivery.objects.update(status="sending", succeeded_at=None, last_response_code=None,
                                       next_attempt_at=timezone.now() + timedelta(seconds=30))
        assert webhook_delivery.retry_due_deliveries() == 0  # the lease still runs
        assert webhook_delivery.deliver(row.pk) is None  # and no second attempt claims it meanwhile
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_delivery.retry_due_deliveries() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 2)
    assert len(receiver.requests) == 2 and len(receiver.accepted()) == 1  # the receiver drops the duplicate by key


@pytest.mark.django_db
def test_a_task_that_failed_to_enqueue_is_queued_by_the_next_sweep(django_capture_on_commit_callbacks, monkeypatch):
    real_async_task = queue.async_task
    failures = []

    def broker_down_once(*args, **kwargs):
        if not failures:
            failures.append(args)
            raise ConnectionError("broker unavailable")
        return real_async_task(*args, **kwargs)

    monkeypatch.setattr(queue, "async_task", broker_down_once)
    customer = f.customer(f.billing_entity(code="acme", is_default=True))
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(webhook_url=receiver.url, signature_algo="jwt")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            outbox.record("customer.updated", customer)
        row = WebhookDelivery.objects.get()
        assert failures and (row.status, row.attempts, row.queued_at) == ("pending", 0, None)
        assert receiver.requests == []
        assert webhook_delivery.retry_due_deliveries() == 0  # younger than a minute: its task may still come
        WebhookDelivery.objects.update(next_attempt_at=F("next_attempt_at") - timedelta(seconds=61),
                                       created_at=F("created_at") - timedelta(seconds=61))
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_delivery.retry_due_deliveries() == 1
        assert webhook_delivery.retry_due_deliveries(now=timezone.now() + timedelta(hours=1)) == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 1) and row.queued_at is not None
    assert [h["X-Lago-Unique-Key"] for h, _, _ in receiver.requests] == [str(row.pk)]


@pytest.mark.django_db
def test_the_sweep_never_requeues_a_delivery_whose_task_is_still_waiting(django_capture_on_commit_callbacks, monkeypatch):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)  # tasks go to the ORM broker and wait there, as in production
    customer = f.customer(f.billing_entity(code="acme", is_default=True))
    WebhookEndpoint.objects.create(webhook_url="http://127.0.0.1:9/hooks", signature_algo="jwt")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.record("customer.updated", customer)
    row = WebhookDelivery.objects.get()
    [waiting] = OrmQ.objects.all()
    assert waiting.task["func"] == "webhooks.delivery.deliver" and waiting.task["args"] == (str(row.pk),)
    assert row.queued_at is not None and row.status == "pending"
    # The cluster is behind: the task still waits long after the first minute.
    later = timezone.now() + timedelta(minutes=10)
    assert webhook_delivery.retry_due_deliveries(now=later) == 0
    assert OrmQ.objects.count() == 1
    # A waiting retry is left alone too.
    WebhookDelivery.objects.update(status="retrying", attempts=1)
    assert webhook_delivery.retry_due_deliveries(now=later) == 0 and OrmQ.objects.count() == 1
    # The task is lost (its row gone without running): the sweep queues a new one, once.
    OrmQ.objects.all().delete()
    assert webhook_delivery.retry_due_deliveries(now=later) == 1
    assert webhook_delivery.retry_due_deliveries(now=later + timedelta(minutes=5)) == 0
    [again] = OrmQ.objects.all()
    assert again.task["args"] == (str(row.pk),)


def test_the_retry_sweep_runs_every_minute(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="webhooks.retry_due_deliveries")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "webhooks.delivery.retry_due_deliveries", Schedule.MINUTES, 1, -1)
