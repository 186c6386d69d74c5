"""Signed webhook delivery to a real local receiver: hmac and jwt signatures, retries with the
same unique key, failures recorded on the delivery row, outbox written with the change."""
import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import jwt
import pytest
from django.db import transaction
from django.utils import timezone

from tests import factories
from tests.webhook_receiver import Receiver
from webhooks import delivery as webhook_delivery
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSettings


@pytest.fixture
def entity(db):
    return factories.billing_entity(code="acme", is_default=True)


def create_endpoint(api, url, algo, **extra):
    response = api.post("webhook_endpoints", {"webhook_endpoint": {"webhook_url": url, "signature_algo": algo, **extra}})
    assert response.status_code == 200, response.content
    return WebhookEndpoint.objects.get(pk=response.json()["webhook_endpoint"]["lago_id"])


def upsert(api, capture, external_id="c1", **fields):
    with capture(execute=True):
        response = api.post("customers", {"customer": {"external_id": external_id, **fields}})
    assert response.status_code == 200, response.content
    return response.json()["customer"]


def test_hmac_signature_and_body(api, entity, django_capture_on_commit_callbacks, settings):
    with Receiver() as receiver:
        endpoint = create_endpoint(api, receiver.url, "hmac")
        customer = upsert(api, django_capture_on_commit_callbacks, name="Hooli")
    [(headers, body, status)] = receiver.requests
    key = WebhookSettings.current().hmac_key
    assert str(uuid.UUID(key)) == key  # a UUID, as Lago's organization hmac_key
    expected = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Lago-Signature"] == expected
    assert headers["X-Lago-Signature-Algorithm"] == "hmac"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["webhook_type"] == "customer.created" and payload["object_type"] == "customer"
    assert payload["organization_id"] == settings.ORGANIZATION_ID
    assert payload["customer"]["lago_id"] == customer["lago_id"] and payload["customer"]["name"] == "Hooli"
    row = WebhookDelivery.objects.get()
    assert headers["X-Lago-Unique-Key"] == str(row.pk)
    assert (row.status, row.attempts, row.last_response_code, row.next_attempt_at) == ("succeeded", 1, 200, None)


def test_jwt_signature_verifies_with_the_published_public_key(api, entity, django_capture_on_commit_callbacks, settings):
    with Receiver() as receiver:
        create_endpoint(api, receiver.url, "jwt")
        upsert(api, django_capture_on_commit_callbacks)
        upsert(api, django_capture_on_commit_callbacks, name="Renamed")
    public_pem = base64.b64decode(api.get("webhooks/json_public_key").json()["webhook"]["public_key"])
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert api.get("webhooks/public_key").content == base64.b64encode(public_pem)
    types = []
    for headers, body, _ in receiver.requests:
        assert headers["X-Lago-Signature-Algorithm"] == "jwt"
        claims = jwt.decode(headers["X-Lago-Signature"], public_pem, algorithms=["RS256"], issuer=settings.PUBLIC_URL)
        assert claims["data"] == body.decode()
        types.append(json.loads(body)["webhook_type"])
    assert types == ["customer.created", "customer.updated"]
    # A body changed in transit no longer matches the signed data.
    headers, body, _ = receiver.requests[0]
    assert jwt.decode(headers["X-Lago-Signature"], public_pem, algorithms=["RS256"])["data"] != body.decode().replace("c1", "c2")


def test_500_then_200_is_received_once_by_unique_key(api, entity, django_capture_on_commit_callbacks):
    with Receiver(statuses=[500, 200]) as receiver:
        create_endpoint(api, receiver.url, "hmac")
        upsert(api, django_capture_on_commit_callbacks)
        row = WebhookDelivery.objects.get()
        assert (row.status, row.attempts, row.last_response_code) == ("retrying", 1, 500)
        assert "HTTP 500" in row.last_error and row.next_attempt_at > timezone.now()
        assert webhook_delivery.retry_due_deliveries() == 0  # not due yet
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_delivery.retry_due_deliveries(now=row.next_attempt_at + timedelta(seconds=1)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code) == ("succeeded", 2, 200)
    keys = [headers["X-Lago-Unique-Key"] for headers, _, _ in receiver.requests]
    assert keys == [str(row.pk), str(row.pk)]
    assert len(receiver.accepted()) == 1


def test_the_schedule_retries_due_deliveries(api, entity, django_capture_on_commit_callbacks):
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    assert Schedule.objects.filter(func="webhooks.delivery.retry_due_deliveries").exists()
    with Receiver(statuses=[503, 200]) as receiver:
        create_endpoint(api, receiver.url, "jwt")
        upsert(api, django_capture_on_commit_callbacks)
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=1))
        scheduler()
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert len(receiver.requests) == 2 and len(receiver.accepted()) == 1


