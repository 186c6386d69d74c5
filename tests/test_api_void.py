"""POST /invoices/{id}/void through invoices.transitions.voiding.

Fails until the voiding issue (invoices/transitions/voiding.py) is merged: the stub raises NotImplementedError.
"""
import pytest
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError

from api.models import ApiKey
from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice
from tests import factories
from tests.api_support import assert_error
from webhooks.models import WebhookEvent


def finalized_invoice():
    inv = factories.invoice(factories.customer(factories.billing_entity()), fees=[(1, 5000)])
    finalize_invoice(inv.pk, Actor.system())
    return inv


@pytest.mark.django_db
def test_void_a_finalized_invoice(api):
    inv = finalized_invoice()
    response = api.post(f"invoices/{inv.pk}/void")
    assert response.status_code == 200, response.content
    body = response.json()["invoice"]
    assert body["status"] == "voided" and body["voided_at"] and body["total_due_amount_cents"] == 0
    inv.refresh_from_db()
    assert inv.status == "voided"
    assert AuditLogEntry.objects.filter(invoice=inv, source="api", action__contains="void").exists()
    assert WebhookEvent.objects.filter(webhook_type="invoice.voided", object_id=str(inv.pk)).exists()
    # Already voided: not voidable.
    assert assert_error(api.post(f"invoices/{inv.pk}/void"), 405) == {"status": 405, "error": "Method Not Allowed", "code": "not_voidable"}


@pytest.mark.django_db
def test_drafts_and_unknown(api):
    draft = factories.invoice(fees=[(1, 100)])
    assert_error(api.post(f"invoices/{draft.pk}/void"), 405, "not_voidable")
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert_error(api.post("invoices/00000000-0000-0000-0000-000000000000/void"), 404, "invoice_not_found")


@pytest.mark.django_db
def test_void_options_must_be_typed(api):
    inv = finalized_invoice()
    assert_error(api.post(f"invoices/{inv.pk}/void", {"generate_credit_note": "yes"}), 422,
                 error_details={"generate_credit_note": ["value_is_invalid"]})
    inv.refresh_from_db()
    assert inv.status == "finalized"


@pytest.mark.django_db(transaction=True)
def test_with_the_lago_client(live_server):
    inv = finalized_invoice()
    lago = Client(api_key=ApiKey.issue("void")[1], api_url=live_server.url)
    assert lago.invoices.void(str(inv.pk)).status == "voided"
    with pytest.raises(LagoApiError) as again:
        lago.invoices.void(str(inv.pk))
    assert again.value.status_code == 405 and again.value.response["code"] == "not_voidable"
    assert Invoice.objects.get(pk=inv.pk).status == "voided"
