"""Seed 002's example: period January 1-31, grace 3 days, today February 2.

The January 11 event (1673457300) is included after a refresh; the February 2 event
(1675354500) is not, and lands on the next invoice.
"""
import pytest

from audit.actors import Actor
from invoices.models import Invoice
from invoices.transitions.refresh import refresh_draft
from invoices.tasks import finalize_due_invoices
from billing_run.billing import run_billing
from usage.services import record_event

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db


def test_seed_002_worked_example():
    cust = f.customer(invoice_grace_period=3)
    plan = b.plan(amount_cents=0)
    b.charge(plan, b.metric("count", code="api_calls"), "standard", {"amount": "2"})
    sub = b.subscription(cust, plan, started_at=b.utc(2023, 1, 1), external_id="sub-seed")

    run_billing(b.utc(2023, 2, 1, 0, 5))  # the draft is generated on February 1
    january = Invoice.objects.get(subscription=sub)
    assert january.status == "draft" and january.fees.count() == 0
    assert january.grace_period_ends_at == b.utc(2023, 2, 4)

    # Today: February 2. Both events are sent now.
    record_event(transaction_id="jan-11", external_subscription_id="sub-seed", code="api_calls", timestamp=1673457300)
    record_event(transaction_id="feb-2", external_subscription_id="sub-seed", code="api_calls", timestamp=1675354500)
    refresh_draft(january.pk, Actor.system("admin"))
    january.refresh_from_db()
    (fee,) = january.fees.all()
    assert (fee.units, fee.amount_cents) == (1, 200)  # January 11 included, February 2 excluded

    assert finalize_due_invoices(b.utc(2023, 2, 3, 23, 59)) == 0  # still in grace
    assert finalize_due_invoices(b.utc(2023, 2, 4)) == 1
    january.refresh_from_db()
    assert january.status == "finalized" and january.total_amount_cents == 200

    run_billing(b.utc(2023, 3, 1, 0, 5))
    february = Invoice.objects.get(subscription=sub, period_from=b.utc(2023, 2, 1))
    assert [(fee.units, fee.amount_cents) for fee in february.fees.all()] == [(1, 200)]  # the February 2 event
