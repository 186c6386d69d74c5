"""The usage watermark: a version per external_subscription_id, advanced by each ingestion.

    advance(external_subscription_ids)   inside the ingesting transaction
    versions(external_subscription_ids)  -> {external_subscription_id: version} (0 when never advanced)

One upsert per ingestion, `INSERT … ON CONFLICT (external_subscription_id) DO UPDATE SET version =
version + 1`: the same statement on PostgreSQL and on SQLite (3.24+), so there is one path. Rows are
sent in sorted order, so two concurrent batches lock their shared rows in one order (no deadlock).
"""
from django.db import connection

from core.prepared import Prepared

from .models import UsageWatermark

_TABLE = UsageWatermark._meta.db_table


def _versions(watermarks):
    return watermarks.values_list("external_subscription_id", "version")


_VERSION_OF_ONE = Prepared(lambda key: _versions(UsageWatermark.objects.filter(external_subscription_id=key)),
                           UsageWatermark._meta.get_field("external_subscription_id"))


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
    if len(keys) == 1:  # one draft's (finalizing one invoice): the statement compiled once
        found = dict(_VERSION_OF_ONE.rows(*keys))
    else:
        found = dict(_versions(UsageWatermark.objects.filter(external_subscription_id__in=keys)))
    return {key: found.get(key, 0) for key in keys}
