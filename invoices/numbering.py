"""Invoice numbers, assigned only when an invoice is finalized.

Drafts and closed invoices carry `<prefix>-DRAFT`. A finalized invoice gets
both counters Lago keeps, from locked rows in `sequences` (gapless, unique
under concurrency, released by a rollback):
- per customer:       <prefix>-<customer seq %03d>-<invoice seq %03d>
- per billing entity: <prefix>-<YYYYMM>-<entity seq %03d>, YYYYMM the finalization month in
  the billing entity's time zone; the counter never resets.
The entity's `document_numbering` picks which of the two makes the number.
"""
import zoneinfo
from collections import defaultdict
from datetime import datetime

from django.db.models import Count

from core.prepared import Prepared
from sequences.models import take_next_many

from .models import Invoice


def _customer_key(invoice: Invoice) -> str:
    return f"invoice:{invoice.billing_entity_id}:customer:{invoice.customer_id}"


def _entity_key(invoice: Invoice) -> str:
    return f"invoice:{invoice.billing_entity_id}"


def _numbered(**filters):
    # Seeds a counter created late (e.g. after switching numbering mode) past what already exists.
    def count():
        return Invoice.objects.filter(finalized_at__isnull=False, **filters).count()

    return count


def _numbered_per_customer(invoices):
    """(customer id, how many of its invoices were numbered) for the customers of `invoices`."""
    return invoices.filter(finalized_at__isnull=False).values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n")


_NUMBERED_OF_ONE = Prepared(
    lambda entity_id, customer_id: _numbered_per_customer(Invoice.objects.filter(billing_entity_id=entity_id, customer_id=customer_id)),
    Invoice._meta.get_field("billing_entity"), Invoice._meta.get_field("customer"),
)


def assign_numbers(invoices: list[Invoice], now: datetime) -> None:
    """Give each invoice its sequence values and number; the caller holds the finalizing transaction.

    Counters are taken for the whole batch at once and locked in sorted key order, so
    concurrent finalizers cannot deadlock.
    """
    by_key: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_key[_customer_key(invoice)].append(invoice)
        by_key[_entity_key(invoice)].append(invoice)
    samples = {key: group[0] for key, group in by_key.items()}

    def seeds(missing_keys):
        # Seeds counters created late (e.g. after switching numbering mode) past what already exists.
        result = {}
        customers_by_entity = defaultdict(list)
        for key in missing_keys:
            sample = samples[key]
            if ":customer:" in key:
                customers_by_entity[sample.billing_entity_id].append(sample.customer_id)
            else:
                result[key] = _numbered(billing_entity_id=sample.billing_entity_id)()
        for entity_id, customer_ids in customers_by_entity.items():
            if len(customer_ids) == 1:  # one invoice's (finalizing one): the statement compiled once
                counts = dict(_NUMBERED_OF_ONE.rows(entity_id, customer_ids[0]))
            else:
                counts = dict(_numbered_per_customer(Invoice.objects.filter(billing_entity_id=entity_id, customer_id__in=customer_ids)))
            for customer_id in customer_ids:
                result[f"invoice:{entity_id}:customer:{customer_id}"] = counts.get(customer_id, 0)
        return result

    taken = take_next_many({key: len(group) for key, group in by_key.items()}, initial=seeds)
    for key, group in by_key.items():
        field = "sequential_id" if ":customer:" in key else "billing_entity_sequential_id"
        for invoice, value in zip(group, taken[key]):
            setattr(invoice, field, value)

    for invoice in invoices:
        invoice.number = format_number(invoice, now)


def format_number(invoice: Invoice, now: datetime) -> str:
    entity = invoice.billing_entity
    prefix = entity.document_number_prefix
    if entity.document_numbering == entity.DocumentNumbering.PER_BILLING_ENTITY:
        month = now.astimezone(zoneinfo.ZoneInfo(entity.timezone or "UTC")).strftime("%Y%m")
        return f"{prefix}-{month}-{invoice.billing_entity_sequential_id:03d}"
    return f"{prefix}-{invoice.customer.sequential_id:03d}-{invoice.sequential_id:03d}"

