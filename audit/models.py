"""The append-only audit log: who did what to which invoice, when, and what changed.

Rows are written in the same transaction as the change they describe, so a
rolled-back change leaves no entry and a committed one always has one.
Nothing updates or deletes them: the model refuses it and the admin is read-only.
"""
import uuid

from django.conf import settings
from django.db import models

from core.db import is_unsaved


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditLogEntry(models.Model):
    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        TASK = "task", "Task"
        COMMAND = "command", "Command line"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # Exactly one kind of actor: a signed-in user, an API key, or the system (user and key both null).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    api_key_name = models.CharField(max_length=100, blank=True)
    actor_label = models.CharField(max_length=150, help_text="Who, as shown: username, 'api key: NAME' or 'system'.")
    invoice = models.ForeignKey("invoices.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries")
    invoice_number = models.CharField(max_length=64, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log entries"
        permissions = [("export_auditlogentry", "Can export the audit log as CSV")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if not is_unsaved(self):
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")
