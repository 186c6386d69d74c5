"""Starting a bulk finalize job: the rows are written in one transaction, the task queued after commit."""
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from core.queue import enqueue_many

from .models import BulkFinalizeItem, BulkFinalizeJob

RUN_TASK = "closing.tasks.run_bulk_finalize"
CHECK_CHUNK = 500  # ids per IN (...) when looking for overlaps: well below SQLite's variable limit


@dataclass
class Overlap(Exception):
    """Some of the selected invoices belong to a job that is still queued or running: nothing was queued."""

    job: BulkFinalizeJob | None
    count: int

    @property
    def message(self) -> str:
        if self.job is None:
            return ("Another bulk finalize job over the same invoices was queued at the same moment: "
                    "nothing was queued. Open the job list to follow it.")
        return (f"{self.count} of the selected invoices are already being finalized by job #{self.job.pk} "
                f"({self.job.status}, requested by {self.job.requested_by.get_username()}): nothing was queued.")


def start_bulk_finalize(invoice_ids, user) -> BulkFinalizeJob:
    """Create a job for `invoice_ids` (in order, duplicates dropped) and queue its task after commit.

    Raises Overlap when any of them is in a queued or running job. The friendly check reads the
    active items first; the partial unique index on active items is what actually decides a race.
    """
    ids = list(dict.fromkeys(invoice_ids))
    try:
        with transaction.atomic():
            busy = _first_busy(ids)
            if busy is not None:
                raise busy
            job = BulkFinalizeJob.objects.create(requested_by=user, total=len(ids))
            BulkFinalizeItem.objects.bulk_create(
                [BulkFinalizeItem(job=job, invoice_id=pk, position=position) for position, pk in enumerate(ids)],
                batch_size=500,
            )
    except IntegrityError:
        raise Overlap(None, 0)
    # In sync mode (tests) this runs the whole job inline, right after the commit.
    transaction.on_commit(lambda: enqueue_many([(RUN_TASK, (job.pk,), {"task_name": f"bulk-finalize-{job.pk}"})]))
    return job


def _first_busy(ids) -> Overlap | None:
    count, job_id = 0, None
    for start in range(0, len(ids), CHECK_CHUNK):
        rows = BulkFinalizeItem.objects.filter(active=True, invoice_id__in=ids[start:start + CHECK_CHUNK])
        count += rows.count()
        job_id = job_id or rows.values_list("job_id", flat=True).first()
    if not count:
        return None
    return Overlap(BulkFinalizeJob.objects.select_related("requested_by").get(pk=job_id), count)
