"""A one-off invoice is created and finalized in a fixed number of statements (`finalize_new_drafts`).

The drafts it creates are finalized as they are in memory (no lock and re-read of what this very
transaction wrote), and its own audit entry joins the finalization's INSERT. PostgreSQL reads the
three tax owners in one raw query and writes the finalization in one unnest() UPDATE (both seen by
query capture); SQLite takes the portable paths.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from addons.models import AddOn
from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.one_off import create_one_off_invoice

from . import factories as f

pytestmark = pytest.mark.django_db

# Six of them read back the saved invoice (fees, their taxes, its taxes, the customer's taxes and
# metadata) to render the webhook body with the event, as Lago does (webhooks/payloads.py).
# Four more keep the audit log a hash chain (audit/chain.py: a savepoint, the chain head locked and advanced).
QUERIES = {"postgresql": 25, "sqlite": 29}


def test_a_two_line_one_off_invoice_takes_a_fixed_number_of_queries():
    customer = f.customer(currency="USD")
    AddOn.objects.create(code="setup", name="Setup", amount_cents=1000, amount_currency="USD")
    AddOn.objects.create(code="other", name="Other", amount_cents=500, amount_currency="USD")
    actor = Actor.system("test")
    create_one_off_invoice(customer, fees=[{"add_on_code": "setup"}], actor=actor)  # content types, counters: created once

    with CaptureQueriesContext(connection) as captured:
        invoice = create_one_off_invoice(customer, fees=[{"add_on_code": "setup", "units": 2}, {"add_on_code": "other"}], actor=actor)

    assert invoice.status == "finalized" and invoice.total_amount_cents == 2500
    assert len(captured) == QUERIES[connection.vendor], "\n".join(q["sql"][:120] for q in captured.captured_queries)
    assert list(AuditLogEntry.objects.filter(invoice=invoice).order_by("action").values_list("action", flat=True)) == [
        "invoice.finalized", "invoice.one_off_created",
    ]

