"""`seed_demo` builds the demo world through the real finalization, and a second run changes nothing;
`ensure_demo_users` creates the sign-ins bin/demo prints."""
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from addons.models import AddOn
from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon, Coupon
from customers.models import Customer
from invoices.models import Fee, Invoice
from plans.models import BillableMetric, Charge, Plan
from subscriptions.models import Subscription
from usage.models import Event
from wallets.models import Wallet, WalletTransaction

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        sorted(Invoice.objects.values_list("pk", "status", "number", "payment_status", "payment_overdue", "total_amount_cents")),
        Customer.objects.count(),
        AuditLogEntry.objects.count(),
        {model.__name__: model.objects.count() for model in (
            AddOn, BillableMetric, Plan, Charge, Subscription, Event, Coupon, AppliedCoupon, Wallet, WalletTransaction, Fee)},
    )


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    assert first[1] == 20
    # 60 invoices of the worked mix, one billed draft per subscription, one one-off invoice.
    assert len(first[0]) == 60 + first[3]["Subscription"] + 1


def test_a_database_seeded_before_the_catalogue_gets_it_on_the_next_run(monkeypatch):
    import demo.seed

    with monkeypatch.context() as patch:  # the seed as it was before the catalogue was added
        patch.setattr(demo.seed, "_seed_catalogue", lambda now, stdout: None)
        call_command("seed_demo")
    assert not Plan.objects.exists() and Invoice.objects.count() == 60
    call_command("seed_demo")
    assert Plan.objects.filter(code="demo-growth-usd").exists() and AddOn.objects.count() == 3
    assert Customer.objects.count() == 20 and Invoice.objects.count() == 60 + Subscription.objects.count() + 1


def test_seed_demo_fills_the_catalogue_and_the_ledgers_through_their_services():
    call_command("seed_demo")
    # Add-ons, one with a tax of its own, and a one-off invoice from them, finalized at once.
    assert set(AddOn.objects.values_list("code", flat=True)) >= {"setup_fee", "customer_success"}
    assert [t.code for t in AddOn.objects.get(code="customer_success").taxes.all()] == ["svc-us-6"]
    one_off = Invoice.objects.get(invoice_type=Invoice.InvoiceType.ONE_OFF)
    assert one_off.status == "finalized" and one_off.customer.external_id == "initech"
    assert {tax.tax_code for fee in one_off.fees.all() for tax in fee.applied_taxes.all()} == {"svc-us-6", "sales-ny-8875"}
    # Billable metrics and plans with charges; subscriptions with usage, each billed for last month.
    assert BillableMetric.objects.count() == 3
    assert all(plan.charges.count() >= 2 for plan in Plan.objects.all()) and Plan.objects.count() == 2
    for subscription in Subscription.objects.all():
        assert Event.objects.filter(external_subscription_id=subscription.external_id).count() > 50
        billed = Invoice.objects.get(subscription=subscription)
        assert billed.fees.filter(kind=Fee.Kind.CHARGE).exists() and billed.fees.filter(kind=Fee.Kind.SUBSCRIPTION).exists()
    assert AuditLogEntry.objects.filter(action="subscription.created", source="command").count() == Subscription.objects.count()
    # A coupon applied to a customer (through apply_coupon: audited), another one in the catalogue.
    assert Coupon.objects.count() == 2
    applied = AppliedCoupon.objects.get()
    assert applied.customer.external_id == "globex" and applied.coupon.code == "welcome-10"
    assert AuditLogEntry.objects.filter(action="applied_coupon.created").count() == 1
    # A wallet with granted credits.
    wallet = Wallet.objects.get()
    assert wallet.customer.external_id == "soylent" and wallet.currency == "EUR"
    assert WalletTransaction.objects.filter(wallet=wallet, amount_cents=10000).exists()


def test_seed_demo_mixes_statuses_currencies_and_time_zones():
    call_command("seed_demo")
    invoices = list(Invoice.objects.select_related("customer"))
    ui = Counter(invoice.ui_status for invoice in invoices)
    assert {"draft", "finalized", "paid", "overdue", "closed"} <= set(ui)
    assert ui["draft"] >= 10 and ui["paid"] >= 10 and ui["overdue"] >= 3
    assert {"USD", "EUR", "JPY", "KWD"} <= {invoice.currency for invoice in invoices}
    assert len({invoice.customer.applicable_timezone for invoice in invoices}) >= 5
    drafts = [invoice for invoice in invoices if invoice.is_draft]
    assert any(not invoice.fees.exists() for invoice in drafts), "some drafts are empty"
    assert all(invoice.number.endswith("-DRAFT") and invoice.total_amount_cents == invoice.fees_amount_cents + invoice.taxes_amount_cents
               for invoice in drafts)
    today = timezone.now().date()
    assert all(invoice.payment_due_date < today for invoice in invoices if invoice.payment_overdue)
    # Every non-draft went through finalization: one audit entry each, by the command.
    finalized_or_closed = [invoice for invoice in invoices if not invoice.is_draft]
    assert AuditLogEntry.objects.filter(action__in=["invoice.finalized", "invoice.closed"], source="command").count() == len(finalized_or_closed)
    numbers = [invoice.number for invoice in invoices if invoice.status == "finalized"]
    assert len(numbers) == len(set(numbers))


def test_ensure_demo_users_is_idempotent_and_the_sign_ins_work():
    call_command("ensure_demo_users")
    call_command("ensure_demo_users")
    # django-axes (first of AUTHENTICATION_BACKENDS) needs the sign-in's request.
    request = RequestFactory().post("/admin/login/")
    operator = authenticate(request, username="operator", password="operator-demo")
    auditor = authenticate(request, username="auditor", password="auditor-demo")
    admin = authenticate(request, username="admin", password="admin-demo")
    assert operator.is_staff and operator.has_perm("invoices.finalize_invoice")
    assert auditor.is_staff and auditor.has_perm("audit.export_auditlogentry") and not auditor.has_perm("invoices.finalize_invoice")
    assert admin.is_superuser
    assert [g.name for g in operator.groups.all()] == ["Billing operators"]
