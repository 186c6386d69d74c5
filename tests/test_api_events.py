"""POST /events, POST /events/batch, GET /events/{transaction_id}: Lago's rules, all or nothing, idempotent."""
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

import pytest

from audit.models import AuditLogEntry
from usage.models import Event

from . import billing_factories as b
from .api_support import assert_error

pytestmark = pytest.mark.django_db


def event(tx="tx-1", **kwargs):
    return {"transaction_id": tx, "external_subscription_id": "sub-1", "code": "calls", "timestamp": "1673457300",
            "properties": {"region": "eu"}, "precise_total_amount_cents": None, **kwargs}


def test_create_stores_the_event_and_answers_lagos_event(api):
    sub = b.subscription(external_id="sub-1")
    response = api.post("events", {"event": event(precise_total_amount_cents="12.5")})
    assert response.status_code == 200, response.content
    body = response.json()["event"]
    stored = Event.objects.get(transaction_id="tx-1")
    assert stored.timestamp == datetime(2023, 1, 11, 17, 15, tzinfo=dt_timezone.utc)
    assert stored.properties == {"region": "eu"} and stored.precise_total_amount_cents == Decimal("12.5")
    assert body == {
        # null in the answer to POST, as Lago's EventCreated (processed asynchronously there); GET has it.
        "lago_id": str(stored.pk), "transaction_id": "tx-1", "lago_customer_id": None,
        "lago_subscription_id": str(sub.pk), "external_subscription_id": "sub-1", "code": "calls",
        "timestamp": "2023-01-11T17:15:00.000Z", "precise_total_amount_cents": "12.5", "properties": {"region": "eu"},
        "created_at": body["created_at"],
    }
    entry = AuditLogEntry.objects.get(action="events.recorded")
    assert entry.actor_label == "api key: integration" and entry.source == "api"
    assert entry.after == {"count": 1, "transaction_ids": ["tx-1"]}
    assert api.get("events/tx-1").json()["event"] == {**body, "lago_customer_id": str(sub.customer_id)}


@pytest.mark.parametrize("stamp, expected", [
    (1673457300, datetime(2023, 1, 11, 17, 15, tzinfo=dt_timezone.utc)),
    ("1673457300.25", datetime(2023, 1, 11, 17, 15, 0, 250000, tzinfo=dt_timezone.utc)),
    (1673457300.5, datetime(2023, 1, 11, 17, 15, 0, 500000, tzinfo=dt_timezone.utc)),
])
def test_timestamp_is_unix_seconds_as_a_string_or_a_number(api, stamp, expected):
    assert api.post("events", {"event": event(timestamp=stamp)}).status_code == 200
    assert Event.objects.get().timestamp == expected


def test_null_timestamp_means_now(api):
    before = datetime.now(dt_timezone.utc)
    assert api.post("events", {"event": event(timestamp=None)}).status_code == 200
    assert before <= Event.objects.get().timestamp <= datetime.now(dt_timezone.utc)


@pytest.mark.parametrize("stamp", ["2023-01-11T17:15:00Z", "", "soon", True, "nan", "1e30", {"a": 1}])
def test_a_timestamp_that_is_not_unix_seconds_is_invalid_format(api, stamp):
    response = api.post("events", {"event": event(timestamp=stamp)})
    assert_error(response, 422, error_details={"timestamp": ["invalid_format"]})
    assert not Event.objects.exists() and not AuditLogEntry.objects.exists()


def test_duplicate_transaction_id_is_refused_and_changes_nothing(api):
    assert api.post("events", {"event": event(code="calls")}).status_code == 200
    response = api.post("events", {"event": event(code="other", external_subscription_id="sub-2")})
    assert_error(response, 422, error_details={"transaction_id": ["value_already_exist"]})
    assert Event.objects.get().code == "calls" and AuditLogEntry.objects.count() == 1


def test_unknown_subscription_and_metric_are_stored_as_lago_does(api):
    response = api.post("events", {"event": event(external_subscription_id="nobody", code="nothing")})
    assert response.status_code == 200
    assert response.json()["event"]["lago_subscription_id"] is None and Event.objects.count() == 1


def test_missing_or_wrong_fields(api):
    response = api.post("events", {"event": {"transaction_id": " ", "code": 5, "external_subscription_id": ["x"], "properties": [1]}})
    assert_error(response, 422, error_details={"transaction_id": ["value_is_mandatory"], "external_subscription_id": ["value_is_invalid"],
                                               "properties": ["value_is_invalid"]})
    assert_error(api.post("events", {"event": event(precise_total_amount_cents="12,5")}), 422,
                 error_details={"precise_total_amount_cents": ["value_is_invalid"]})
    assert_error(api.post("events", {"events": [event()]}), 400)
    assert not Event.objects.exists()


def test_batch_inserts_all_and_answers_them(api):
    items = [event(f"tx-{n}", timestamp=1673457300 + n) for n in range(100)]
    response = api.post("events/batch", {"events": items})
    assert response.status_code == 200, response.content
    body = response.json()["events"]
    assert [e["transaction_id"] for e in body] == [f"tx-{n}" for n in range(100)]
    assert Event.objects.count() == 100
    assert AuditLogEntry.objects.get(action="events.recorded").after["count"] == 100


def test_batch_is_all_or_nothing_with_errors_by_index(api):
    api.post("events", {"event": event("old")})
    items = [event("new-1"), event("old"), event("new-2"), event("new-2")]
    response = api.post("events/batch", {"events": items})
    assert_error(response, 422, error_details={"1": {"transaction_id": ["value_already_exist"]},
                                               "3": {"transaction_id": ["value_already_exist"]}})
    assert list(Event.objects.values_list("transaction_id", flat=True)) == ["old"]
    response = api.post("events/batch", {"events": [event("a"), event("b", timestamp="2023-01-01")]})
    assert_error(response, 422, error_details={"1": {"timestamp": ["invalid_format"]}})
    assert Event.objects.count() == 1 and AuditLogEntry.objects.count() == 1


def test_batch_size_limits(api):
    assert_error(api.post("events/batch", {"events": [event(f"t{n}") for n in range(101)]}), 422,
                 error_details={"events": ["too_many_events"]})
    assert_error(api.post("events/batch", {"events": []}), 422, error_details={"events": ["no_events"]})
    assert_error(api.post("events/batch", {}), 422, error_details={"events": ["no_events"]})
    assert_error(api.post("events/batch", {"events": {"a": 1}}), 422, error_details={"events": ["value_is_invalid"]})
    assert_error(api.post("events/batch", {"events": ["x"]}), 422, error_details={"0": {"event": ["value_is_invalid"]}})
    assert not Event.objects.exists()


def test_find_unknown_event_and_methods(api):
    assert_error(api.get("events/nope"), 404, "event_not_found")
    assert_error(api.get("events/batch"), 404, "resource_not_found")  # no such route in Lago (not a 405)
    assert api.get("events").status_code == 200  # the list (issue 10)
