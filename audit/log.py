"""Writing audit entries: the only way the rest of the code adds to the log."""
from django.db import transaction

from .actors import Actor
from .models import AuditLogEntry


def entry(action: str, actor: Actor, *, invoice=None, obj=None, before=None, after=None) -> AuditLogEntry:
    """Build (unsaved) an entry; used directly by bulk writers such as the grace-period sweep."""
    return AuditLogEntry(
        action=action,
        source=actor.source,
        user=actor.user,
        api_key_name=actor.api_key_name,
        actor_label=actor.label,
        invoice=invoice,
        invoice_number=getattr(invoice, "number", "") or "",
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
    AuditLogEntry.objects.bulk_create(entries)
