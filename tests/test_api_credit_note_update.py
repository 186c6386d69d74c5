"""PUT /credit_notes/{lago_id}: refund_status and metadata, audited."""
import pytest

from audit.models import AuditLogEntry
from credit_notes.models import CreditNote
from credit_notes.services import create_credit_note

from . import credit_factories as c
from . import factories as f
from .api_support import assert_error
from .lago_spec import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(actor):
    invoice = c.finalized(f.customer(external_id="hooli"), fees=[(1, 10000)])
    invoice.total_paid_amount_cents = invoice.total_amount_cents
    Invoice = type(invoice)
    Invoice.objects.filter(pk=invoice.pk).update(total_paid_amount_cents=invoice.total_amount_cents, payment_status="succeeded")
    fee = invoice.fees.get()
    return create_credit_note(invoice.pk, actor, reason="other", refund_amount_cents=1000,
                              items=[{"fee_id": fee.pk, "amount_cents": 1000}], metadata={"ticket": "T-1"})


def test_update_refund_status_and_metadata(api, note):
    response = api.put(f"credit_notes/{note.pk}", {"credit_note": {"refund_status": "succeeded", "metadata": {"ticket": "T-2", "x": None}}})
    assert response.status_code == 200, response.content
    answer = response.json()["credit_note"]
    note.refresh_from_db()
    assert note.refund_status == "succeeded" and note.metadata == {"ticket": "T-2", "x": None}
    assert answer["refund_status"] == "succeeded" and answer["metadata"] == {"ticket": "T-2", "x": None}
    entry = AuditLogEntry.objects.get(action="credit_note.updated")
    assert entry.source == "api" and entry.before == {"refund_status": "pending", "metadata": {"ticket": "T-1"}}
    # The same values again: nothing changes, nothing is audited.
    api.put(f"credit_notes/{note.pk}", {"credit_note": {"refund_status": "succeeded"}})
    assert AuditLogEntry.objects.filter(action="credit_note.updated").count() == 1


def test_errors_write_nothing(api, note):
    assert_error(api.put("credit_notes/nope", {"credit_note": {"refund_status": "failed"}}), 404, "credit_note_not_found")
    assert_error(api.put(f"credit_notes/{note.pk}", {"credit_note": {"refund_status": "done"}}), 422,
                 error_details={"refund_status": ["value_is_invalid"]})
    assert_error(api.put(f"credit_notes/{note.pk}", {"credit_note": {"metadata": ["a"]}}), 422,
                 error_details={"metadata": ["value_is_invalid"]})
    assert_error(api.put(f"credit_notes/{note.pk}", {"refund_status": "failed"}), 400)
    assert CreditNote.objects.get(pk=note.pk).refund_status == "pending"
    assert not AuditLogEntry.objects.filter(action="credit_note.updated").exists()


@pytest.mark.lago_spec
def test_conforms_to_lagos_spec(api, note):
    template = "/credit_notes/{lago_id}"
    assert_conforms("PUT", template, api.put("credit_notes/nope", {"credit_note": {"refund_status": "failed"}}), status=404)
    assert_conforms("PUT", template, api.put(f"credit_notes/{note.pk}", {"credit_note": {"refund_status": "x"}}), status=422)


@pytest.mark.lago_spec
def test_answer_conforms_to_lagos_spec(api, note):
    assert_conforms("PUT", "/credit_notes/{lago_id}", api.put(f"credit_notes/{note.pk}", {"credit_note": {"refund_status": "failed"}}),
                    status=200)
