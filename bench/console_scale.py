"""The console at scale: the admin pages operators and auditors open, over 1,000,000 invoices.

Builds, on its own PostgreSQL database, --invoices invoices (2% drafts) of 5 fees each, spread over
--customers customers, and --audit audit entries (default: as many as invoices), with INSERT … SELECT
over generate_series (PostgreSQL-only bench code: a template row made by the ORM is copied with new ids,
numbers and timestamps). Then, signed in as a superuser through Django's test Client, it requests each page
--repeat times and prints p50 / p95 and the page's number of queries (and its slowest query).

    python bench/console_scale.py --invoices 100000
    python bench/console_scale.py --invoices 1000000 --explain

The bench's audit rows are not hash-chained (they carry placeholder hashes): verify_audit_log over them
reports them, and that is not what this measures.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database  # noqa: E402

TARGET_MS = 300


def build(invoices: int, customers: int, audit: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from audit import log as audit_log
    from audit.actors import Actor
    from tests import factories as f

    with transaction.atomic():
        user = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "x")
        entity = f.billing_entity()
        template_customer = f.customer(entity, external_id="bench-cust-0", name="Bench Customer 0")
        template_invoice = f.invoice(template_customer, fees=[(1, 1000)])
        template_fee = template_invoice.fees.get()
        template_entry = audit_log.record("invoice.finalized", Actor.system(), invoice=template_invoice, obj=template_invoice,
                                          before={"status": "draft"}, after={"status": "finalized", "total_amount_cents": 1000})
    timings = {}
    with connection.cursor() as cursor:
        def copy(table, template_id, overrides: dict, source: str, where: str = ""):
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position", [table])
            columns = [row[0] for row in cursor.fetchall()]
            select = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
            started = time.monotonic()
            cursor.execute(f'INSERT INTO {table} ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
                           f"SELECT {select} FROM {source}, {table} t WHERE t.id = %s {where}", [template_id])
            timings[table] = time.monotonic() - started

        copy("customers_customer", template_customer.pk, {
            "id": "gen_random_uuid()", "external_id": "'bench-cust-' || g", "name": "'Bench Customer ' || g",
            "sequential_id": "t.sequential_id + g",
        }, f"generate_series(1, {customers - 1}) g")
        cursor.execute("CREATE TEMP TABLE bench_customers AS SELECT row_number() OVER () - 1 AS n, id FROM customers_customer")
        cursor.execute("CREATE INDEX ON bench_customers (n)")
        copy("invoices_invoice", template_invoice.pk, {
            "id": "gen_random_uuid()", "customer_id": "c.id",
            "number": "'BENCH-' || lpad(g::text, 8, '0')",
            "status": "CASE WHEN mod(g, 50) = 0 THEN 'draft' ELSE 'finalized' END",
            "sequential_id": "g", "billing_entity_sequential_id": "g",
            "created_at": "now() - (g || ' seconds')::interval", "updated_at": "now() - (g || ' seconds')::interval",
            "issuing_date": "(now() - (g || ' seconds')::interval)::date",
        }, f"generate_series(1, {invoices - 1}) g JOIN bench_customers c ON c.n = mod(g, {customers})")
        copy("invoices_fee", template_fee.pk, {
            "id": "gen_random_uuid()", "invoice_id": "i.id", "position": "p - 1",
            "amount_cents": "100 * p", "invoice_display_name": "'Fee ' || p",
        }, "invoices_invoice i CROSS JOIN generate_series(1, 5) p", f"AND i.id <> '{template_invoice.pk}'")
        cursor.execute("CREATE TEMP TABLE bench_invoices AS SELECT row_number() OVER () AS n, id, number FROM invoices_invoice")
        cursor.execute("CREATE INDEX ON bench_invoices (n)")
        copy("audit_auditlogentry", template_entry.pk, {
            "id": "gen_random_uuid()", "seq": "t.seq + g", "hash": "md5(g::text) || md5(g::text)", "prev_hash": "''",
            "created_at": "now() - (g || ' seconds')::interval",
            "action": "(ARRAY['invoice.finalized','fee.updated','invoice.drafted','invoice.payment_status_updated'])[1 + mod(g, 4)]",
            "invoice_id": "i.id", "invoice_number": "i.number",
        }, f"generate_series(1, {audit - 1}) g JOIN bench_invoices i ON i.n = 1 + mod(g, {invoices})")
        cursor.execute("UPDATE audit_auditchainhead SET seq = (SELECT max(seq) FROM audit_auditlogentry)")
        started = time.monotonic()
        cursor.execute("VACUUM ANALYZE")
        timings["analyze"] = time.monotonic() - started
    return {"user": user, "timings": timings, "number": "BENCH-" + str(invoices // 2).rjust(8, "0"),
            "customer": f"bench-cust-{customers // 3}"}


def existing() -> dict:
    """What `build` returned, read back from a database it built earlier."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM invoices_invoice")
        invoices = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM customers_customer")
        customers = cursor.fetchone()[0]
    return {"user": get_user_model().objects.get(username="bench-admin"), "invoices": invoices,
            "number": "BENCH-" + str(invoices // 2).rjust(8, "0"), "customer": f"bench-cust-{customers // 3}"}


def measure(client, url, repeat, explain=False):
    from django.db import connection

    captured = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append({"sql": sql % tuple(f"'{p}'" for p in params) if params and not many else sql,
                             "time": time.perf_counter() - started})

    with connection.execute_wrapper(timed):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    slowest = max(captured, key=lambda q: float(q["time"]), default={"sql": "", "time": "0"})
    plan = None
    if explain and slowest["sql"].lstrip().upper().startswith("SELECT"):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "queries": len(captured),
            "slowest_ms": float(slowest["time"]) * 1000, "slowest_sql": slowest["sql"], "plan": plan}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--audit", type=int, default=None, help="audit entries (default: as many as invoices)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest query")
    parser.add_argument("--database", default="bc_console_scale")
    parser.add_argument("--invoice-repeat", type=int, default=None, help="requests per invoice page (default: --repeat)")
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this (e.g. audit)")
    parser.add_argument("--reuse", action="store_true", help="keep the database an earlier run built (migrated, not rebuilt)")
    args = parser.parse_args()
    kept = django_on_fresh_database(args.database, reuse=args.reuse)

    from django.conf import settings
    from django.test import Client, override_settings

    # Pages are measured without a collectstatic run: plain static storage (no manifest lookups).
    override_settings(DEBUG=False, STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    if kept:
        built = existing()
        print(f"reused database {args.database}: {built['invoices']:,} invoices (--invoices ignored)")
    else:
        started = time.monotonic()
        built = build(args.invoices, min(args.customers, args.invoices), args.audit or args.invoices)
        print(f"built {args.invoices:,} invoices, {args.invoices * 5:,} fees, {args.audit or args.invoices:,} audit entries "
              f"in {time.monotonic() - started:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in built['timings'].items())})")
    client = Client()
    client.force_login(built["user"])
    pages = [
        ("dashboard /admin/", "/admin/"),
        ("audit log list", "/admin/audit/auditlogentry/"),
        ("audit log, one action", "/admin/audit/auditlogentry/?action=fee.updated"),
        ("audit log search (number)", f"/admin/audit/auditlogentry/?q={built['number']}"),
        ("draft list", "/admin/invoices/invoice/?status__exact=draft"),
        ("invoice list", "/admin/invoices/invoice/"),
        ("invoice search (number)", f"/admin/invoices/invoice/?q={built['number']}"),
        ("invoice search (customer)", f"/admin/invoices/invoice/?q={built['customer']}"),
    ]
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'slowest q ms':>13}  target p50 < {TARGET_MS} ms")
    for label, url in [(label, url) for label, url in pages if args.only in label]:
        repeat = args.repeat if "audit" in label or "dashboard" in label else (args.invoice_repeat or args.repeat)
        result = measure(client, url, repeat, args.explain)
        flag = "" if result["p50"] < TARGET_MS else "  SLOW"
        print(f"{label:28} {result['p50']:8.0f} {result['p95']:8.0f} {result['queries']:8d} {result['slowest_ms']:13.0f}{flag}")
        if args.explain or flag:
            print("    slowest query:", result["slowest_sql"][:600])
            if result["plan"]:
                print("    " + result["plan"].replace("\n", "\n    "))


if __name__ == "__main__":
    main()
