"""Writing audit entries: the only way the rest of the code adds to the log.

Saving chains the entry (audit/chain.py); record_many chains a batch in list order."""
from django.db import transaction

from .actors import Actor
from .models import AuditLogEntry


def entry(action: str, actor: Actor, *, invoice=None, obj=None, before=None, after=None) -> AuditLogEntry:
    """Build (unsaved) an entry; used directly by bulk writers such as the grace-period sweep."""
    customer, customer_id = _customer_of(invoice, obj)
    return AuditLogEntry(
        action=action,
        source=actor.source,
        user=actor.user,
        api_key_name=actor.api_key_name,
        actor_label=actor.label,
        invoice=invoice,
        invoice_number=getattr(invoice, "number", "") or "",
        customer_id=customer_id,
        customer_external_id=getattr(customer, "external_id", "") or "",
        customer_name=getattr(customer, "name", "") or "",
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        before=before,
        after=after,
    )


def record(action: str, actor: Actor, **kwargs) -> AuditLogEntry:
    """Write one audit entry. Must run inside the transaction of the change it describes."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit entries are written inside the transaction of the change they describe.")
    item = entry(action, actor, **kwargs)
    item.save()
    return item


def record_many(entries: list[AuditLogEntry]) -> None:
    """Write a batch in one INSERT, chained in list order."""
    AuditLogEntry.objects.bulk_create(entries)


def _customer_of(invoice, obj):
    """(the customer if already loaded, else None; its id) for what the entry is about."""
    for source in (invoice, obj):
        if source is None:
            continue
        if source._meta.label_lower == "customers.customer":
            return source, source.pk
        if getattr(source, "customer_id", None) is not None:
            relation = source._meta.get_field("customer")
            return (source.customer if relation.is_cached(source) else None), source.customer_id
    return None, None

