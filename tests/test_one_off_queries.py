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

# Issue 13 (25 → 18 on PostgreSQL, 29 → 22 on SQLite): the webhook body is rendered from the invoice as the
# transaction wrote it (webhooks/payloads.py `held`; the six read-back queries become one, the customer's
# metadata: its taxes are already held), and the audit chain takes no savepoint (its head is locked and
# advanced: two statements, plus the INSERT). The customer lock, add-ons and their taxes, the tax owners, the
# invoice and fee INSERTs, the counters, the finalization's UPDATE, the event, the endpoints and the audit
# entries make the rest (the outer SAVEPOINT / RELEASE are the test's transaction).
QUERIES = {"postgresql": 18, "sqlite": 22}


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

