"""Recording webhook events. Callers are inside the transaction of the change they report.

record_many renders each event's body from the object as the transaction sees it (the change made,
not yet committed) and stores it on the event; in the same transaction it writes one WebhookDelivery
per (event, endpoint that wants its type) and one django-q2 task per delivery that sends the stored
bytes: queued as rows of the same transaction with the ORM broker (the worker sees them at commit), else
after commit (sync mode, where a task runs as it is queued). A delivery whose task could not be queued
is picked up by the retry sweep.
"""
import logging
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.prepared import Prepared

from . import payloads
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

OBJECT_TYPES = {"invoices.invoice": "invoice", "customers.customer": "customer", "credit_notes.creditnote": "credit_note"}

DELIVER = "webhooks.delivery.deliver"
# A pending delivery still unsent this long after its event was never queued (or its task was lost): the sweep queues it.
UNQUEUED_AFTER = timedelta(seconds=60)
_ENDPOINTS = Prepared(lambda: WebhookEndpoint.objects.all())  # read with every event written: compiled once


def event(webhook_type: str, obj, *, held: bool = False) -> WebhookEvent:
    """An unsaved outbox row for `obj` (for bulk writers); its body is rendered by record_many.

    `held`: `obj` carries what its type's body shows, as this transaction wrote it, so the body is
    rendered from it instead of read back (webhooks/payloads.py `render_held`).
    """
    row = WebhookEvent(
        webhook_type=webhook_type,
        object_type=OBJECT_TYPES.get(obj._meta.label_lower, obj._meta.model_name),
        object_id=str(obj.pk),
    )
    row.held_object = obj if held else None
    row.rendered = None  # the object as a dict, where the writer rendered it ahead (prepare)
    return row


def record(webhook_type: str, obj) -> WebhookEvent:
    return record_many([event(webhook_type, obj)])[0]


def prepare(events: list[WebhookEvent]) -> None:
    """Render the objects of the held events now, as `event.rendered` (dicts), for record_many to write.

    For a writer that holds a lock it wants short: it renders before taking the lock and sets, after it,
    what the lock gave (finalization: the body before the number counters, the number after).
    """
    held_by_type = defaultdict(list)
    for e in events:
        if getattr(e, "held_object", None) is not None:
            held_by_type[e.object_type].append(e)
    for object_type, held in held_by_type.items():
        objects = payloads.render_held(object_type, [e.held_object for e in held])
        for e in held:
            e.rendered = objects[str(e.object_id)]


def render(events: list[WebhookEvent]) -> None:
    """Set each event's payload: one batch query set per object type (webhooks/payloads.py)."""
    by_type, held_by_type = defaultdict(list), defaultdict(list)
    for e in events:
        if getattr(e, "rendered", None) is not None:
            continue
        if getattr(e, "held_object", None) is not None:
            held_by_type[e.object_type].append(e.held_object)
        else:
            by_type[e.object_type].append(e.object_id)
    objects = defaultdict(dict)
    for object_type, held in held_by_type.items():
        objects[object_type].update(payloads.render_held(object_type, held))
    for object_type, ids in by_type.items():
        objects[object_type].update(payloads.render_objects(object_type, ids))
    for e in events:
        rendered = getattr(e, "rendered", None)
        obj = rendered if rendered is not None else objects[e.object_type][str(e.object_id)]
        e.payload = payloads.body(e.webhook_type, e.object_type, obj)


def record_many(events: list[WebhookEvent]) -> list[WebhookEvent]:
    if not events:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Webhook events are written inside the transaction of the change they report.")
    render(events)
    created = WebhookEvent.objects.bulk_create(events)
    endpoints = _ENDPOINTS.rows()
    if not endpoints:
        return created
    # The first attempt is queued with the change (or right after its commit). If that fails, the sweep
    # queues it once this has passed.
    now = timezone.now()
    deliveries = [WebhookDelivery(event=e, endpoint=endpoint, next_attempt_at=now + UNQUEUED_AFTER)
                  for e in created for endpoint in endpoints if endpoint.wants(e.webhook_type)]
    from core.queue import enqueue_in_transaction, queues_in_transaction  # django_q: imported once the apps are ready

    if queues_in_transaction():
        # The tasks are rows of this transaction (the ORM broker): the worker sees them at commit, with the
        # deliveries, and a rollback takes both away. The ids are the rows' own (uuid4), known before the INSERT.
        for delivery, task_id in zip(deliveries, enqueue_in_transaction(_tasks([str(d.id) for d in deliveries]))):
            delivery.queued_at = now if task_id is not None else None
        WebhookDelivery.objects.bulk_create(deliveries)
        return created
    deliveries = WebhookDelivery.objects.bulk_create(deliveries)
    schedule_delivery([d.id for d in deliveries])
    return created


def schedule_delivery(delivery_ids) -> None:
    """Queue one delivery task per row after commit (where the tasks cannot be rows of the change's transaction)."""
    if not delivery_ids:
        return
    ids = [str(i) for i in delivery_ids]
    transaction.on_commit(lambda: queue_now(ids))


def _tasks(ids: list[str]) -> list:
    return [(DELIVER, (delivery_id,), {"task_name": f"webhook-{delivery_id}"}) for delivery_id in ids]


def queue_now(ids: list[str]) -> list[str]:
    """Queue a task for each delivery and note when (queued_at); returns the ids queued. A failure is logged
    (core/queue.py) and leaves queued_at alone: the sweep finds the row."""
    from core.queue import enqueue_many

    now = timezone.now()
    try:
        results = enqueue_many(_tasks(ids))
    except Exception:  # the queue's own transaction failed (broker database gone): nothing is queued
        logger.exception("Webhook deliveries %s were not queued; the retry sweep will queue them", ", ".join(ids))
        return []
    queued = [delivery_id for delivery_id, task_id in zip(ids, results) if task_id is not None]
    if queued:
        WebhookDelivery.objects.filter(pk__in=queued).update(queued_at=now)
    return queued
