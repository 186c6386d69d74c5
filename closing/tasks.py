"""The bulk finalize job's task (django-q2): finalize its drafts in batches, each batch its own transaction.

As the grace-period sweep does, a batch goes through `finalize_invoices`, and a batch that
fails is retried one draft at a time, so one bad draft (logged, left a draft) cannot hold
back the others. Each batch records its items' outcomes and the job's counts in the same
transaction as the finalizations, so a crashed worker loses at most the batch in flight and
a retried task resumes with the items still pending. The actor is the operator who asked,
through the admin: every invoice keeps its own audit entry, as if finalized one by one.
"""
import logging

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.actors import Actor
from core.gc_pause import run_paused
from invoices.transitions.finalization import CLOSED, FINALIZED, Outcome, finalize_invoices

from .models import BulkFinalizeItem, BulkFinalizeJob

BATCH_SIZE = 200
ERROR = BulkFinalizeItem.Outcome.ERROR
logger = logging.getLogger(__name__)


def run_bulk_finalize(job_id, *, batch_size: int = BATCH_SIZE) -> str:
    """Run (or resume) job `job_id`; returns its final status. A finished job is left as it is."""
    job_id = int(job_id)  # task arguments may arrive as strings
    Status = BulkFinalizeJob.Status
    claimed = BulkFinalizeJob.objects.filter(pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.RUNNING, started_at=Coalesce(F("started_at"), Value(timezone.now(), output_field=DateTimeField())),
    )
    job = BulkFinalizeJob.objects.select_related("requested_by").get(pk=job_id)
    if not claimed:
        return job.status
    actor = Actor.bulk_operator(job.requested_by)
    try:
        while run_paused(_run_batch, job_id, actor, batch_size):  # collected after the batch commits and its frame is gone
            pass
    except Exception as error:
        logger.exception("Bulk finalize job %s failed.", job_id)
        _finish(job_id, Status.FAILED, f"{type(error).__name__}: {error}")
        return Status.FAILED
    _finish(job_id, Status.DONE)
    return Status.DONE


def _run_batch(job_id, actor, batch_size) -> bool:
    """Finalize the next pending items; False when none is left."""
    with transaction.atomic():
        # The job row is the job's lock: two workers running one job (a retry) take turns, batch by batch.
        BulkFinalizeJob.objects.select_for_update().get(pk=job_id)
        items = list(BulkFinalizeItem.objects.filter(job_id=job_id, outcome=BulkFinalizeItem.Outcome.PENDING)
                     .order_by("position")[:batch_size])
        if not items:
            return False
        ids = [item.invoice_id for item in items]
        try:
            with transaction.atomic():
                outcomes = finalize_invoices(ids, actor)
        except (OperationalError, InterfaceError):
            raise  # the database itself is in trouble: the job fails, its committed batches stay
        except Exception:
            logger.exception("A batch of bulk finalize job %s failed; finalizing its drafts one by one.", job_id)
            outcomes = _one_by_one(ids, actor)
        _record(job_id, items, outcomes)
    return True


def _one_by_one(ids, actor) -> list[Outcome]:
    outcomes = []
    for pk in ids:
        try:
            with transaction.atomic():
                outcomes.extend(finalize_invoices([pk], actor))
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            logger.exception("Draft %s could not be finalized; it stays a draft.", pk)
            outcomes.append(Outcome(pk, ERROR))
    return outcomes


def _record(job_id, items, outcomes) -> None:
    counts = {FINALIZED: 0, CLOSED: 0, "refused": 0}
    for item, outcome in zip(items, outcomes):
        item.outcome = outcome.result
        item.number = outcome.invoice.number if outcome.result == FINALIZED else ""
        counts[outcome.result if outcome.ok else "refused"] += 1
    BulkFinalizeItem.objects.bulk_update(items, ["outcome", "number"], batch_size=500)
    BulkFinalizeJob.objects.filter(pk=job_id).update(
        finalized=F("finalized") + counts[FINALIZED], closed=F("closed") + counts[CLOSED],
        refused=F("refused") + counts["refused"],
    )


def _finish(job_id, status, error="") -> None:
    with transaction.atomic():
        BulkFinalizeJob.objects.filter(pk=job_id).update(status=status, error=error, finished_at=timezone.now())
        # The drafts are free for another job (the partial unique index only counts active items).
        BulkFinalizeItem.objects.filter(job_id=job_id, active=True).update(active=None)
