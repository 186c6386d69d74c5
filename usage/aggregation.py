"""Aggregating events in the database: one query per charge (and filter), over the composite index."""
from decimal import Decimal

from django.db.models import Count, DecimalField, Max, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from .models import Event


def aggregate_units(metric, external_subscription_id: str, start, end, *, include: dict | None = None,
                    exclude: list[dict] = ()) -> tuple[Decimal, int]:
    """(units, events_count) of `metric` for events with start <= timestamp <= end.

    `include` ({"region": ["eu"]}) keeps events matching every key; `exclude` drops events
    matching any of those filters (a charge's own fee counts events no filter took).
    """
    found = aggregate_units_many(metric, [external_subscription_id], start, end, include=include, exclude=exclude)
    return found.get(external_subscription_id, (Decimal(0), 0))


def aggregate_units_many(metric, external_subscription_ids, start, end, *, include: dict | None = None,
                         exclude: list[dict] = ()) -> dict[str, tuple[Decimal, int]]:
    """aggregate_units for many subscriptions sharing a period: one GROUP BY query."""
    events = Event.objects.filter(
        external_subscription_id__in=list(external_subscription_ids), code=metric.code, timestamp__gte=start, timestamp__lte=end
    )
    if include:
        events = events.filter(_matches(include))
    for other in exclude:
        events = events.exclude(_matches(other))
    value = Cast(KeyTextTransform(metric.field_name, "properties"), DecimalField(max_digits=40, decimal_places=15)) if metric.field_name else None
    aggregation = {
        "count": Count("id"),
        "sum": Sum(value),
        "max": Max(value),
        "unique_count": Count(KeyTextTransform(metric.field_name, "properties"), distinct=True),
    }[metric.aggregation]
    rows = events.order_by().values("external_subscription_id").annotate(units=aggregation, events=Count("id"))
    return {row["external_subscription_id"]: (Decimal(row["units"] or 0), row["events"]) for row in rows}


def _matches(values: dict) -> Q:
    q = Q()
    for key, allowed in values.items():
        # has_key first: without it, NOT (NULL IN (...)) would drop events lacking the key from `exclude`.
        q &= Q(properties__has_key=key) & Q(**{f"properties__{key}__in": list(allowed)})
    return q
