"""Benchmark: the database's own limit for one finalization per transaction, measured with pgbench.

    python bench/db_limit.py [--drafts 10000] [--database bench_db_limit]

Issue 13 sets the one-invoice target as a third of this limit. It builds bench/finalize_due.py's
fixture (N drafts x 5 fees), then has pgbench (one client, no Python in the loop) run the
statements a finalization cannot do without, on those rows, one transaction each: lock the
invoice, read its fees, advance two counters, update the invoice, insert the audit row and the
webhook event, commit; each draft once (the database's guard refuses a second finalization). Prints
transactions/s, so a sitting can quote our figure as a share of it.
Needs PostgreSQL's `pgbench` on PATH (Debian: package postgresql-contrib / postgresql-15).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database  # noqa: E402

# Each transaction takes the next draft (the first statement picks and locks it: no extra round trip); every
# statement finds its rows by primary key or unique key, as ours do.
SCRIPT = """\
BEGIN;
SELECT b.n AS n, i.* FROM invoices_invoice i JOIN bench_ids b ON b.id = i.id WHERE b.n = (SELECT nextval('bench_n')) FOR UPDATE OF i \\gset
SELECT f.* FROM invoices_fee f JOIN bench_ids b ON b.id = f.invoice_id WHERE b.n = :n;
UPDATE sequences_sequence SET last_value = last_value + 1 WHERE key = 'bench:entity' RETURNING last_value;
UPDATE sequences_sequence SET last_value = last_value + 1 WHERE key = 'bench:customer:' || :n RETURNING last_value;
UPDATE invoices_invoice SET status = 'finalized', number = 'BEN-001-' || :n, total_amount_cents = 1320,
  issuing_date = current_date, payment_due_date = current_date, finalized_at = now(), updated_at = now()
  WHERE id = (SELECT id FROM bench_ids WHERE n = :n);
INSERT INTO audit_auditlogentry (id, created_at, action, source, api_key_name, actor_label, invoice_number, object_type,
  object_id, before, after, invoice_id, customer_external_id, customer_name, prev_hash)
  SELECT gen_random_uuid(), now(), 'invoice.finalized', 'system', '', 'bench', 'BEN-001-' || :n, 'invoice', b.id::text,
  '{{"status": "draft"}}'::jsonb, '{{"status": "finalized"}}'::jsonb, b.id, 'c' || :n, 'C' || :n, '' FROM bench_ids b WHERE b.n = :n;
INSERT INTO webhooks_webhookevent (id, webhook_type, object_type, object_id, created_at, payload)
  SELECT gen_random_uuid(), 'invoice.created', 'invoice', b.id::text, now(), repeat('x', {payload}) FROM bench_ids b WHERE b.n = :n;
COMMIT;
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=10000)
    parser.add_argument("--payload", type=int, default=4000, help="bytes of the webhook body (ours: about 4 kB)")
    parser.add_argument("--database", default="bench_db_limit")
    args = parser.parse_args()
    if not shutil.which("pgbench"):
        sys.exit("pgbench is not on PATH: install PostgreSQL's client tools (Debian: apt-get install -y postgresql).")
    django_on_fresh_database(args.database)

    from django.db import connection

    from finalize_due import build

    build(args.drafts, args.drafts)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_ids (n integer PRIMARY KEY, id uuid NOT NULL)")
        cursor.execute("INSERT INTO bench_ids SELECT row_number() OVER (ORDER BY id), id FROM invoices_invoice")
        cursor.execute("INSERT INTO sequences_sequence (key, last_value) VALUES ('bench:entity', 0)")
        cursor.execute("INSERT INTO sequences_sequence (key, last_value) "
                       "SELECT 'bench:customer:' || n, 0 FROM generate_series(1, %s) n", [args.drafts])
        cursor.execute("CREATE SEQUENCE bench_n")
        cursor.execute("ANALYZE")
    connection.close()

    settings = connection.settings_dict
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(SCRIPT.format(payload=args.payload))
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = ["pgbench", "-n", "-c", "1", "-t", str(args.drafts), "-f", script.name,
               "-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432), "-U", settings["USER"], settings["NAME"]]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    os.unlink(script.name)
    if result.returncode != 0:
        sys.exit(f"pgbench failed:\n{result.stderr}")
    tps = re.search(r"tps = ([\d.]+)", result.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", result.stdout)
    print(f"the database's limit, one client, one finalization's statements per transaction: "
          f"{float(tps.group(1)):.0f} transactions/s ({latency.group(1)} ms each)")


if __name__ == "__main__":
    main()
