"""Changing a grace period moves draft deadlines; shortening finalizes the drafts now due, at both levels."""
from datetime import timedelta

import pytest
from django.db import transaction

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.grace_period import grace_period_changed
from invoices.models import Invoice
from billing_run.billing import run_billing

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db(transaction=True)  # finalization is queued on commit
OPERATOR = Actor.system("admin")
NOW = b.utc(2026, 2, 3, 12)  # three days into a five-day grace period


def drafts_for(*customers):
    plan = b.plan(amount_cents=1000)
    for cust in customers:
        b.subscription(cust, plan, started_at=b.utc(2026, 1, 1))
    run_billing(b.utc(2026, 2, 1, 0, 5))
    return {cust.pk: Invoice.objects.get(customer=cust) for cust in customers}


def set_customer_grace(cust, days):
    with transaction.atomic():
        previous = cust.invoice_grace_period
        cust.invoice_grace_period = days
        cust.save()
        grace_period_changed(actor=OPERATOR, customer=cust, previous_days=previous, now=NOW)


def set_entity_grace(entity, days):
    with transaction.atomic():
        previous = entity.invoice_grace_period
        entity.invoice_grace_period = days
        entity.save()
        grace_period_changed(actor=OPERATOR, billing_entity=entity, previous_days=previous, now=NOW)


def test_shortening_a_customer_finalizes_its_due_drafts_at_once():
    entity = f.billing_entity(invoice_grace_period=5)
    cust, other = f.customer(entity), f.customer(entity)
    invoices = drafts_for(cust, other)
    assert invoices[cust.pk].grace_period_ends_at == b.utc(2026, 2, 6)

    set_customer_grace(cust, 2)

    mine, theirs = Invoice.objects.get(customer=cust), Invoice.objects.get(customer=other)
    assert mine.status == "finalized" and mine.grace_period_ends_at == b.utc(2026, 2, 3)
    assert theirs.status == "draft" and theirs.grace_period_ends_at == b.utc(2026, 2, 6)
    change = AuditLogEntry.objects.get(action="customer.grace_period_changed")
    assert change.before["effective_days"] == 5 and change.after["effective_days"] == 2
    assert change.after["drafts_now_due"] == [str(mine.pk)]
    assert AuditLogEntry.objects.filter(action="invoice.finalized", invoice=mine, source="task").count() == 1


def test_customer_set_to_0_finalizes_everything_it_has_in_draft():
    cust = f.customer(f.billing_entity(invoice_grace_period=5))
    drafts_for(cust)
    set_customer_grace(cust, 0)
    assert Invoice.objects.get(customer=cust).status == "finalized"


def test_shortening_the_entity_finalizes_due_drafts_of_customers_without_override():
    entity = f.billing_entity(invoice_grace_period=5)
    inheriting, overriding = f.customer(entity), f.customer(entity, invoice_grace_period=5)
    drafts_for(inheriting, overriding)

    set_entity_grace(entity, 1)

    assert Invoice.objects.get(customer=inheriting).status == "finalized"
    kept = Invoice.objects.get(customer=overriding)
    assert kept.status == "draft" and kept.grace_period_ends_at == b.utc(2026, 2, 6)
    assert AuditLogEntry.objects.filter(action="billing_entity.grace_period_changed").count() == 1


def test_lengthening_moves_deadlines_out_and_finalizes_nothing():
    entity = f.billing_entity(invoice_grace_period=3)
    cust = f.customer(entity)
    drafts_for(cust)
    set_entity_grace(entity, 10)
    invoice = Invoice.objects.get(customer=cust)
    assert invoice.status == "draft" and invoice.grace_period_ends_at == b.utc(2026, 2, 11)
    set_customer_grace(cust, 4)  # the customer now overrides: 10 -> 4
    invoice.refresh_from_db()
    assert invoice.grace_period_ends_at == b.utc(2026, 2, 11) - timedelta(days=6)


def test_a_rolled_back_change_finalizes_nothing():
    cust = f.customer(f.billing_entity(invoice_grace_period=5))
    drafts_for(cust)
    with pytest.raises(RuntimeError), transaction.atomic():
        cust.invoice_grace_period = 0
        cust.save()
        grace_period_changed(actor=OPERATOR, customer=cust, previous_days=None, now=NOW)
        raise RuntimeError("the admin form failed later")
    invoice = Invoice.objects.get(customer=cust)
    assert invoice.status == "draft" and invoice.grace_period_ends_at == b.utc(2026, 2, 6)
    assert not AuditLogEntry.objects.filter(action="customer.grace_period_changed").exists()
