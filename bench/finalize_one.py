"""Benchmark: finalizing drafts one invoice per transaction (the admin button, PUT /invoices/{id}/finalize).

    python bench/finalize_one.py --drafts 2000 [--database bench_finalize_one]

Builds N due subscription drafts of 5 fees each with their events (bench/finalize_due.py's fixture) on
its own PostgreSQL database, then calls finalize_invoice on each in turn, in one process: one
transaction per invoice. Prints invoices/s and the queries of one finalization (captured on a sample).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=20, help="finalizations whose queries are captured")
    parser.add_argument("--database", default="bench_finalize_one")
    parser.add_argument("--show-queries", action="store_true")
    args = parser.parse_args()
    django_on_fresh_database(args.database)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.actors import Actor
    from finalize_due import build
    from invoices.models import Invoice
    from invoices.transitions.finalization import finalize_invoice

    build(args.drafts, args.drafts)
    ids = list(Invoice.objects.filter(status="draft").order_by("pk").values_list("pk", flat=True))
    actor = Actor.system("bench")
    sample, rest = ids[:args.sample], ids[args.sample:]
    with CaptureQueriesContext(connection) as captured:
        for pk in sample:
            assert finalize_invoice(pk, actor).ok
    started = time.perf_counter()
    for pk in rest:
        finalize_invoice(pk, actor)
    elapsed = time.perf_counter() - started
    assert Invoice.objects.filter(status="finalized", total_amount_cents=1320).count() == len(ids)
    if args.show_queries:
        per = len(captured.captured_queries) // len(sample)
        for query in captured.captured_queries[-per:]:
            print(f'{float(query["time"]) * 1000:7.1f} ms  {query["sql"][:150]}')
    print(f"finalized {len(rest)} invoices one per transaction in {elapsed:.2f} s: {len(rest) / elapsed:.0f} invoices/s, "
          f"{len(captured.captured_queries) / len(sample):.1f} queries per invoice")


if __name__ == "__main__":
    main()
