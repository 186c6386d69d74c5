"""/webhook_endpoints CRUD by lago_id."""
import pytest

from audit.models import AuditLogEntry
from tests.api_support import assert_error
from webhooks.models import WebhookEndpoint


def test_crud(api, settings):
    created = api.post("webhook_endpoints", {"webhook_endpoint": {"webhook_url": "https://example.test/hooks", "signature_algo": "hmac",
                                                                   "name": "ERP", "event_types": ["invoice.created"]}})
    assert created.status_code == 200
    body = created.json()["webhook_endpoint"]
    assert body["lago_organization_id"] == settings.ORGANIZATION_ID and body["signature_algo"] == "hmac"
    assert body["event_types"] == ["invoice.created"]
    assert "hmac_key" not in body  # not in Lago's WebhookEndpoint: the HMAC key is the organization's (webhooks admin)
    lago_id = body["lago_id"]
    assert api.get(f"webhook_endpoints/{lago_id}").json()["webhook_endpoint"]["name"] == "ERP"
    updated = api.put(f"webhook_endpoints/{lago_id}", {"webhook_endpoint": {"signature_algo": "jwt", "event_types": None}}).json()["webhook_endpoint"]
    assert updated["signature_algo"] == "jwt" and updated["event_types"] is None and updated["webhook_url"] == "https://example.test/hooks"
    listed = api.get("webhook_endpoints").json()
    assert [e["lago_id"] for e in listed["webhook_endpoints"]] == [lago_id] and listed["meta"]["total_count"] == 1
    assert api.delete(f"webhook_endpoints/{lago_id}").json()["webhook_endpoint"]["lago_id"] == lago_id
    assert not WebhookEndpoint.objects.exists()
    assert_error(api.get(f"webhook_endpoints/{lago_id}"), 404, "webhook_endpoint_not_found")
    assert_error(api.get("webhook_endpoints/not-a-uuid"), 404, "webhook_endpoint_not_found")
    assert [a for a in AuditLogEntry.objects.order_by("created_at").values_list("action", flat=True)] == [
        "webhook_endpoint.created", "webhook_endpoint.updated", "webhook_endpoint.deleted"]


@pytest.mark.parametrize("data, expected", [
    ({"signature_algo": "jwt"}, {"webhook_url": ["value_is_mandatory"]}),
    ({"webhook_url": "ftp://x"}, {"webhook_url": ["url_is_invalid"]}),
    ({"webhook_url": "https://x.test", "signature_algo": "rsa"}, {"signature_algo": ["invalid_value"]}),
    ({"webhook_url": "https://x.test", "event_types": ["invoice.exploded"]}, {"event_types": ["value_is_invalid"]}),
    ({"webhook_url": "https://x.test", "event_types": "invoice.created"}, {"event_types": ["value_is_invalid"]}),
])
def test_bad_input_is_422(api, data, expected):
    assert_error(api.post("webhook_endpoints", {"webhook_endpoint": data}), 422, error_details=expected)
    assert not WebhookEndpoint.objects.exists()
