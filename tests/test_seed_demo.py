"""`seed_demo` builds the demo world through the real finalization, and a second run changes nothing;
`ensure_demo_users` creates the sign-ins bin/demo prints."""
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from audit.models import AuditLogEntry
from customers.models import Customer
from invoices.models import Invoice

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        sorted(Invoice.objects.values_list("pk", "status", "number", "payment_status", "payment_overdue", "total_amount_cents")),
        Customer.objects.count(),
        AuditLogEntry.objects.count(),
    )


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    assert first[1] == 20 and len(first[0]) == 60


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
