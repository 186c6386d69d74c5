"""Database helpers shared by every app. Imports Django only, never an app (a kernel module)."""
from django.db.models import QuerySet


def as_prefetched(model, items) -> QuerySet:
    """What prefetch_related would store for `items`, without building a filtered queryset per object.

    Relies on two QuerySet internals (`_result_cache`, `_prefetch_done`); tests/test_dbutils.py pins them.
    """
    queryset = QuerySet(model=model)
    queryset._result_cache = items
    queryset._prefetch_done = True
    return queryset
