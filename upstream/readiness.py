"""Upstream mode's readiness checks, registered into invoices.readiness from apps.py.

Seed 001's prerequisite, "the corresponding Lago customer and Lago subscription have already synced —
confirm via the most recent sync run", as two warnings on a mirrored draft:
- `changed_upstream`: a sync found the draft, its customer or a subscription of its customer changed in Lago since
  the sync before (review it again); the message says which;
- `stale_sync`: the mirror is older than the most recent finished full sync run (that run failed or stopped
  before it), or older than two sync intervals (the schedule is not running).
Standalone both are a condition no row meets, with no join.
"""
from datetime import timedelta

from django.db.models import Q, Subquery
from django.utils import timezone

from invoices import readiness

from . import config
from .models import InvoiceMirror, SyncRun

NO_ROW = Q(pk__isnull=True)


def stale_before():
    return timezone.now() - timedelta(minutes=2 * config.sync_interval_minutes())


def _changed_upstream() -> Q:
    if not config.enabled():
        return NO_ROW
    return (Q(mirror__changed_upstream_at__isnull=False) | Q(mirror__customer_changed_at__isnull=False)
            | Q(mirror__subscription_changed_at__isnull=False))


def _stale_sync() -> Q:
    if not config.enabled():
        return NO_ROW
    last_start = SyncRun.objects.filter(kind=SyncRun.Kind.FULL, finished_at__isnull=False).order_by("-started_at").values("started_at")[:1]
    return Q(mirror__synced_at__lt=stale_before()) | Q(mirror__synced_at__lt=Subquery(last_start))


def _mirror_details(invoice) -> dict:
    mirror = InvoiceMirror.objects.get(pk=invoice.pk)
    last = SyncRun.objects.filter(kind=SyncRun.Kind.FULL, finished_at__isnull=False).order_by("-started_at").first()
    if last and mirror.synced_at < last.started_at:
        outcome = f"failed: {last.errors[0]['message']}" if last.errors else "did not reach it"
        reason = f"the most recent sync run, at {last.started_at:%Y-%m-%d %H:%M:%S}, {outcome}"
    else:
        reason = f"more than {2 * config.sync_interval_minutes()} minutes (two sync intervals) ago"
    changes = mirror.changes()
    return {"synced_at": f"{mirror.synced_at:%Y-%m-%d %H:%M:%S}", "reason": reason,
            "changed": ", ".join(f"its {what} (found at {when:%Y-%m-%d %H:%M:%S})" for what, when in changes)}


def register() -> None:
    readiness.register(
        "changed_upstream", _changed_upstream,
        "Lago changed this draft since the previous sync run: {changed}. Review it again (customer, fees, taxes).",
        _mirror_details)
    readiness.register(
        "stale_sync", _stale_sync,
        "Stale sync: last synced from Lago at {synced_at}; {reason}. Run manage.py sync_lago (or wait for the next "
        "sync) before finalizing.",
        _mirror_details)
