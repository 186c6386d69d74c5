"""django-q2 tasks of upstream mode (module-level functions named by dotted path)."""
from . import config, sync


def sync_from_lago() -> dict:
    if not config.enabled():
        return {"skipped": "standalone mode"}
    run = sync.run_full_sync(trigger="schedule")
    return {"run": run.pk, "counts": run.counts, "errors": run.errors}


def sync_one_invoice(invoice_id: str, trigger: str = "webhook") -> int:
    return sync.sync_invoice(invoice_id, trigger=trigger).pk
