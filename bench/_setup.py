"""Shared bench setup: a dedicated PostgreSQL database, created afresh and migrated."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_on_fresh_database(name: str, *, reuse: bool = False) -> bool:
    """Drop and create database `name` on the server of BENCH_DATABASE_URL, then set up Django on it (migrated).

    With `reuse`, an existing database is kept (only migrated): returns True when it was kept.
    """
    import psycopg

    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        kept = reuse and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if not kept:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{base}/{name}".replace("postgresql://", "postgres://", 1)
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "billing_console.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return kept


def peak_rss_mib() -> float:
    """The process's resident-set high-water mark (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    """Reset VmHWM so the next reading covers only what follows (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
