"""The usage watermark: finalization re-prices a draft only when its usage or its pricing changed since it was priced."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.actors import Actor
from billing_run.billing import run_billing
from invoices.models import Invoice
from invoices.transitions import fee_edits
from invoices.transitions.finalization import finalize_invoice
from invoices.transitions.refresh import REPRICED
from usage import ingest, watermark

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db
OPERATOR = Actor.system("admin")


@pytest.fixture
def draft():
    cust = f.customer(invoice_grace_period=3)
    plan = b.plan(amount_cents=1000)
    calls = b.metric("count", code="calls")
    charge = b.charge(plan, calls, "standard", {"amount": "1"})
    sub = b.subscription(cust, plan, started_at=b.utc(2026, 1, 1))
    b.event(sub, "calls", b.utc(2026, 1, 10))
    run_billing(b.utc(2026, 2, 1, 1))
    invoice = Invoice.objects.get(subscription=sub)
    assert invoice.priced_at is not None and invoice.priced_usage_version == 1
    return invoice, sub, charge


def _finalize(invoice):
    before = REPRICED["count"]
    outcome = finalize_invoice(invoice.pk, OPERATOR)
    assert outcome.ok
    invoice.refresh_from_db()
    return REPRICED["count"] - before


def test_an_unchanged_draft_is_not_re_aggregated(draft):
    invoice, _, _ = draft
    with CaptureQueriesContext(connection) as captured:
        assert _finalize(invoice) == 0
    assert not any("usage_event" in q["sql"] for q in captured.captured_queries)
    assert invoice.fees_amount_cents == 1000 + 100


def test_a_late_event_inside_the_period_is_priced_at_finalization(draft):
    invoice, sub, _ = draft
    b.event(sub, "calls", b.utc(2026, 1, 31, 23, 59, 59))
    assert _finalize(invoice) == 1
    assert invoice.fees_amount_cents == 1000 + 200


@pytest.mark.parametrize("fast", [pytest.param(True, marks=pytest.mark.postgres_only), False],
                         ids=["postgres-unnest", "portable-values"])  # the unnest() INSERT is PostgreSQL's
def test_the_api_ingestion_advances_the_watermark_on_both_insert_paths(draft, monkeypatch, fast):
    invoice, sub, _ = draft
    monkeypatch.setattr(ingest, "uses_postgres_fast_path", lambda: fast)
    ingest.ingest([{"transaction_id": "late-1", "external_subscription_id": sub.external_id, "code": "calls",
                    "timestamp": b.utc(2026, 1, 20).timestamp()}])
    assert watermark.versions([sub.external_id]) == {sub.external_id: 2}
    assert _finalize(invoice) == 1
    assert invoice.fees_amount_cents == 1000 + 200


def test_an_event_for_another_subscription_leaves_the_draft_alone(draft):
    invoice, _, _ = draft
    b.event(b.subscription(f.customer(), b.plan(code="other")), "calls", b.utc(2026, 1, 20))
    assert _finalize(invoice) == 0


def test_a_plan_or_charge_change_re_prices(draft):
    invoice, sub, charge = draft
    charge.properties = {"amount": "3"}
    charge.save()
    assert _finalize(invoice) == 1
    assert invoice.fees_amount_cents == 1000 + 300


def test_a_plan_change_re_prices(draft):
    invoice, sub, _ = draft
    plan = sub.plan
    plan.amount_cents = 2000
    plan.save()
    assert _finalize(invoice) == 1
    assert invoice.fees_amount_cents == 2000 + 100


def test_an_operator_fee_edit_clears_the_watermark(draft):
    invoice, _, _ = draft
    fee = invoice.fees.get(kind="charge")
    fee_edits.update_fee(fee.pk, OPERATOR, invoice_display_name="Calls (renamed)")
    invoice.refresh_from_db()
    assert invoice.priced_at is None
    assert _finalize(invoice) == 1


def test_a_draft_never_priced_is_re_priced(draft):
    invoice, _, _ = draft
    Invoice.objects.filter(pk=invoice.pk).update(priced_at=None, priced_usage_version=None)
    assert _finalize(invoice) == 1
