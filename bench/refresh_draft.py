"""Benchmark: refresh one subscription draft whose billing period holds N usage events.

    python bench/refresh_draft.py [--events 1000000]

Creates its own database (bench_refresh_draft), a plan with a count charge (graduated) and a
sum charge over an event property, one draft for January, and N events in January (plus
N/5 February events of it and its neighbours, outside the period) inserted with INSERT ... SELECT generate_series.
The aggregation runs in the database; the last line reports the refresh time.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    django_on_fresh_database("bench_refresh_draft")

    from datetime import datetime, timezone

    from django.db import connection

    from audit.actors import Actor
    from customers.models import BillingEntity, Customer
    from invoices.models import Invoice
    from invoices.transitions.refresh import refresh_draft
    from plans.models import BillableMetric, Charge, Plan
    from billing_run.billing import run_billing
    from subscriptions.models import Subscription

    entity = BillingEntity.objects.create(code="bench", name="Bench", invoice_grace_period=3)
    customer = Customer.objects.create(external_id="c1", billing_entity=entity, currency="USD")
    plan = Plan.objects.create(code="bench", name="Bench", amount_cents=1000)
    calls = BillableMetric.objects.create(code="calls", name="Calls")
    storage = BillableMetric.objects.create(code="storage", name="Storage", aggregation="sum", field_name="gb")
    Charge.objects.create(plan=plan, billable_metric=calls, charge_model="graduated", properties={"graduated_ranges": [
        {"from_value": 0, "to_value": 100000, "per_unit_amount": "0.001", "flat_amount": "0"},
        {"from_value": 100001, "to_value": None, "per_unit_amount": "0.0005", "flat_amount": "0"},
    ]})
    Charge.objects.create(plan=plan, billable_metric=storage, properties={"amount": "0.02"})
    sub = Subscription.objects.create(external_id="sub-1", customer=customer, plan=plan, started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    Subscription.objects.bulk_create(  # neighbours whose events share the table
        [Subscription(external_id=f"other-{i}", customer=customer, plan=plan, started_at=sub.started_at) for i in range(9)]
    )
    run_billing(datetime(2026, 2, 1, 0, 5, tzinfo=timezone.utc))
    invoice = Invoice.objects.get(subscription=sub)

    started = time.perf_counter()
    half = args.events // 2
    with connection.cursor() as cursor:
        cursor.execute(  # N events in January, half calls and half storage; 10 % more in February
            """INSERT INTO usage_event (transaction_id, external_subscription_id, code, timestamp, properties, created_at)
               SELECT 'e' || g, 'sub-1', CASE WHEN g %% 2 = 0 THEN 'calls' ELSE 'storage' END,
                      timestamp '2026-01-01 00:00:00+00' + (g %% 2678400) * interval '1 second',
                      jsonb_build_object('gb', (g %% 7) || '.5'), now()
               FROM generate_series(1, %s) g""",
            [args.events],
        )
        cursor.execute(
            """INSERT INTO usage_event (transaction_id, external_subscription_id, code, timestamp, properties, created_at)
               SELECT 'f' || g, CASE WHEN g %% 2 = 0 THEN 'sub-1' ELSE 'other-' || (g %% 9) END, 'calls',
                      timestamp '2026-02-01 00:00:00+00' + (g %% 86400) * interval '1 second', '{}'::jsonb, now()
               FROM generate_series(1, %s) g""",
            [args.events // 5],
        )
        cursor.execute("VACUUM ANALYZE usage_event") if not connection.in_atomic_block else None
    print(f"fixture: {args.events} events in the period (+{args.events // 5} February events of this and other subscriptions) in {time.perf_counter() - started:.1f} s")

    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        refreshed = refresh_draft(invoice.pk, Actor.system("command"))
        timings.append(time.perf_counter() - started)
    fees = {fee.description: (fee.units, fee.amount_cents) for fee in refreshed.fees.all()}
    assert fees["Calls"][0] == half and fees["Storage"][0] > 0, fees
    print(f"fees: {fees}")
    print(f"refreshed a draft over {args.events} events: best {min(timings):.3f} s, first {timings[0]:.3f} s (target < 2 s)")


if __name__ == "__main__":
    main()
