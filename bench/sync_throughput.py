"""Invoices mirrored per second by a full sync run from a standalone upstream.

    python bench/sync_throughput.py [--invoices 10000]

Starts this project standalone as the upstream (its own SQLite file, gunicorn on 127.0.0.1, an API key
from `manage.py create_api_key`, invoices seeded by bench/upstream_seed.py), then runs `manage.py
sync_lago` in upstream mode on a second SQLite file (CONSOLE_DATABASE_URL to use PostgreSQL instead).
Prints `invoices mirrored/s: N` (first run) and the unchanged re-sync's rate.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.upstream_support import PYTHON, ROOT, Upstream  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10000)
    args = parser.parse_args()
    upstream = Upstream().start()
    try:
        started = time.monotonic()
        upstream.seed(args.invoices, drafts=args.invoices // 20, prefix="bench", grace_days=3)
        print(f"upstream: {args.invoices} invoices seeded in {time.monotonic() - started:.1f} s", flush=True)
        console_dir = tempfile.mkdtemp(prefix="bc-console-")
        env = {**upstream.env, "DATABASE_URL": os.environ.get("CONSOLE_DATABASE_URL", f"sqlite:///{console_dir}/console.sqlite3"),
               "LAGO_API_URL": upstream.url, "LAGO_API_KEY": upstream.key, "LAGO_TIMEOUT_SECONDS": "60"}
        subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        for label in ("first sync", "re-sync (unchanged)"):
            started = time.monotonic()
            out = subprocess.run([PYTHON, "manage.py", "sync_lago"], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
            elapsed = time.monotonic() - started
            print(f"{label}: {elapsed:.1f} s; {out.strip()}", flush=True)
            print(f"{label} invoices mirrored/s: {args.invoices / elapsed:.0f}", flush=True)
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()
