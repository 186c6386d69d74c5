"""The append-only audit log: who did what to which invoice, when, and what changed.

Rows are written in the same transaction as the change they describe, so a
rolled-back change leaves no entry and a committed one always has one.
Nothing updates or deletes them: the model refuses it and the admin is read-only.

Entries form a hash chain (audit/chain.py): each carries a gapless `seq`, the previous entry's hash and
its own SHA-256 over its content, so `manage.py verify_audit_log` can tell an altered or removed row.
"""
import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from core.db import is_unsaved
from core.prepared import Prepared

from .chain import GENESIS, chain_in_order


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        # No savepoint inside the caller's transaction (two statements per write): if the INSERT fails, the
        # whole transaction rolls back, the head's advance with it.
        with transaction.atomic(using=self.db, savepoint=False):
            AuditChainHead.append(objs)
            return super().bulk_create(objs, *args, **kwargs)


class AuditLogEntry(models.Model):
    class Source(models.TextChoices):
        ADMIN = "admin", "Admin (page button or form)"
        ADMIN_BULK = "admin_bulk", "Admin bulk action"
        RUNBOOK = "runbook", "Runbook endpoint"
        API = "api", "API"
        TASK = "task", "Task"
        COMMAND = "command", "Command line"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Set in Python (not auto_now_add) so the hash, computed before the INSERT, covers the stored value.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # Exactly one kind of actor: a signed-in user, an API key, or the system (user and key both null).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    api_key_name = models.CharField(max_length=100, blank=True)
    actor_label = models.CharField(max_length=150, db_index=True, help_text="Who, as shown: username, 'api key: NAME' or 'system'.")
    invoice = models.ForeignKey("invoices.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries")
    invoice_number = models.CharField(max_length=64, blank=True, db_index=True)
    # The customer the entry concerns, as it was when written (the name may change later; the FK shows who).
    # No database constraint and DO_NOTHING: removing a customer must not need to touch the log.
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                                 db_constraint=False)
    customer_external_id = models.CharField(max_length=255, blank=True, db_index=True)
    customer_name = models.CharField(max_length=255, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # The chain: null only on rows written before it existed, until migration 0004 chains them.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log entries"
        permissions = [
            ("export_auditlogentry", "Can export the audit log as CSV"),
            ("verify_auditlogentry", "Can verify the audit log's hash chain (records an audit verification)"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if not is_unsaved(self):
            raise PermissionError("The audit log is append-only.")
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):  # as bulk_create: no savepoint
            AuditChainHead.append([self])
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class AuditChainHead(models.Model):
    """One row (pk 1): the chain's last seq and hash. Writers lock it (select_for_update) to append, so
    concurrent writers queue instead of forking the chain; on SQLite IMMEDIATE transactions serialize them."""
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"audit chain head: seq {self.seq}"

    @classmethod
    def locked(cls):
        """The head row, locked until the transaction ends (rebuilt from the last entry if missing, e.g. after a flush)."""
        found = _HEAD.rows()  # every audited change reads it: compiled once (core/prepared.py)
        head = found[0] if found else None
        if head is None:
            heads = cls.objects.select_for_update()
            last = AuditLogEntry.objects.filter(seq__isnull=False).order_by("-seq").values("seq", "hash").first()
            head, _ = heads.get_or_create(pk=1, defaults={"seq": last["seq"], "hash": last["hash"]} if last else {})
        return head

    @classmethod
    def append(cls, entries) -> None:
        """Chain unsaved entries, in order, after the head; the caller INSERTs them in this same transaction."""
        if not entries:
            return
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("Audit entries are chained inside a transaction.")
        _fill_customers(entries)
        head = cls.locked()
        head.seq, head.hash = chain_in_order(entries, head.seq, head.hash or GENESIS)
        head.save(update_fields=["seq", "hash"])


_HEAD = Prepared(lambda: AuditChainHead.objects.select_for_update().filter(pk=1))


def _fill_customers(entries) -> None:
    """Snapshot the customer's external id and name on entries that only know its id (one query)."""
    missing = {e.customer_id for e in entries if e.customer_id is not None and not e.customer_external_id}
    if not missing:
        return
    customers = AuditLogEntry._meta.get_field("customer").related_model.objects
    found = {pk: (x, name) for pk, x, name in customers.filter(pk__in=missing).values_list("pk", "external_id", "name")}
    for e in entries:
        if e.customer_id in found and not e.customer_external_id:
            e.customer_external_id, e.customer_name = found[e.customer_id]


class AuditVerification(models.Model):
    """One run of verify_audit_log (not part of the chain)."""
    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    entries_checked = models.BigIntegerField(default=0)
    ok = models.BooleanField()
    first_broken_seq = models.BigIntegerField(null=True, blank=True)
    problems = models.PositiveIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    duration_seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-checked_at", "-id"]
        get_latest_by = "checked_at"

    def __str__(self):
        return f"{self.checked_at:%Y-%m-%d %H:%M:%S} {'OK' if self.ok else 'BROKEN'} ({self.entries_checked} entries)"
