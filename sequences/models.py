"""Gapless counters, one row per scope, taken under a row lock.

Invoice numbers must be unique and gapless even when several operators and
workers finalize at once. An unlocked max()+1 (what silver does) races; a
locked counter row inside the finalizing transaction does not, and a rollback
gives the number back.
"""
from django.db import models, transaction


class Sequence(models.Model):
    key = models.CharField(max_length=200, unique=True)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "sequence"

    def __str__(self):
        return f"{self.key} = {self.last_value}"


def take_next(key: str, count: int = 1, *, initial=None) -> list[int]:
    """Reserve `count` consecutive values of the counter `key`; the caller must be in a transaction.

    `initial` (a callable) seeds a counter created for the first time, e.g. with
    how many documents were already numbered before this scheme was switched on.
    The row lock is held until the caller's transaction ends, which is what
    makes the values gapless: a rollback releases them unused.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_next() must run inside transaction.atomic().")
    if count < 1:
        return []
    # INSERT ... ON CONFLICT DO NOTHING: two first-time callers cannot both create the row.
    if not Sequence.objects.filter(key=key).exists():
        seed = initial() if initial else 0
        Sequence.objects.bulk_create([Sequence(key=key, last_value=seed)], ignore_conflicts=True)
    row = Sequence.objects.select_for_update().get(key=key)
    first = row.last_value + 1
    row.last_value += count
    row.save(update_fields=["last_value"])
    return list(range(first, first + count))


def uses_postgres_fast_path() -> bool:
    """True where one UPDATE … FROM unnest() locks and advances the counters (tests patch it to False)."""
    return transaction.get_connection().vendor == "postgresql"


def take_next_many(counts: dict[str, int], *, initial=None) -> dict[str, list[int]]:
    """take_next for many counters at once (a finalization batch): a few queries instead of a few per key.

    `initial(missing_keys) -> {key: seed}` seeds counters created for the first time. Rows are
    locked in key order, like concurrent single-key callers that sort their keys, so no deadlock.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_next_many() must run inside transaction.atomic().")
    keys = sorted(key for key, count in counts.items() if count > 0)
    if not keys:
        return {}
    if uses_postgres_fast_path():
        taken = _increment(keys, counts)  # one round trip while the counters exist (nearly always)
        missing = [key for key in keys if key not in taken]
        if missing:
            taken.update(_create_taken(missing, counts, initial(missing) if initial else {}))
            raced = [key for key in missing if key not in taken]  # created by a concurrent first caller meanwhile
            if raced:
                taken.update(_increment(raced, counts))
        return taken
    existing = set(Sequence.objects.filter(key__in=keys).values_list("key", flat=True))
    missing = [key for key in keys if key not in existing]
    if missing:
        seeds = initial(missing) if initial else {}
        Sequence.objects.bulk_create([Sequence(key=key, last_value=seeds.get(key, 0)) for key in missing], ignore_conflicts=True)
    rows = list(Sequence.objects.select_for_update().filter(key__in=keys).order_by("key"))
    taken = {}
    for row in rows:
        first = row.last_value + 1
        row.last_value += counts[row.key]
        taken[row.key] = list(range(first, first + counts[row.key]))
    Sequence.objects.bulk_update(rows, ["last_value"], batch_size=200)
    return taken


def _increment(keys: list[str], counts: dict[str, int]) -> dict[str, list[int]]:
    """Lock (in key order) and advance the existing counters among `keys` in one PostgreSQL statement."""
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            "WITH locked AS (SELECT id, key FROM sequences_sequence WHERE key = ANY(%s) ORDER BY key FOR UPDATE) "
            "UPDATE sequences_sequence AS s SET last_value = s.last_value + v.n "
            "FROM locked JOIN unnest(%s::text[], %s::bigint[]) AS v(key, n) ON v.key = locked.key "
            "WHERE s.id = locked.id RETURNING s.key, s.last_value",
            [keys, keys, [counts[key] for key in keys]],
        )
        return {key: list(range(last - counts[key] + 1, last + 1)) for key, last in cursor.fetchall()}


def _create_taken(keys: list[str], counts: dict[str, int], seeds: dict[str, int]) -> dict[str, list[int]]:
    """Create the missing counters among `keys` already advanced past their seeds by `counts` (one PostgreSQL
    INSERT … ON CONFLICT DO NOTHING RETURNING): the values of the rows this transaction created, which it holds
    locked until it ends. A key another transaction created meanwhile is not returned: advance it (`_increment`)."""
    values = ", ".join(["(%s, %s)"] * len(keys))
    params = [value for key in keys for value in (key, seeds.get(key, 0) + counts[key])]
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            f"INSERT INTO sequences_sequence (key, last_value) VALUES {values} ON CONFLICT (key) DO NOTHING RETURNING key, last_value",
            params,
        )
        return {key: list(range(last - counts[key] + 1, last + 1)) for key, last in cursor.fetchall()}
