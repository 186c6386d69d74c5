"""Usage events: what billable metrics aggregate, by event timestamp, within a billing period."""
from django.db import models


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    transaction_id = models.CharField(max_length=255, unique=True, help_text="The sender's idempotency key.")
    external_subscription_id = models.CharField(max_length=255)
    code = models.CharField(max_length=100, help_text="The billable metric's code.")
    timestamp = models.DateTimeField(help_text="When the usage happened: decides the billing period.")
    properties = models.JSONField(default=dict, blank=True)
    precise_total_amount_cents = models.DecimalField(max_digits=40, decimal_places=15, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it was received (irrelevant to billing).")

    class Meta:
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["external_subscription_id", "code", "timestamp"], name="event_sub_code_ts_idx")]

    def __str__(self):
        return f"{self.code} {self.transaction_id}"


class UsageWatermark(models.Model):
    """How many times events were recorded for one external_subscription_id: the draft's usage watermark.

    Advanced by every ingestion, in its own transaction (`usage.watermark.advance`). A draft remembers
    the version it was priced at (`Invoice.priced_usage_version`, read *before* its events were
    aggregated); finalization re-prices only a draft whose version moved (or whose plan changed).
    A counter, not a timestamp: an ingestion that started before the pricing but committed after it
    still moves the version, where its created_at would sit before the pricing time.
    """

    external_subscription_id = models.CharField(max_length=255, unique=True)
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.external_subscription_id} @ {self.version}"
