"""A paginator for tables of millions of rows: exact counts up to a cap, an estimate beyond.

COUNT(*) over millions of audit entries costs more than the rest of the page. Up to EXACT_UP_TO rows
the count is exact (COUNT over a LIMITed subquery, so it stops early); beyond that, an unfiltered list on
PostgreSQL reports the planner's estimate (pg_class.reltuples), and anything else reports the cap.
"""
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self):
        queryset = self.object_list
        capped = queryset.order_by()[: EXACT_UP_TO + 1].count()
        if capped <= EXACT_UP_TO:
            return capped
        estimate = _estimated_rows(queryset) if not queryset.query.where else None
        return max(estimate or 0, EXACT_UP_TO + 1)


def _estimated_rows(queryset):
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table])
        row = cursor.fetchone()
    return row[0] if row and row[0] > 0 else None
