"""Seed 000: empty = no fees at all. A zero-amount fee is a line item, so that invoice is not empty."""
import pytest

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import finalize_invoice
from webhooks.models import WebhookEvent

from . import factories as f

pytestmark = pytest.mark.django_db

#        entity flag, customer setting, fees        -> expected status
MATRIX = [
    (True, "inherit", [], "finalized"),
    (True, "skip", [], "closed"),
    (True, "finalize", [], "finalized"),
    (False, "inherit", [], "closed"),
    (False, "skip", [], "closed"),
    (False, "finalize", [], "finalized"),
    (True, "inherit", [(1, 0)], "finalized"),
    (True, "skip", [(1, 0)], "finalized"),
    (True, "finalize", [(1, 0)], "finalized"),
    (False, "inherit", [(1, 0)], "finalized"),
    (False, "skip", [(1, 0)], "finalized"),
    (False, "finalize", [(1, 0)], "finalized"),
]


@pytest.mark.parametrize("entity_flag,customer_setting,fees,expected", MATRIX)
def test_empty_invoice_matrix(entity_flag, customer_setting, fees, expected):
    entity = f.billing_entity(finalize_zero_amount_invoice=entity_flag, document_number_prefix="EMP")
    cust = f.customer(entity, finalize_zero_amount_invoice=customer_setting)
    invoice = f.invoice(cust, fees=fees)

    finalize_invoice(invoice.pk, Actor.system())

    invoice.refresh_from_db()
    assert invoice.status == expected
    assert invoice.total_amount_cents == 0
    events = WebhookEvent.objects.filter(object_id=str(invoice.pk))
    if expected == "closed":
        assert invoice.number == "EMP-DRAFT"
        assert not events.exists()
        assert AuditLogEntry.objects.get(invoice=invoice).action == "invoice.closed"
    else:
        assert invoice.number.startswith("EMP-") and invoice.number != "EMP-DRAFT"
        assert events.get().webhook_type == "invoice.created"
        assert AuditLogEntry.objects.get(invoice=invoice).action == "invoice.finalized"


def test_closed_invoice_consumes_no_number():
    entity = f.billing_entity(finalize_zero_amount_invoice=False, document_number_prefix="GAP")
    cust = f.customer(entity)
    empty = f.invoice(cust)
    real = f.invoice(cust, fees=[(1, 100)])
    finalize_invoice(empty.pk, Actor.system())
    finalize_invoice(real.pk, Actor.system())
    real.refresh_from_db()
    assert real.number == f"GAP-{cust.sequential_id:03d}-001"
