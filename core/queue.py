"""Queueing django-q2 tasks after commit, in bulk.

The ORM broker inserts one row per task; queued one by one in autocommit mode,
each is its own commit (and fsync). Queued together they share one commit. In
sync mode (tests) tasks run inline, so nothing is wrapped: a failing task must
not roll back what the others wrote.
"""
import logging
from contextlib import nullcontext

from django.db import transaction
from django_q.conf import Conf
from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def enqueue_many(tasks) -> list:
    """Queue each (func, args, options) of `tasks` as async_task(func, *args, **options), in one transaction.

    Called after the change committed: a task that cannot be queued (or, in sync
    mode, fails while running) is logged and never reaches whoever made the change.
    Returns, per task in order, its task id, or None when it was not queued.
    """
    results = []
    with nullcontext() if Conf.SYNC else transaction.atomic():
        for func, args, options in tasks:
            try:
                results.append(async_task(func, *args, **options))
            except Exception:
                logger.exception("Task %s%r was not queued", func, tuple(args))
                results.append(None)
    return results


def run_each(func, ids, what: str) -> dict:
    """A grouped task's body: func(id) for every id, then raise if any failed so the cluster retries the group.

    One failure does not stop the others; each func records its own failure where an operator sees it.
    """
    results, failed = {}, []
    for item_id in ids:
        try:
            results[str(item_id)] = func(item_id)
        except Exception:
            failed.append(str(item_id))
    if failed:
        raise RuntimeError(f"{what} failed for {', '.join(failed)}; see their pdf_error.")
    return results
