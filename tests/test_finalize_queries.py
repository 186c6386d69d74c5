"""How many queries one finalization takes (finalize_invoice on a priced, unchanged subscription draft).

A regression guard: a new query on this path must be a decision, so the count is pinned per database
(PostgreSQL takes the counters and bulk writes in single unnest() statements; SQLite falls back to
portable ones). Counted: the statements inside the transaction (BEGIN and COMMIT left out), the customer's first invoice.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.actors import Actor
from billing_run.billing import run_billing
from invoices.models import Invoice
from invoices.transitions.finalization import finalize_invoice

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db(transaction=True)
# Before the usage watermark: 33 on PostgreSQL; the audit hash chain (audit/chain.py) added one since: 29 / 30.
# Issue 13 (29 → 20 on PostgreSQL, 30 → 21 on SQLite): the webhook body is rendered from the objects the
# finalization holds (the six read-back queries become the customer's taxes and metadata), fees and their
# applied taxes come in one query, one look at the customer's coupons / credit notes / wallets replaces the
# three ledger queries when it has none, and the audit chain takes no savepoint. What is left, in order:
#   lock the invoice (with customer, billing entity, subscription, plan, and which ledgers hold credits for the
#   customer: none, so it is not locked) · fees + applied taxes ·
#   usage watermark · the plan's charges with their metrics ·
#   the stored tax lines · the counters (PostgreSQL: one WITH … UPDATE; here also the new customer's and
#   entity's counters seeded: two counts and an INSERT; SQLite: the portable SELECT,
#   SELECT FOR UPDATE and UPDATE) · the invoice UPDATE · customer taxes · customer metadata ·
#   webhook event INSERT · webhook endpoints · audit chain head (lock, advance) · audit INSERT.
# Issue 13, second pass (20 → 19 / 21 → 20): the customer is locked only when that look finds credits to consume.
# Issue 13, third pass (19 / 20 → 18 / 19): that look is part of the invoice's lock statement (totals.credit_look).
# Then (18 → 17 on PostgreSQL): the new customer's counter is created already advanced (INSERT … RETURNING).
# The PDF task is queued inside the transaction with the ORM broker (one commit); in sync mode, as here, after it.
# Then (17 / 19 → 15 / 17): the lock statement also says whether the customer has taxes and metadata of its own;
# this one has neither, so neither is read (finalization._seed_known_empty).
EXPECTED = {"postgresql": 15, "sqlite": 17}


def _drafts(count):
    plan = b.plan(amount_cents=1000)
    metrics = [b.metric("count", code=f"m{i}") for i in range(4)]
    for metric in metrics:
        b.charge(plan, metric, "standard", {"amount": "0.25"})
    customers = [f.customer(invoice_grace_period=3, external_id=f"q{i}") for i in range(count)]
    for i, cust in enumerate(customers):
        sub = b.subscription(cust, plan, started_at=b.utc(2026, 1, 1))
        for metric in metrics:
            b.event(sub, metric.code, b.utc(2026, 1, 10))
    run_billing(b.utc(2026, 2, 1, 1))
    return list(Invoice.objects.filter(status="draft").order_by("pk"))


def test_one_finalization_runs_a_pinned_number_of_queries():
    first, second = _drafts(2)
    finalize_invoice(first.pk, Actor.system("admin"))  # the billing entity's counter exists from here on
    with CaptureQueriesContext(connection) as captured:
        assert finalize_invoice(second.pk, Actor.system("admin")).ok
    queries = [q["sql"] for q in captured.captured_queries]
    queries = queries[:queries.index("COMMIT")]  # after commit: the PDF (sync queue in tests), not the transaction
    queries = [q for q in queries if not q.startswith("BEGIN")]
    assert len(queries) == EXPECTED[connection.vendor], "\n".join(q[:120] for q in queries)
