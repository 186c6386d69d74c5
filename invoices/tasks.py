"""Scheduled work (django-q2): finalize drafts whose grace period ended, flag overdue invoices.

Each unit of work is its own transaction, so a crash mid-run loses nothing: the next run
picks up what is left.
"""
import logging
import uuid

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from core.gc_pause import run_paused
from webhooks import outbox

from .transitions import overdue
from .transitions.finalization import CLOSED, FINALIZED, finalize_invoices
from .models import Invoice, TaskRun

BATCH_SIZE = 500
logger = logging.getLogger(__name__)


def finalize_due_invoices(now=None, *, batch_size: int = BATCH_SIZE, on_batch=None) -> int:
    """Finalize every draft whose grace period has ended at `now`; returns how many were finalized or closed.

    Each run is recorded as a `TaskRun` (finalized, closed, failed; the error if it stopped), which the
    close dashboard shows.

    Drafts are claimed with SELECT ... FOR UPDATE SKIP LOCKED, a batch per transaction:
    two sweeps never take the same draft, and a crash loses at most the batch in flight.
    A batch that fails is retried one draft at a time, so one bad draft (logged, left a
    draft) cannot hold back the others.
    """
    now = now or timezone.now()
    run = TaskRun(kind=TaskRun.Kind.FINALIZE_SWEEP, started_at=timezone.now())
    failed: set = set()

    def tally(outcomes):
        for outcome in outcomes:
            if outcome.result == FINALIZED:
                run.finalized += 1
            elif outcome.result == CLOSED:
                run.closed += 1
        if on_batch:
            on_batch(outcomes)

    try:
        return _sweep(now, batch_size, tally, failed)
    except Exception as error:
        run.error = f"{type(error).__name__}: {error}"[:2000]
        raise
    finally:
        run.failed = len(failed)
        run.finished_at = None if run.error else timezone.now()
        _record(run)


def _record(run: TaskRun) -> None:
    try:
        with transaction.atomic():
            run.save()
    except Exception:  # the record is for the dashboard: never let it hide the run's own outcome
        logger.exception("Could not record the %s run.", run.kind)


def _sweep(now, batch_size, on_batch, failed: set) -> int:
    actor = Actor.system("task")
    done = 0
    while True:
        finished = run_paused(_batch, now, batch_size, actor, on_batch, failed)
        if finished is None:
            return done
        done += finished
        if not finished and not failed:
            return done


def _batch(now, batch_size, actor, on_batch, failed: set) -> int | None:
    """Claim and finalize one batch in its own transaction; how many it finalized or closed (None: nothing was due)."""
    ids = []
    try:
        with transaction.atomic():
            ids = _claim(now, batch_size, failed)
            if not ids:
                return None
            outcomes = finalize_invoices(ids, actor, now=now, skip_locked=True)
    except (OperationalError, InterfaceError):
        raise  # the database itself is in trouble: let the task fail and be retried
    except Exception:
        logger.exception("A finalization batch failed; finalizing its drafts one by one.")
        outcomes = _one_by_one(ids, actor, now, failed)
    on_batch(outcomes)
    return sum(1 for outcome in outcomes if outcome.ok)


def _claim(now, batch_size, failed) -> list:
    return list(
        Invoice.objects.due(now).exclude(pk__in=failed).select_for_update(skip_locked=True)
        .order_by("grace_period_ends_at", "pk").values_list("pk", flat=True)[:batch_size]
    )


def _one_by_one(ids, actor, now, failed: set) -> list:
    outcomes = []
    for pk in ids:
        try:
            with transaction.atomic():
                outcomes.extend(finalize_invoices([pk], actor, now=now, skip_locked=True))
        except Exception:
            logger.exception("Draft %s could not be finalized; it stays a draft.", pk)
            failed.add(pk)
    return outcomes


def finalize_invoice_ids(invoice_ids) -> list:
    """Finalize given drafts now (queued when a shorter grace period made them due)."""
    ids = [uuid.UUID(str(pk)) for pk in invoice_ids]  # task arguments arrive as strings
    with transaction.atomic():
        return [outcome.result for outcome in finalize_invoices(ids, Actor.system("task"))]


def mark_overdue_invoices(now=None) -> tuple[int, int]:
    """Flag finalized invoices still unpaid past their due date; clear the flag on paid ones. (flagged, cleared).

    The flag itself is written by `invoices/transitions/overdue.py`; this task adds the audit entries and webhook events.
    """
    now = now or timezone.now()
    actor = Actor.system("task")
    with transaction.atomic():
        flagged = overdue.flag_due(now)
        audit_log.record_many([
            audit_log.entry("invoice.payment_overdue", actor, invoice=i, obj=i, before={"payment_overdue": False}, after={"payment_overdue": True})
            for i in flagged
        ])
        outbox.record_many([outbox.event("invoice.payment_overdue", i) for i in flagged])
        cleared = overdue.clear_settled()
    return len(flagged), cleared
