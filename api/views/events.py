"""/events: usage events, one (POST /events) or up to 100 (POST /events/batch), and GET /events/{transaction_id}.

Validation, idempotency and the single INSERT live in usage.ingest; this module shapes Lago's
request and answer. Each accepted request writes one audit entry (`events.recorded`) listing
its transaction ids, in the transaction of the insert.
"""
from audit import log as audit_log
from subscriptions.models import Subscription
from usage.ingest import MAX_BATCH, EventErrors, ingest
from usage.models import Event

from .. import errors
from ..http import endpoint, json_body, ok, root
from ..serializers import serialize_event


def _subscription_ids(external_ids) -> dict:
    """external_subscription_id -> (lago_subscription_id, lago_customer_id), one query."""
    rows = Subscription.objects.filter(external_id__in=set(external_ids)).values_list("external_id", "id", "customer_id")
    return {external_id: (str(pk), str(customer_id)) for external_id, pk, customer_id in rows}


def _audit(actor):
    def write(events):
        audit_log.record("events.recorded", actor, after={"count": len(events), "transaction_ids": [e.transaction_id for e in events]})
    return write


def create(request):
    _, data = root(request, "event")
    try:
        [event] = ingest([data], audit=_audit(request.actor))
    except EventErrors as exc:
        raise errors.validation_error(exc.details[0])
    return ok({"event": serialize_event(event, _subscription_ids([event.external_subscription_id]), created=True)})


def batch(request):
    items = json_body(request).get("events")
    if not items:
        raise errors.validation_error({"events": "no_events"})
    if not isinstance(items, list):
        raise errors.validation_error({"events": "value_is_invalid"})
    if len(items) > MAX_BATCH:
        raise errors.validation_error({"events": "too_many_events"})
    try:
        events = ingest(items, audit=_audit(request.actor))
    except EventErrors as exc:
        raise errors.validation_error(exc.details)
    ids = _subscription_ids(e.external_subscription_id for e in events)
    return ok({"events": [serialize_event(e, ids, created=True) for e in events]})


def show(request, transaction_id):
    event = Event.objects.filter(transaction_id=transaction_id).first()
    if event is None:
        raise errors.not_found("event")
    return ok({"event": serialize_event(event, _subscription_ids([event.external_subscription_id]))})


collection = endpoint({"POST": create})
batch_view = endpoint({"POST": batch})
member = endpoint({"GET": show})
