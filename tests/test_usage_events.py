"""Recording usage events: a duplicate transaction_id is refused with value_already_exist and changes nothing."""
import pytest
from django.core.exceptions import ValidationError

from usage.models import Event
from usage.services import record_event, record_events

from . import billing_factories as b

pytestmark = pytest.mark.django_db


def test_duplicate_transaction_id_is_refused_and_changes_nothing():
    first = record_event(transaction_id="tx-1", external_subscription_id="sub-1", code="calls", timestamp=1673457300, properties={"a": 1})
    assert first.timestamp == b.utc(2023, 1, 11, 17, 15)
    with pytest.raises(ValidationError) as error:
        record_event(transaction_id="tx-1", external_subscription_id="sub-2", code="other", timestamp="2023-01-12T00:00:00Z")
    assert error.value.error_dict["transaction_id"][0].code == "value_already_exist"
    stored = Event.objects.get()
    assert (stored.external_subscription_id, stored.code, stored.properties) == ("sub-1", "calls", {"a": 1})


def test_a_batch_with_one_duplicate_records_nothing():
    record_event(transaction_id="tx-1", external_subscription_id="sub-1", code="calls")
    items = [dict(transaction_id=f"tx-{i}", external_subscription_id="sub-1", code="calls") for i in (2, 3, 1)]
    with pytest.raises(ValidationError) as error:
        record_events(items)
    assert error.value.error_dict["transaction_id"][0].code == "value_already_exist"
    with pytest.raises(ValidationError):
        record_events([items[0], items[0]])
    assert list(Event.objects.values_list("transaction_id", flat=True)) == ["tx-1"]


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValidationError) as error:
        record_event(transaction_id="", external_subscription_id="sub-1", code="calls", timestamp="yesterday", properties=[1])
    assert set(error.value.error_dict) == {"transaction_id", "timestamp", "properties"}
    assert Event.objects.count() == 0
