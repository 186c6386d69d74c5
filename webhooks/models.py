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


def _new_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """Where events are delivered, and how they are signed (Lago's webhook_endpoints)."""

    class SignatureAlgo(models.TextChoices):
        JWT = "jwt", "JWT (RS256, instance key)"
        HMAC = "hmac", "HMAC-SHA256 (endpoint secret)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="Lago id")
    name = models.CharField(max_length=200, blank=True)
    # Unique, as in Lago (a duplicate is 422 {"webhook_url": ["value_already_exist"]}).
    webhook_url = models.URLField(max_length=1000, unique=True,
                                  error_messages={"unique": "A webhook endpoint with this URL already exists."})
    signature_algo = models.CharField(max_length=8, choices=SignatureAlgo.choices, default=SignatureAlgo.JWT)
    # Empty list: every event type.
    event_types = models.JSONField(default=list, blank=True, help_text="Empty: all event types.")
    hmac_secret = models.CharField(max_length=100, default=_new_secret, editable=False,
                                   help_text="Key of the hmac signature; receivers verify with it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name or self.webhook_url

    def wants(self, webhook_type: str) -> bool:
        return not self.event_types or webhook_type in self.event_types


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING], next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    """One event to one endpoint. Its id is the X-Lago-Unique-Key, the same on every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="unique key")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # For pending/retrying rows: when the sweep may (re)try it. Also a lease while an attempt runs.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once_per_endpoint")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx",
                         condition=models.Q(status__in=["pending", "retrying"])),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"
