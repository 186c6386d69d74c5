"""Queueing django-q2 tasks: with the change that causes them, or after its commit, in bulk.

The ORM broker inserts one row per task. Inside the change's transaction (`enqueue_with_transaction`,
when that broker writes to the transaction's own database) the rows commit with the change: one
commit, the worker sees them only then, and a rollback takes them away. Otherwise they are queued
after commit (`enqueue_many`): one by one in autocommit mode each would be its own commit (and
fsync), so they share one transaction. In sync mode (tests) tasks run as they are queued, so never
inside the change's transaction and its locks, and nothing is wrapped: a failing task must not roll
back what the others wrote.
"""
import logging
from contextlib import nullcontext

from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
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


def queues_in_transaction(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True when a task queued now is a row of the open transaction on `using`: django-q2's ORM broker
    writes to that database, and not in sync mode (where the task would run at once, inside the change)."""
    return (not Conf.SYNC and Conf.ORM == using and transaction.get_connection(using).in_atomic_block
            and isinstance(get_broker(), ORM))


def enqueue_in_transaction(tasks) -> list:
    """Queue each (func, args, options) as a row of the open transaction (`queues_in_transaction()` holds).

    Returns, per task in order, its task id, or None when it could not be packed (logged). A database
    error is the transaction's own, as for any of its writes: it propagates and the change rolls back.
    """
    broker = get_broker()
    results = []
    for func, args, options in tasks:
        try:
            results.append(async_task(func, *args, broker=broker, **options))
        except DatabaseError:
            raise
        except Exception:
            logger.exception("Task %s%r was not queued", func, tuple(args))
            results.append(None)
    return results


def enqueue_with_transaction(tasks) -> None:
    """Queue `tasks` so that the worker sees them once the caller's transaction commits, never if it rolls back.

    In the transaction itself where the broker allows it (`queues_in_transaction`: one commit for the
    change and its tasks); else after commit with `enqueue_many` (sync mode, another broker).
    """
    tasks = list(tasks)
    if not tasks:
        return
    if queues_in_transaction():
        enqueue_in_transaction(tasks)
    else:
        transaction.on_commit(lambda: enqueue_many(tasks))


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
