"""Recording webhook events. Callers are inside the transaction of the change they report."""
from .models import WebhookEvent

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
    created = WebhookEvent.objects.bulk_create(events)
    schedule_delivery([e.id for e in created])
    return created


def schedule_delivery(event_ids) -> None:
    """Queue delivery after commit. Endpoints and signed delivery arrive with the REST API issue."""
