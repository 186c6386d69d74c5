"""GET /events: Lago's list with pagination and its filters."""
import pytest

from audit.models import AuditLogEntry

from . import billing_factories as b
from . import factories as f
from .api_support import assert_error
from .lago_spec import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    plan = b.plan(code="startup")
    sub = b.subscription(f.customer(external_id="hooli"), plan, external_id="sub-1", started_at=b.utc(2026, 3, 1))
    b.event(sub, "api_calls", b.utc(2026, 2, 20), transaction_id="t0")  # before the subscription started
    b.event(sub, "api_calls", b.utc(2026, 3, 2), transaction_id="t1")
    b.event(sub, "storage", b.utc(2026, 3, 5), transaction_id="t2")
    b.event(sub, "api_calls", b.utc(2026, 3, 9), transaction_id="t3")
    other = b.subscription(f.customer(), plan, external_id="sub-2")
    b.event(other, "api_calls", b.utc(2026, 3, 3), transaction_id="t4")
    return sub


def ids(response):
    assert response.status_code == 200, response.content
    return [e["transaction_id"] for e in response.json()["events"]]


def test_list_and_filters(api, events):
    before = AuditLogEntry.objects.count()
    body = api.get("events").json()
    assert [e["transaction_id"] for e in body["events"]] == ["t3", "t2", "t4", "t1", "t0"]  # newest timestamp first
    assert body["meta"] == {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": 5}
    first = body["events"][0]
    assert first["lago_subscription_id"] == str(events.pk) and first["lago_customer_id"] == str(events.customer_id)
    assert ids(api.get("events", {"external_subscription_id": "sub-1"})) == ["t3", "t2", "t1", "t0"]
    assert ids(api.get("events", {"code": "api_calls", "external_subscription_id": "sub-1"})) == ["t3", "t1", "t0"]
    assert ids(api.get("events", {"timestamp_from": "2026-03-03T00:00:00Z", "timestamp_to": "2026-03-06T00:00:00Z"})) == ["t2", "t4"]
    assert ids(api.get("events", {"external_subscription_id": "sub-1", "timestamp_from_started_at": "true"})) == ["t3", "t2", "t1"]
    page = api.get("events", {"per_page": 2, "page": 2}).json()
    assert [e["transaction_id"] for e in page["events"]] == ["t4", "t1"]
    assert page["meta"] == {"current_page": 2, "next_page": 3, "prev_page": 1, "total_pages": 3, "total_count": 5}
    assert api.get("events", {"code": "nothing"}).json()["meta"]["total_count"] == 0
    assert AuditLogEntry.objects.count() == before  # reading writes nothing


def test_errors(api, events):
    assert_error(api.get("events", {"timestamp_from": "yesterday"}), 422, error_details={"timestamp_from": ["invalid_date"]})
    assert_error(api.get("events", {"timestamp_from_started_at": "true"}), 422,
                 error_details={"external_subscription_id": ["value_is_mandatory"]})
    assert_error(api.get("events", {"page": "0"}), 400)


@pytest.mark.lago_spec
def test_conforms_to_lagos_spec(api, events):
    assert_conforms("GET", "/events", api.get("events", {"per_page": 2}), status=200)
    assert_conforms("GET", "/events", api.get("events", {"code": "none"}), status=200)
    assert_conforms("GET", "/events", api.get("events", {"timestamp_to": "x"}), status=422)
