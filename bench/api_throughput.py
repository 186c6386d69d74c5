"""Throughput of the REST API under gunicorn on PostgreSQL.

    python bench/api_throughput.py [--seconds 15] [--workers CPUS+1] [--clients CPUS+1]

Creates (drops first) its own database `bc_bench` on the PostgreSQL of BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/bc_bench), migrates it, seeds a billing entity,
a customer, an add-on and an API key, starts gunicorn on 127.0.0.1, then for a fixed time:
  1. POST /api/v1/events/batch with 100 events per request (after creating a billable metric,
     a plan with a charge and a subscription through the API), and
  2. POST /api/v1/customers (upserts of new customers, a baseline of one audited, webhooked write), and
  3. POST /api/v1/invoices (one-off invoices of one add-on fee).
The load comes from --clients processes, each with one keep-alive connection, sending bodies
built as text, so that the load generator is not what is measured. Only loopback traffic, bounded in time. The last two lines are `events/s: N` and `one-off invoices/s: N`.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
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
entity = BillingEntity.objects.get(is_default=True)  # created by migrate
entity.name, entity.document_number_prefix = "Bench", "BEN"
entity.save()
for n in range(20):
    Customer.objects.create(billing_entity=entity, external_id=f"bench_customer_{n}", name="Bench", currency="USD")
AddOn.objects.create(code="setup_fee", name="Setup fee", amount_cents=50000, amount_currency="USD")
print(ApiKey.issue("bench")[1])
"""


def run_for(seconds: float, clients: int, target: tuple, make_body) -> tuple[int, float, dict]:
    """POST make_body(client, n) from `clients` processes (keep-alive http.client) until time is up.

    Processes, not threads: one Python process building and sending requests would be the
    bottleneck (the GIL), not the server. Returns (200 count, elapsed, answers by status).
    """
    host, port, path, headers = target
    stop_at = time.monotonic() + seconds
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.starmap(_client_loop, [(host, port, path, headers, make_body, n, stop_at) for n in range(clients)])
    counts = {}
    for result in results:
        for status, count in result.items():
            counts[status] = counts.get(status, 0) + count
    return counts.get(200, 0), time.monotonic() - started, counts


def _client_loop(host, port, path, headers, make_body, client, stop_at) -> dict:
    counts, n = {}, 0
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while time.monotonic() < stop_at:
        body = make_body(client, n)
        n += 1
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        counts[status] = counts.get(status, 0) + 1
    conn.close()
    return counts


RUN = str(os.getpid())


def event_batch(client: int, n: int) -> bytes:
    """100 events with unique transaction ids, built as text (json.dumps would cost the load generator more)."""
    stamp = int(time.time())
    items = ",".join(
        f'{{"transaction_id":"b{RUN}-{client}-{n}-{i}","external_subscription_id":"bench_sub","code":"bench_calls",'
        f'"timestamp":"{stamp}","properties":{{"region":"eu"}}}}' for i in range(100))
    return f'{{"events":[{items}]}}'.encode()


def customer_upsert(client: int, n: int) -> bytes:
    return json.dumps({"customer": {"external_id": f"bench-{client}-{n}", "name": "Bench", "currency": "USD"}}).encode()


def one_off_invoice(client: int, n: int) -> bytes:
    # Spread over 20 customers, as real traffic is: invoice numbers are counted per customer.
    return json.dumps({"invoice": {"external_customer_id": f"bench_customer_{(client * 7 + n) % 20}", "currency": "USD",
                                   "fees": [{"add_on_code": "setup_fee", "units": 1, "unit_amount_cents": 50000}]}}).encode()


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
    # One worker per core and one more: the load generator and PostgreSQL share the same cores.
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1)
    parser.add_argument("--clients", type=int, default=(os.cpu_count() or 2) + 1, help="client processes, each with one keep-alive connection")
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
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}; {args.clients} client processes, {args.seconds:.0f} s per phase", flush=True)

        target = lambda path: ("127.0.0.1", port, f"/api/v1/{path}", headers)  # noqa: E731
        events_per_s, events_note = 0.0, ""
        subscription, events_note = setup_events(base, headers)
        if subscription:
            ok, elapsed, counts = run_for(args.seconds, args.clients, target("events/batch"), event_batch)
            events_per_s = ok * 100 / elapsed
            print(f"events/batch: {ok} batches of 100 in {elapsed:.1f} s, answers {counts}", flush=True)
        else:
            print(f"events/batch: not benchmarked ({events_note})", flush=True)

        ok, elapsed, counts = run_for(args.seconds, args.clients, target("customers"), customer_upsert)
        customers_per_s = ok / elapsed
        print(f"customers: {ok} upserted in {elapsed:.1f} s, answers {counts}", flush=True)

        ok, elapsed, counts = run_for(args.seconds, args.clients, target("invoices"), one_off_invoice)
        print(f"one-off invoices: {ok} created in {elapsed:.1f} s, answers {counts}", flush=True)
        print(f"customer upserts/s: {customers_per_s:.0f}")
        print(f"events/s: {events_per_s:.0f}")
        print(f"one-off invoices/s: {ok / elapsed:.0f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
