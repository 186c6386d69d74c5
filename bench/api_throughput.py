"""Throughput of the REST API under gunicorn on PostgreSQL.

    python bench/api_throughput.py [--seconds 15] [--workers 5] [--clients 10]

Creates (drops first) its own database `bc_bench` on the PostgreSQL of BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/bc_bench), migrates it, seeds a billing entity,
a customer, an add-on and an API key, starts gunicorn on 127.0.0.1, then for a fixed time:
  1. POST /api/v1/events/batch with 100 events per request (needs a billable metric, a plan
     and a subscription, created through the API; skipped with a note while those endpoints
     do not exist), and
  2. POST /api/v1/customers (upserts of new customers, a baseline of one audited, webhooked write), and
  3. POST /api/v1/invoices (one-off invoices of one add-on fee).
Only loopback traffic, bounded in time. The last two lines are `events/s: N` and `one-off invoices/s: N`.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(base.replace("postgres://", "postgresql://", 1) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_env(url: str) -> dict:
    env = dict(os.environ)
    env.update({
        # Persistent connections: a new PostgreSQL connection per request would dominate the figures.
        "DATABASE_URL": f"{url}?conn_max_age=60", "DEBUG": "false", "SECRET_KEY": "bench-only-secret", "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "billing_console.settings", "LOG_LEVEL": "WARNING",
        "WEBHOOK_PRIVATE_KEY_FILE": "/tmp/bc-bench-webhook-key.pem",
    })
    return env


SEED = """
from api.models import ApiKey
from addons.models import AddOn
from customers.models import BillingEntity, Customer
entity = BillingEntity.objects.create(code="bench", name="Bench", is_default=True, document_number_prefix="BEN")
for n in range(20):
    Customer.objects.create(billing_entity=entity, external_id=f"bench_customer_{n}", name="Bench", currency="USD")
AddOn.objects.create(code="setup_fee", name="Setup fee", amount_cents=50000, amount_currency="USD")
print(ApiKey.issue("bench")[1])
"""


def run_for(seconds: float, clients: int, make_request) -> tuple[int, float, dict]:
    """Call make_request(session) from `clients` threads until time is up; (ok count, elapsed, status counts)."""
    stop_at = time.monotonic() + seconds
    counts, lock = {}, threading.Lock()

    def worker():
        session = requests.Session()
        while time.monotonic() < stop_at:
            try:
                status = make_request(session)
            except requests.RequestException as exc:
                status = type(exc).__name__
            with lock:
                counts[status] = counts.get(status, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts.get(200, 0), time.monotonic() - started, counts


def setup_events(base: str, headers: dict) -> tuple[str | None, str]:
    """Billable metric, plan and subscription through the API; (external_subscription_id or None, note)."""
    steps = [
        ("billable_metrics", {"billable_metric": {"name": "Bench calls", "code": "bench_calls", "aggregation_type": "count_agg"}}),
    ]
    response = requests.post(f"{base}/billable_metrics", json=steps[0][1], headers=headers, timeout=10)
    if response.status_code != 200:
        return None, f"POST /billable_metrics answered {response.status_code}"
    metric_id = response.json()["billable_metric"]["lago_id"]
    plan = {"plan": {"name": "Bench", "code": "bench_plan", "interval": "monthly", "amount_cents": 0, "amount_currency": "USD",
                     "pay_in_advance": False, "charges": [{"billable_metric_id": metric_id, "charge_model": "standard",
                                                           "properties": {"amount": "0.01"}}]}}
    response = requests.post(f"{base}/plans", json=plan, headers=headers, timeout=10)
    if response.status_code != 200:
        return None, f"POST /plans answered {response.status_code}"
    subscription = {"subscription": {"external_customer_id": "bench_customer_0", "plan_code": "bench_plan", "external_id": "bench_sub"}}
    response = requests.post(f"{base}/subscriptions", json=subscription, headers=headers, timeout=10)
    if response.status_code != 200:
        return None, f"POST /subscriptions answered {response.status_code}"
    return "bench_sub", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bc_bench")
    env = django_env(url)
    print(f"database {url.rsplit('/', 1)[1]}: recreating and migrating", flush=True)
    recreate_database(url)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    raw_key = subprocess.run([PYTHON, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "billing_console.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--log-level", "warning"], cwd=ROOT, env=env,
    )
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not start")
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}; {args.clients} client threads, {args.seconds:.0f} s per phase", flush=True)

        events_per_s, events_note = 0.0, ""
        subscription, events_note = setup_events(base, headers)
        if subscription:
            counter = iter(range(10**12))

            def post_batch(session):
                batch = {"events": [{"transaction_id": f"bench-{next(counter)}-{uuid.uuid4().hex[:8]}",
                                     "external_subscription_id": subscription, "code": "bench_calls",
                                     "timestamp": str(int(time.time())), "properties": {}} for _ in range(100)]}
                return session.post(f"{base}/events/batch", data=json.dumps(batch), headers=headers, timeout=30).status_code

            ok, elapsed, counts = run_for(args.seconds, args.clients, post_batch)
            events_per_s = ok * 100 / elapsed
            print(f"events/batch: {ok} batches of 100 in {elapsed:.1f} s, answers {counts}", flush=True)
        else:
            print(f"events/batch: not benchmarked ({events_note})", flush=True)

        upserts = iter(range(10**12))

        def post_customer(session):
            body = json.dumps({"customer": {"external_id": f"bench-{next(upserts)}", "name": "Bench", "currency": "USD"}})
            return session.post(f"{base}/customers", data=body, headers=headers, timeout=30).status_code

        ok, elapsed, counts = run_for(args.seconds, args.clients, post_customer)
        customers_per_s = ok / elapsed
        print(f"customers: {ok} upserted in {elapsed:.1f} s, answers {counts}", flush=True)

        # Spread over 20 customers, as real traffic is: invoice numbers are counted per customer.
        invoices = iter(range(10**12))

        def post_one_off(session):
            body = json.dumps({"invoice": {"external_customer_id": f"bench_customer_{next(invoices) % 20}", "currency": "USD",
                                           "fees": [{"add_on_code": "setup_fee", "units": 1, "unit_amount_cents": 50000}]}})
            return session.post(f"{base}/invoices", data=body, headers=headers, timeout=30).status_code

        ok, elapsed, counts = run_for(args.seconds, args.clients, post_one_off)
        print(f"one-off invoices: {ok} created in {elapsed:.1f} s, answers {counts}", flush=True)
        print(f"customer upserts/s: {customers_per_s:.0f}")
        print(f"events/s: {events_per_s:.0f}")
        print(f"one-off invoices/s: {ok / elapsed:.0f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
