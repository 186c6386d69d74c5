"""The django-q2 schedules exist once, fire through django_q's scheduler, and the system check watches them."""
import pytest
from django_q.models import Schedule
from django_q.scheduler import scheduler
from django.utils import timezone

from invoices.models import Invoice
from billing_run.checks import billing_schedules_check
from billing_run.schedules import ensure_schedules

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db


def test_schedules_are_created_once_by_name():
    ensure_schedules()
    ensure_schedules()
    names = list(Schedule.objects.filter(name__in=["finalize_due_invoices", "mark_overdue_invoices", "run_billing"])
                 .order_by("name").values_list("name", flat=True))
    assert names == ["finalize_due_invoices", "mark_overdue_invoices", "run_billing"]
    assert Schedule.objects.get(name="finalize_due_invoices").minutes == 5
    assert billing_schedules_check() == []


def test_the_scheduler_runs_billing_and_finalization():
    cust = f.customer(invoice_grace_period=0)
    sub = b.subscription(cust, b.plan(amount_cents=900), started_at=b.utc(2020, 1, 1), billing_time="anniversary",
                         terminated_at=b.utc(2020, 2, 1), status="terminated")
    due = f.invoice(fees=[(1, 100)], grace_period_ends_at=b.utc(2020, 1, 1))
    Schedule.objects.update(next_run=timezone.now())
    scheduler()
    invoice = Invoice.objects.get(subscription=sub)
    assert invoice.status == "finalized" and invoice.total_amount_cents == 900
    assert Invoice.objects.get(pk=due.pk).status == "finalized"
    assert Schedule.objects.get(name="run_billing").next_run > timezone.now()


def test_system_check_warns_when_a_schedule_is_missing():
    Schedule.objects.filter(name="run_billing").delete()
    assert [w.id for w in billing_schedules_check()] == ["subscriptions.W001"]
