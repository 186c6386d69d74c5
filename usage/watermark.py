"""The usage watermark: a version per external_subscription_id, advanced by each ingestion.

    advance(external_subscription_ids)   inside the ingesting transaction
    versions(external_subscription_ids)  -> {external_subscription_id: version} (0 when never advanced)

One upsert per ingestion, `INSERT … ON CONFLICT (external_subscription_id) DO UPDATE SET version =
version + 1`: the same statement on PostgreSQL and on SQLite (3.24+), so there is one path. Rows are
sent in sorted order, so two concurrent batches lock their shared rows in one order (no deadlock).
"""
from django.db import connection

from .models import UsageWatermark

_TABLE = UsageWatermark._meta.db_table


def advance(external_subscription_ids) -> None:
    keys = sorted(set(external_subscription_ids))
    if not keys:
        return
    values = ", ".join(["(%s, 1)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (external_subscription_id, version) VALUES {values} "
            f"ON CONFLICT (external_subscription_id) DO UPDATE SET version = {_TABLE}.version + 1",
            keys,
        )


def versions(external_subscription_ids) -> dict:
    keys = set(external_subscription_ids)
    if not keys:
        return {}
    found = dict(UsageWatermark.objects.filter(external_subscription_id__in=keys).values_list("external_subscription_id", "version"))
    return {key: found.get(key, 0) for key in keys}
