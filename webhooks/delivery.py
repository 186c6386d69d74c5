"""Delivering webhooks: django-q2 tasks, with retries and backoff.

`deliver(id)` makes one attempt with the event's stored body (webhooks/payloads.py: rendered when the
event happened), signed, with X-Lago-Unique-Key = the delivery id (the same on every retry, so
receivers drop duplicates). Success is any 2xx (redirects are not followed); anything else (status,
timeout, refused connection, a host that resolves to a private address: webhooks/url_policy.py)
schedules a retry after WEBHOOK_RETRY_BASE_SECONDS * 2^(attempt-1), until WEBHOOK_MAX_ATTEMPTS, then `failed`.

An attempt first claims the row with a conditional UPDATE, committed before the request is sent
(pending/retrying → sending, attempts + 1, next_attempt_at = a lease). No lock is held during the HTTP
call. The answer is then recorded; if the database connection dropped meanwhile, the recording
reconnects and tries again (bounded), so an answered 200 is not lost and the key is sent once. If it
still cannot be recorded, the row stays `sending` until its lease runs out and the sweep sends it again.

`retry_due_deliveries` (a django-q2 schedule, every minute) queues what is due: retries whose time
has come, deliveries whose first task was never queued (pending for UNQUEUED_AFTER), and `sending`
rows whose lease ran out; never a delivery whose task is still waiting in the broker.
"""
import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F
from django.utils import timezone

from . import outbox, signing, url_policy
from .models import WebhookDelivery, WebhookEvent, WebhookSettings

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
OPEN = WebhookDelivery.OPEN
RECORD_TRIES = 5


def lease_seconds() -> int:
    return settings.WEBHOOK_TIMEOUT_SECONDS + 30


def body_of(event: WebhookEvent) -> bytes:
    """The stored body. Events written before bodies were stored get theirs rendered once, then kept."""
    if not event.payload:
        outbox.render([event])
        WebhookEvent.objects.filter(pk=event.pk, payload="").update(payload=event.payload)
        event.refresh_from_db(fields=["payload"])
    return event.body


def headers_for(delivery: WebhookDelivery, body: bytes) -> dict:
    endpoint = delivery.endpoint
    if endpoint.signature_algo == endpoint.SignatureAlgo.HMAC:
        signature = signing.hmac_signature(WebhookSettings.current().hmac_key, body)
    else:
        signature = signing.jwt_signature(body)
    return {
        "Content-Type": "application/json",
        "User-Agent": "billing-console webhooks",
        "X-Lago-Signature": signature,
        "X-Lago-Signature-Algorithm": endpoint.signature_algo,
        "X-Lago-Unique-Key": str(delivery.id),
    }


def with_reconnect(write, what: str):
    """Run `write` (a few ORM statements in autocommit); on a dropped connection, reconnect and run it again.

    Inside a transaction nothing can be retried (the transaction is gone with the connection): the error propagates.
    """
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or attempt == RECORD_TRIES:
                raise
            logger.warning("Database connection lost while %s (try %d of %d); reconnecting", what, attempt, RECORD_TRIES,
                           exc_info=True)
            try:
                connection.close()  # the next query opens a new connection
            except Exception:
                connection.connection = None
            time.sleep(min(0.1 * 2 ** (attempt - 1), 2.0))


def claim(delivery_id, now) -> WebhookDelivery | None:
    """pending/retrying → sending, attempts + 1, a lease; None when another attempt has it or it is closed."""
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status__in=OPEN).update(
        status=Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now,
        next_attempt_at=now + timedelta(seconds=lease_seconds()),
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)


