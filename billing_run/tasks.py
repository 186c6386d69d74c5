"""What the billing run's django-q2 schedule calls (`billing_run.tasks.run_billing`).

Each run is recorded as an `invoices.models.TaskRun` (subscriptions that got an invoice, invoices created,
finalized, closed; the error if it stopped), which the close dashboard shows.
"""
import logging

from django.db import transaction
from django.utils import timezone

from invoices.models import TaskRun

from .billing import run_billing as run
from .termination import terminate_ended_subscriptions

logger = logging.getLogger(__name__)


def run_billing(now=None):
    """Subscriptions whose `ending_at` has passed are terminated first, so their final period is billed now."""
    record = TaskRun(kind=TaskRun.Kind.BILLING_RUN, started_at=timezone.now())
    try:
        terminate_ended_subscriptions(now)
        result = run(now)
    except Exception as error:
        record.error = f"{type(error).__name__}: {error}"[:2000]
        raise
    else:
        record.subscriptions, record.created = result.subscriptions, result.created
        record.finalized, record.closed = result.finalized, result.closed
        return result
    finally:
        record.finished_at = None if record.error else timezone.now()
        try:
            with transaction.atomic():
                record.save()
        except Exception:
            logger.exception("Could not record the billing run.")
