"""Benchmark: the grace-period sweep finalizing N due subscription drafts of 5 fees each.

    python bench/finalize_due.py --drafts 20000 [--customers 20000] [--batch-size 500]

Creates its own database (bench_finalize_due), bulk-creates N subscriptions on a plan with a
subscription fee and 4 charges, their N drafts (5 fees each, one tax per fee) and one event per
charge, then runs finalize_due_invoices in --workers concurrent processes (2, as the django-q2 cluster on
this 2-core machine; SKIP LOCKED keeps them apart): each draft is refreshed from the events, then
finalized. The last line reports invoices/s and the sweep's peak memory (RSS high-water mark per worker).
"""
import argparse
import gc
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database, peak_rss_mib, reset_peak_rss  # noqa: E402

CHUNK = 5000


def build(drafts: int, customers: int):
    import uuid
    from datetime import datetime, timezone
    from decimal import Decimal

    from django.db import connection

    from customers.models import BillingEntity, Customer, Tax
    from invoices.models import Fee, FeeTax, Invoice, InvoiceTax
    from plans.models import BillableMetric, Charge, Plan
    from subscriptions.models import Subscription

    jan, feb = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc)
    last = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    entity = BillingEntity.objects.create(code="bench", name="Bench", invoice_grace_period=3, document_number_prefix="BEN")
    vat = Tax.objects.create(code="vat", name="VAT", rate=Decimal("20"))
    plan = Plan.objects.create(code="bench", name="Bench plan", amount_cents=1000)
    charges = []
    for i in range(4):
        metric = BillableMetric.objects.create(code=f"m{i}", name=f"Metric {i}")
        charges.append(Charge.objects.create(plan=plan, billable_metric=metric, properties={"amount": "0.25"}))
    Customer.objects.bulk_create(
        [Customer(external_id=f"c{i}", sequential_id=i + 1, billing_entity=entity, name=f"C{i}", currency="USD") for i in range(customers)],
        batch_size=CHUNK,
    )
    customer_ids = list(Customer.objects.order_by("sequential_id").values_list("pk", flat=True))
    for start in range(0, drafts, CHUNK):
        rows = range(start, min(start + CHUNK, drafts))
        subs = Subscription.objects.bulk_create([
            Subscription(external_id=f"s{i}", customer_id=customer_ids[i % customers], plan=plan, started_at=jan) for i in rows
        ])
        invoices = Invoice.objects.bulk_create([
            Invoice(id=uuid.uuid4(), billing_entity=entity, customer_id=sub.customer_id, currency="USD", number="BEN-DRAFT",
                    subscription=sub, period_from=jan, period_to=last, grace_period_ends_at=datetime(2026, 2, 4, tzinfo=timezone.utc),
                    # the draft totals the billing run computed: 1,000 + 4 x 25, VAT 20 %
                    fees_amount_cents=1100, sub_total_excluding_taxes_amount_cents=1100, taxes_amount_cents=220,
                    sub_total_including_taxes_amount_cents=1320, total_amount_cents=1320)
            for sub in subs
        ])
        fees = []
        for invoice, sub in zip(invoices, subs):
            fees.append(Fee(invoice=invoice, kind="subscription", subscription=sub, description=plan.name, units=1, unit_amount_cents=1000,
                            precise_unit_amount=1000, amount_cents=1000, precise_amount_cents=1000, from_datetime=jan, to_datetime=last,
                            taxes_rate=vat.rate, taxes_amount_cents=200))
            for position, charge in enumerate(charges, 1):
                fees.append(Fee(invoice=invoice, kind="charge", subscription=sub, charge=charge, description=charge.display_name, units=1, unit_amount_cents=25,
                                precise_unit_amount=25, amount_cents=25, precise_amount_cents=25, from_datetime=jan,
                                to_datetime=last, position=position, events_count=1, taxes_rate=vat.rate, taxes_amount_cents=5))
        Fee.objects.bulk_create(fees)
        FeeTax.objects.bulk_create([
            FeeTax(fee=fee, tax=vat, tax_code="vat", tax_name="VAT", tax_rate=vat.rate, amount_cents=fee.taxes_amount_cents) for fee in fees
        ])
        InvoiceTax.objects.bulk_create([
            InvoiceTax(invoice=invoice, tax=vat, tax_code="vat", tax_name="VAT", tax_rate=vat.rate, fees_amount_cents=1100, amount_cents=220)
            for invoice in invoices
        ])
    with connection.cursor() as cursor:  # one event per (subscription, charge), in January
        cursor.execute(
            """INSERT INTO usage_event (transaction_id, external_subscription_id, code, timestamp, properties, created_at)
               SELECT 'e' || s || '-' || m, 's' || s, 'm' || m, %s::timestamptz + (s %% 1000) * interval '1 minute', '{}'::jsonb, now()
               FROM generate_series(0, %s - 1) s, generate_series(0, 3) m""",
            [jan.replace(day=10), drafts],
        )
        if any(f.name == "priced_at" for f in Invoice._meta.fields):  # the billing run priced them from these events
            Invoice.objects.update(priced_at=datetime.now(timezone.utc), priced_usage_version=0)
        cursor.execute("ANALYZE")
    return feb


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=20000)
    parser.add_argument("--customers", type=int, default=0, help="default: one customer per draft")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="concurrent sweeps (processes), as the django-q2 cluster's 2 workers")
    parser.add_argument("--database", default="bench_finalize_due", help="the database to create afresh (one per engineer)")
    parser.add_argument("--profile", help="write a cProfile of the first worker to this file")
    args = parser.parse_args()
    django_on_fresh_database(args.database)

    from invoices.models import Invoice

    started = time.perf_counter()
    now = build(args.drafts, args.customers or args.drafts).replace(day=10)
    print(f"fixture: {args.drafts} drafts x 5 fees in {time.perf_counter() - started:.1f} s", flush=True)
    from django.db import connections

    connections.close_all()
    gc.collect()
    start_at = time.time() + 5  # every worker has set Django up by then; the clock starts there
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        results = pool.starmap(_sweep, [(now, args.batch_size, start_at, args.profile if i == 0 else None) for i in range(args.workers)])
    elapsed = max(end for *_, end in results) - start_at
    done = sum(count for count, *_ in results)
    assert done == args.drafts == Invoice.objects.filter(status="finalized", total_amount_cents=1320).count(), done
    print(f"{args.workers} concurrent sweeps, {sum(b for _, b, *_ in results)} batches of up to {args.batch_size}: "
          + ", ".join(f"{count}" for count, *_ in results) + " invoices each")
    print(f"finalized {done} invoices in {elapsed:.2f} s: {done / elapsed:.0f} invoices/s, "
          f"peak memory {max(peak for _, _, peak, _ in results):.0f} MiB per worker")


def _sweep(now, batch_size, start_at, profile=None):
    """One worker process (spawned: its memory is its own, not the fixture builder's)."""
    import django

    django.setup()  # DATABASE_URL and sys.path come from the parent
    from django.db import connections

    from invoices.tasks import finalize_due_invoices

    connections.close_all()
    time.sleep(max(start_at - time.time(), 0))
    reset_peak_rss()
    batches = [time.perf_counter()]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    done = finalize_due_invoices(now, batch_size=batch_size, on_batch=lambda outcomes: batches.append(time.perf_counter()))
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    laps = [round(b - a, 2) for a, b in zip(batches, batches[1:])]
    print(f"worker batch seconds: {laps}", flush=True)
    end = time.time()
    connections.close_all()
    return done, len(laps), peak_rss_mib(), end

if __name__ == "__main__":
    main()