def test_failures_end_as_failed_after_max_attempts(api, entity, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver(statuses=[500]) as receiver:
        create_endpoint(api, receiver.url, "hmac")
        upsert(api, django_capture_on_commit_callbacks)
        row = WebhookDelivery.objects.get()
        first_wait = row.next_attempt_at - row.last_attempt_at
        webhook_delivery.deliver(row.pk)
        row.refresh_from_db()
        assert row.status == "retrying" and row.next_attempt_at - row.last_attempt_at > first_wait  # backoff grows
        webhook_delivery.deliver(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code, row.next_attempt_at) == ("failed", 3, 500, None)
    assert len(receiver.requests) == 3 and receiver.accepted() == {}
    assert webhook_delivery.deliver(row.pk) is None  # closed: no fourth attempt


def test_unreachable_receiver_is_recorded(api, entity, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        url = receiver.url
    create_endpoint(api, url, "hmac")  # the port is closed now
    upsert(api, django_capture_on_commit_callbacks)
    row = WebhookDelivery.objects.get()
    assert row.status == "retrying" and row.last_response_code is None and "ConnectionError" in row.last_error


def test_admin_retry_action_redelivers_a_failed_delivery(api, entity, django_capture_on_commit_callbacks, admin_client, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    with Receiver(statuses=[500, 200]) as receiver:
        create_endpoint(api, receiver.url, "hmac")
        upsert(api, django_capture_on_commit_callbacks)
        row = WebhookDelivery.objects.get()
        assert row.status == "failed"
        page = admin_client.get("/admin/webhooks/webhookdelivery/")
        assert page.status_code == 200 and b"500" in page.content
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post("/admin/webhooks/webhookdelivery/", {"action": "retry", "_selected_action": [str(row.pk)]})
    row.refresh_from_db()
    assert row.status == "succeeded" and row.last_response_code == 200
    assert len(receiver.accepted()) == 1


def test_event_types_filter_and_finalized_invoice_payload(api, entity, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        create_endpoint(api, receiver.url, "hmac", event_types=["invoice.created"])
        upsert(api, django_capture_on_commit_callbacks)  # customer.created: not wanted
        draft = factories.invoice(factories.customer(entity), fees=[(2, 1500)])
        with django_capture_on_commit_callbacks(execute=True):
            assert api.put(f"invoices/{draft.pk}/finalize").status_code == 200
    [(headers, body, _)] = receiver.requests
    payload = json.loads(body)
    assert payload["webhook_type"] == "invoice.created" and payload["object_type"] == "invoice"
    assert payload["invoice"]["lago_id"] == str(draft.pk) and payload["invoice"]["total_amount_cents"] == 3000
    assert WebhookEvent.objects.filter(webhook_type="customer.created").count() == 1
    assert WebhookDelivery.objects.count() == 1


def test_rolled_back_change_leaves_no_event_and_no_delivery(entity):
    from webhooks import outbox

    WebhookEndpoint.objects.create(webhook_url="http://127.0.0.1:9/none")
    customer = factories.customer(entity)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            outbox.record("customer.updated", customer)
            assert WebhookDelivery.objects.count() == 1
            raise RuntimeError("the change failed")
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_private_key_file_is_generated_once(tmp_path, settings):
    from webhooks import signing

    settings.WEBHOOK_PRIVATE_KEY = ""
    settings.WEBHOOK_PRIVATE_KEY_FILE = tmp_path / "keys" / "rsa.pem"
    first = signing.public_key_pem()
    signing._key_file_pem.cache_clear()
    assert signing.public_key_pem() == first
    assert (settings.WEBHOOK_PRIVATE_KEY_FILE.stat().st_mode & 0o777) == 0o600


def test_admin_pages_show_the_endpoint_and_the_deliveries(admin_client, entity):
    endpoint = WebhookEndpoint.objects.create(webhook_url="https://erp.test/hooks", signature_algo="hmac")
    page = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200 and b"erp.test/hooks" in page.content
    assert admin_client.get("/admin/webhooks/webhookendpoint/add/").status_code == 200
    from webhooks import outbox

    with transaction.atomic():
        event = outbox.record("customer.created", factories.customer(entity))
    row = WebhookDelivery.objects.get()
    assert admin_client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/webhooks/webhookdelivery/{row.pk}/change/").status_code == 200
    assert admin_client.get("/admin/webhooks/webhookdelivery/?status__exact=pending").status_code == 200
