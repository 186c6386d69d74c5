"""Two first callers of one new counter (sequences/models.py): the one whose INSERT loses waits, then advances it.

PostgreSQL creates a missing counter already advanced (INSERT … ON CONFLICT DO NOTHING RETURNING); a
transaction that finds the row created by another one meanwhile gets nothing back from its INSERT and must
take its values from the row as the other left it: gapless, no value twice.
"""
import threading

import pytest
from django.db import connection, transaction

from sequences.models import Sequence, take_next_many

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_the_second_creator_of_a_new_counter_continues_after_the_first():
    first_inserted, release = threading.Event(), threading.Event()
    taken, errors = {}, []

    def first():
        try:
            with transaction.atomic():
                taken["first"] = take_next_many({"race:new": 2}, initial=lambda missing: {key: 10 for key in missing})
                first_inserted.set()
                release.wait(10)  # hold the new row (and its lock) until the second caller is waiting on it
        except Exception as exc:
            errors.append(exc)
        finally:
            first_inserted.set()
            connection.close()

    def second():
        try:
            first_inserted.wait(10)
            with transaction.atomic():
                taken["second"] = take_next_many({"race:new": 1}, initial=lambda missing: {key: 10 for key in missing})
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    threads[1].join(0.5)  # the second caller's INSERT now waits for the first transaction
    assert threads[1].is_alive(), "the second caller did not wait for the first one's new row"
    release.set()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert taken == {"first": {"race:new": [11, 12]}, "second": {"race:new": [13]}}
    assert Sequence.objects.get(key="race:new").last_value == 13
