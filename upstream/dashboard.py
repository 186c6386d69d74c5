"""The sync runs on the close dashboard: a panel added through `invoices.dashboard.add_panel` (in
UpstreamConfig.ready), shown in upstream mode only (standalone: not built, no query, nothing rendered).

The last successful full run (when, its age, its counts), and the latest full run when it is not that one:
failed (its errors) or still running. One query when the latest run succeeded, two otherwise.
"""
from django.urls import reverse
from django.utils.timesince import timesince

from .models import SyncRun

TEMPLATE = "admin/upstream/_dashboard_sync.html"


def _run(run: SyncRun | None, now) -> dict | None:
    if run is None:
        return None
    return {"run": run, "age": timesince(run.started_at, now), "counts": sorted(run.counts.items()), "errors": run.errors,
            "url": reverse("admin:upstream_syncrun_change", args=[run.pk])}


def sync_panel(now) -> dict:
    latest = SyncRun.objects.filter(kind=SyncRun.Kind.FULL).order_by("-started_at").first()
    successful = latest if latest is not None and latest.ok else SyncRun.last_successful()
    return {"last_successful": _run(successful, now),
            "latest_failed": _run(latest, now) if latest is not None and latest.finished_at and latest.errors else None,
            "running": _run(latest, now) if latest is not None and latest.finished_at is None else None,
            "runs_url": reverse("admin:upstream_syncrun_changelist")}
