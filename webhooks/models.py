"""The webhook outbox: one row per event, written in the transaction of the change it reports.

A row exists if and only if the change committed, so receivers never hear of a
change that was rolled back, and never miss one that was not. Delivery to the
configured endpoints happens after commit, in a django-q2 task.
"""
import uuid

from django.db import models


class WebhookEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook_type = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.webhook_type} {self.object_id}"
