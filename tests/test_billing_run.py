"""The billing run: one invoice per (subscription, period), grace 0 finalizes at once, grace 3 drafts."""
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from audit.models import AuditLogEntry
from invoices.models import Invoice
from billing_run.billing import run_billing
from webhooks.models import WebhookEvent

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db


def setup(grace_entity=0, grace_customer=None, amount=5000, **customer_kwargs):
    entity = f.billing_entity(invoice_grace_period=grace_entity)
    cust = f.customer(entity, invoice_grace_period=grace_customer, **customer_kwargs)
    plan = b.plan(amount_cents=amount)
    calls = b.metric("count", code=f"calls-{plan.code}")
    b.charge(plan, calls, "standard", {"amount": "0.10"})
    return b.subscription(cust, plan, started_at=b.utc(2026, 1, 1)), calls


def test_grace_3_creates_a_draft_with_deadline_and_drafted_event():
    sub, calls = setup(grace_entity=3)
    b.event(sub, calls.code, b.utc(2026, 1, 15))
    result = run_billing(b.utc(2026, 2, 1, 0, 30))
    assert (result.created, result.drafts) == (1, 1)
    invoice = Invoice.objects.get(subscription=sub)
    assert invoice.status == "draft" and invoice.invoice_type == "subscription"
    assert invoice.grace_period_ends_at == b.utc(2026, 2, 4)
    assert (invoice.period_from, invoice.period_to) == (b.utc(2026, 1, 1), b.utc(2026, 1, 31, 23, 59, 59, 999999))
    assert sorted((fee.kind, fee.amount_cents) for fee in invoice.fees.all()) == [("charge", 10), ("subscription", 5000)]
    assert invoice.fees_amount_cents == 5010 and invoice.total_amount_cents == 5010
    assert WebhookEvent.objects.filter(webhook_type="invoice.drafted", object_id=str(invoice.pk)).count() == 1
    assert AuditLogEntry.objects.filter(action="invoice.drafted", invoice=invoice, source="task").count() == 1


def test_deadline_is_billing_date_plus_grace_at_local_midnight():
    sub, _ = setup(grace_entity=3, timezone="America/Los_Angeles")
    la = ZoneInfo("America/Los_Angeles")
    sub.started_at = datetime(2026, 1, 1, tzinfo=la)
    sub.save()
    run_billing(b.utc(2026, 2, 2))
    invoice = Invoice.objects.get(subscription=sub)
    assert invoice.period_from == datetime(2026, 1, 1, tzinfo=la)
    assert invoice.grace_period_ends_at == datetime(2026, 2, 4, tzinfo=la)


def test_grace_0_finalizes_in_the_same_run():
    sub, _ = setup(grace_entity=0)
    result = run_billing(b.utc(2026, 2, 1, 1))
    invoice = Invoice.objects.get(subscription=sub)
    assert (result.finalized, invoice.status, invoice.grace_period_ends_at) == (1, "finalized", None)
    assert invoice.number.endswith("-001") and invoice.total_amount_cents == 5000
    assert WebhookEvent.objects.filter(webhook_type="invoice.created", object_id=str(invoice.pk)).exists()
    assert not WebhookEvent.objects.filter(webhook_type="invoice.drafted").exists()


def test_customer_0_overrides_entity_3():
    sub, _ = setup(grace_entity=3, grace_customer=0)
    run_billing(b.utc(2026, 2, 1, 1))
    assert Invoice.objects.get(subscription=sub).status == "finalized"


def test_empty_invoice_is_closed_or_finalized_by_the_policy():
    skip_sub, _ = setup(amount=0, finalize_zero_amount_invoice="skip")
    keep_sub, _ = setup(amount=0)
    run_billing(b.utc(2026, 2, 1, 1))
    skipped, kept = Invoice.objects.get(subscription=skip_sub), Invoice.objects.get(subscription=keep_sub)
    assert skipped.status == "closed" and skipped.fees.count() == 0
    assert kept.status == "finalized" and kept.fees.count() == 0 and kept.total_amount_cents == 0


def test_rerunning_never_duplicates_and_catches_up_missed_periods():
    sub, _ = setup(grace_entity=3)
    run_billing(b.utc(2026, 2, 1, 1))
    run_billing(b.utc(2026, 2, 1, 2))
    assert Invoice.objects.filter(subscription=sub).count() == 1
    out = StringIO()
    call_command("run_billing", "--at", "2026-04-01T00:00:00Z", stdout=out, verbosity=0)
    assert "2 invoices created" in out.getvalue()
    assert [i.period_from.month for i in Invoice.objects.filter(subscription=sub).order_by("period_from")] == [1, 2, 3]
    call_command("run_billing", "--at", "2026-04-01T00:00:00Z", stdout=out, verbosity=0)
    assert Invoice.objects.filter(subscription=sub).count() == 3


def test_the_database_refuses_a_second_invoice_for_the_same_period():
    sub, _ = setup(grace_entity=3)
    run_billing(b.utc(2026, 2, 1, 1))
    invoice = Invoice.objects.get(subscription=sub)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(customer=sub.customer, billing_entity=sub.customer.billing_entity, currency="USD",
                               subscription=sub, period_from=invoice.period_from)


def test_calendar_partial_first_period_prorates_the_fee_and_pay_in_advance_bills_the_next_period():
    sub, _ = setup(grace_entity=3)
    sub.started_at = b.utc(2026, 1, 11)
    sub.save()
    advance = b.subscription(f.customer(invoice_grace_period=3), b.plan(amount_cents=3100, pay_in_advance=True),
                             started_at=b.utc(2026, 1, 1))
    run_billing(b.utc(2026, 2, 1, 1))
    fee = Invoice.objects.get(subscription=sub).fees.get(kind="subscription")
    assert fee.amount_cents == 3387  # 5000 x 21/31 = 3387.1
    ahead = Invoice.objects.get(subscription=advance).fees.get(kind="subscription")
    assert (ahead.from_datetime, ahead.amount_cents) == (b.utc(2026, 2, 1), 3100)


def test_billing_before_the_period_ends_creates_nothing():
    sub, _ = setup()
    assert run_billing(b.utc(2026, 1, 31, 23, 59)).created == 0
    assert not Invoice.objects.exists()


def test_a_terminated_subscription_is_billed_up_to_its_termination_once():
    sub, _ = setup(grace_entity=3)
    sub.status, sub.terminated_at = "terminated", b.utc(2026, 2, 10, 12)
    sub.save()
    run_billing(b.utc(2026, 2, 11))
    run_billing(b.utc(2026, 6, 1))
    invoices = list(Invoice.objects.filter(subscription=sub).order_by("period_from"))
    assert [(i.period_from, i.period_to) for i in invoices] == [
        (b.utc(2026, 1, 1), b.utc(2026, 1, 31, 23, 59, 59, 999999)),
        (b.utc(2026, 2, 1), b.utc(2026, 2, 10, 11, 59, 59, 999999)),
    ]
    assert invoices[1].fees.get(kind="subscription").amount_cents == 1786  # 5000 x 10/28
