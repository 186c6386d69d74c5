"""Recording webhook events. Callers are inside the transaction of the change they report.

record_many writes the events and, in the same transaction, one WebhookDelivery per
(event, endpoint that wants its type); after commit, a django-q2 task delivers each.
"""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

OBJECT_TYPES = {"invoices.invoice": "invoice", "customers.customer": "customer", "credit_notes.creditnote": "credit_note"}


def event(webhook_type: str, obj) -> WebhookEvent:
    """An unsaved outbox row for `obj` (for bulk writers)."""
    return WebhookEvent(
        webhook_type=webhook_type,
        object_type=OBJECT_TYPES.get(obj._meta.label_lower, obj._meta.model_name),
        object_id=str(obj.pk),
    )


def record(webhook_type: str, obj) -> WebhookEvent:
    return record_many([event(webhook_type, obj)])[0]


def record_many(events: list[WebhookEvent]) -> list[WebhookEvent]:
    if not events:
        return []
    created = WebhookEvent.objects.bulk_create(events)
    endpoints = list(WebhookEndpoint.objects.all())
    if not endpoints:
        return created
    # The first attempt runs right after commit; until its lease ends the retry sweep leaves the row alone.
    lease = timezone.now() + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 30)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(event=e, endpoint=endpoint, next_attempt_at=lease)
         for e in created for endpoint in endpoints if endpoint.wants(e.webhook_type)]
    )
    schedule_delivery([d.id for d in deliveries])
    return created


def schedule_delivery(delivery_ids) -> None:
    """Queue one delivery task per row after commit (never inside the change's transaction)."""
    if not delivery_ids:
        return
    ids = [str(i) for i in delivery_ids]

    def queue():
        from core.queue import enqueue_many

        enqueue_many(("webhooks.delivery.deliver", (delivery_id,), {}) for delivery_id in ids)

    transaction.on_commit(queue)