def deliver(delivery_id) -> str | None:
    """One attempt. Returns the new status, None if there was nothing to do (closed, or claimed by another)."""
    delivery = with_reconnect(lambda: claim(delivery_id, timezone.now()), "claiming a webhook delivery")
    if delivery is None:
        return None
    code, error = None, ""
    try:
        body = body_of(delivery.event)
    except Exception as exc:  # the object is gone or cannot be serialized: record it, do not crash the worker
        return record_attempt(delivery, None, f"payload: {type(exc).__name__}: {exc}"[:1000])
    try:
        # Connections are checked against the URL policy when they are made (webhooks/url_policy.py):
        # the name may resolve elsewhere than when the endpoint was saved. Redirects are not followed.
        with url_policy.guarded_session() as session:
            response = session.post(
                delivery.endpoint.webhook_url, data=body, headers=headers_for(delivery, body),
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False,
            )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:500]}"
    except url_policy.BlockedAddress as exc:
        error = f"not sent: {exc} (set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow private addresses)"[:1000]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return record_attempt(delivery, code, error)


def record_attempt(delivery: WebhookDelivery, code, error) -> str:
    """Write the attempt's outcome (reconnecting if the connection dropped while the request was out)."""
    now = timezone.now()
    values = {"last_response_code": code, "last_error": error}
    if not error:
        values.update(status=Status.SUCCEEDED, succeeded_at=now, next_attempt_at=None)
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        values.update(status=Status.FAILED, next_attempt_at=None)
    else:
        values.update(status=Status.RETRYING,
                      next_attempt_at=now + timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1)))

    def write():
        rows = WebhookDelivery.objects.filter(pk=delivery.pk)
        if error:  # only over our own claim: a later attempt (after our lease ran out) owns the row now
            rows = rows.filter(status=Status.SENDING, attempts=delivery.attempts)
        else:  # a received 2xx always counts
            rows = rows.exclude(status=Status.SUCCEEDED)
        return rows.update(**values)

    with_reconnect(write, "recording a webhook attempt")
    return values["status"]


def waiting_delivery_ids() -> set[str]:
    """Deliveries with a task still in the broker (queued, or taken by a worker and not yet acknowledged)."""
    from django_q.models import OrmQ

    waiting = set()
    for row in OrmQ.objects.only("payload").iterator():
        task = row.task
        if task.get("func") == outbox.DELIVER and task.get("args"):
            waiting.add(str(task["args"][0]))
    return waiting


def retry_due_deliveries(now=None) -> int:
    """The scheduled sweep (every minute): queue one attempt for each delivery whose time has come."""
    now = now or timezone.now()
    # Attempts whose lease ran out without a recorded answer: the worker or its database connection was lost.
    expired = WebhookDelivery.objects.filter(status=Status.SENDING, next_attempt_at__lte=now)
    lost = "the answer of the last attempt was not recorded before its lease ran out; sent again"
    expired.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(status=Status.FAILED, next_attempt_at=None, last_error=lost)
    expired.update(status=Status.RETRYING, next_attempt_at=now, last_error=lost)

    candidates = list(WebhookDelivery.objects.due(now).order_by("next_attempt_at").values_list("pk", flat=True)[:500])
    if not candidates:
        return 0
    waiting = waiting_delivery_ids()  # read after the candidates: a task acknowledged in between is simply re-run (a no-op)
    ids = []
    for delivery_id in candidates:
        if str(delivery_id) in waiting:
            continue
        # Claim with a conditional UPDATE (0 rows: another sweep has it); due again in UNQUEUED_AFTER if the task gets lost.
        if WebhookDelivery.objects.due(now).filter(pk=delivery_id).update(next_attempt_at=now + outbox.UNQUEUED_AFTER):
            ids.append(str(delivery_id))
    return len(outbox.queue_now(ids))


def retry_now(deliveries) -> int:
    """The admin's "Retry": reopen (failed ones get a fresh set of attempts) and queue now.

    Succeeded deliveries and attempts in flight (`sending` within their lease) are left alone."""
    now = timezone.now()
    ids = [d.pk for d in deliveries
           if d.status != Status.SUCCEEDED and not (d.status == Status.SENDING and d.next_attempt_at and d.next_attempt_at > now)]
    WebhookDelivery.objects.filter(pk__in=ids, status=Status.FAILED).update(attempts=0)
    WebhookDelivery.objects.filter(pk__in=ids).exclude(status=Status.SUCCEEDED).update(
        status=Status.RETRYING, next_attempt_at=now + outbox.UNQUEUED_AFTER)
    return len(outbox.queue_now([str(i) for i in ids]))
