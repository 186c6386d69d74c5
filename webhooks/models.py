"""The webhook outbox: one row per event, written in the transaction of the change it reports.

A row exists if and only if the change committed, so receivers never hear of a
change that was rolled back, and never miss one that was not. The body is rendered
with the event (the object as it is in that transaction) and stored: every attempt
to every endpoint sends those exact bytes. Delivery happens after commit, in a django-q2 task.
"""
import uuid

from django.db import models
from django.utils import timezone

from core.db import LargeTextField, SingletonModel


class WebhookEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook_type = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The exact JSON body sent on every attempt (ASCII-only: json.dumps escapes the rest); signed as it is.
    payload = LargeTextField(blank=True, help_text="The body as rendered when the event happened.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.webhook_type} {self.object_id}"

    @property
    def body(self) -> bytes:
        return self.payload.encode("utf-8")


def _new_hmac_key() -> str:
    return str(uuid.uuid4())


class WebhookSettings(SingletonModel):
    """The organization's webhook settings: one row (pk 1), holding the HMAC key every `hmac` endpoint signs with.

    As Lago's organizations.hmac_key: a UUID, shown to operators, the same for all endpoints.
    Created by the migration, or on first use (`current()`); rotated from the admin.
    """

    hmac_key = models.CharField(max_length=64, default=_new_hmac_key, editable=False,
                                help_text="Receivers verify X-Lago-Signature (hmac) with this key.")
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "webhook settings"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="webhook_settings_singleton")]

    def __str__(self):
        return "Webhook settings"


    def rotate(self) -> str:
        """A new key; returns the old one (for the audit entry). Deliveries signed from now on use the new key."""
        old = self.hmac_key
        self.hmac_key, self.rotated_at = _new_hmac_key(), timezone.now()
        self.save(update_fields=["hmac_key", "rotated_at", "updated_at"])
        return old


def _new_secret() -> str:
    """Default of the per-endpoint secret removed in 0006 (referenced by migration 0002)."""
    import secrets

    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """Where events are delivered, and how they are signed (Lago's webhook_endpoints)."""

    class SignatureAlgo(models.TextChoices):
        JWT = "jwt", "JWT (RS256, instance key)"
        HMAC = "hmac", "HMAC-SHA256 (organization HMAC key)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="Lago id")
    name = models.CharField(max_length=200, blank=True)
    # Unique, as in Lago (a duplicate is 422 {"webhook_url": ["value_already_exist"]}).
    webhook_url = models.URLField(max_length=1000, unique=True,
                                  error_messages={"unique": "A webhook endpoint with this URL already exists."})
    signature_algo = models.CharField(max_length=8, choices=SignatureAlgo.choices, default=SignatureAlgo.JWT)
    # Empty list: every event type.
    event_types = models.JSONField(default=list, blank=True, help_text="Empty: all event types.")
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
        """Open (pending/retrying) rows whose time has come."""
        return self.filter(status__in=WebhookDelivery.OPEN, next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    """One event to one endpoint. Its id is the X-Lago-Unique-Key, the same on every attempt.

    pending → sending (an attempt claimed it: attempts + 1, next_attempt_at = the attempt's lease)
    → succeeded | retrying (next_attempt_at = when to try again) | failed. A `sending` row whose lease
    ran out had its answer lost (worker or database gone): the sweep tries it again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    OPEN = [Status.PENDING, Status.RETRYING]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="unique key")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # pending/retrying: when the sweep may (re)queue it; sending: the lease of the running attempt.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When its latest django-q2 task was queued (None: never queued, e.g. the broker was down).
    queued_at = models.DateTimeField(null=True, blank=True)
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
                         condition=models.Q(status__in=["pending", "retrying", "sending"])),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"
