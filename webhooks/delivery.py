"""Delivering webhooks: django-q2 tasks, with retries and backoff.

`deliver(id)` makes one attempt: POST the body, signed, with X-Lago-Unique-Key = the
delivery id (the same on every retry, so receivers can drop duplicates). Success is
any 2xx (redirects are not followed); anything else (status, timeout, refused connection, a host
that resolves to a private address: webhooks/url_policy.py) schedules a retry after
WEBHOOK_RETRY_BASE_SECONDS * 2^(attempt-1), until WEBHOOK_MAX_ATTEMPTS, then `failed`.
`retry_due_deliveries` (a django-q2 schedule, every minute) picks up what is due.
No lock is held during the HTTP call: an attempt claims the row by pushing its
next_attempt_at forward (a lease) with a conditional UPDATE.
"""
import json
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import signing, url_policy
from .models import WebhookDelivery
from .payloads import serialize_object

OPEN = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]


def build_body(delivery: WebhookDelivery) -> bytes:
    event = delivery.event
    payload = {
        "webhook_type": event.webhook_type,
        "object_type": event.object_type,
        "organization_id": settings.ORGANIZATION_ID,
        event.object_type: serialize_object(event.object_type, event.object_id),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def headers_for(delivery: WebhookDelivery, body: bytes) -> dict:
    endpoint = delivery.endpoint
    if endpoint.signature_algo == endpoint.SignatureAlgo.HMAC:
        signature = signing.hmac_signature(endpoint.hmac_secret, body)
    else:
        signature = signing.jwt_signature(body)
    return {
        "Content-Type": "application/json",
        "User-Agent": "billing-console webhooks",
        "X-Lago-Signature": signature,
        "X-Lago-Signature-Algorithm": endpoint.signature_algo,
        "X-Lago-Unique-Key": str(delivery.id),
    }


def _lease(now):
    return now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 30)


def deliver(delivery_id) -> str | None:
    """One attempt (the caller holds the lease). Returns the new status, None if nothing to do."""
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status not in OPEN:
        return None
    code, error = None, ""
    try:
        body = build_body(delivery)
    except Exception as exc:  # the object is gone or cannot be serialized: record it, do not crash the worker
        return _record_attempt(delivery.pk, None, f"payload: {type(exc).__name__}: {exc}"[:1000])
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
    return _record_attempt(delivery.pk, code, error)


def _record_attempt(delivery_id, code, error) -> str:
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_response_code = code
        delivery.last_error = error
        if not error:
            delivery.status, delivery.succeeded_at, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, now, None
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1))
        delivery.save()
    return delivery.status


def retry_due_deliveries(now=None) -> int:
    """The scheduled sweep: one attempt for each open delivery whose time has come."""
    now = now or timezone.now()
    from django_q.tasks import async_task

    queued = 0
    for delivery_id in WebhookDelivery.objects.due(now).order_by("next_attempt_at").values_list("pk", flat=True)[:500]:
        # Claim with a conditional UPDATE: 0 rows means another sweep or attempt has it.
        if WebhookDelivery.objects.due(now).filter(pk=delivery_id).update(next_attempt_at=_lease(now)):
            async_task("webhooks.delivery.deliver", str(delivery_id))
            queued += 1
    return queued


def retry_now(deliveries) -> int:
    """The admin's "Retry": reopen (failed ones get a fresh set of attempts) and queue now."""
    ids = [d.pk for d in deliveries if d.status != WebhookDelivery.Status.SUCCEEDED]
    WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDelivery.Status.FAILED).update(attempts=0)
    WebhookDelivery.objects.filter(pk__in=ids).update(status=WebhookDelivery.Status.RETRYING, next_attempt_at=_lease(timezone.now()))
    from django_q.tasks import async_task

    for delivery_id in ids:
        async_task("webhooks.delivery.deliver", str(delivery_id))
    return len(ids)
