"""What upstream mode stores beside the mirrored rows: the sync runs and which invoices are mirrors.

Mirrored customers, billing entities, plans and subscriptions are ordinary rows whose primary key is
Lago's lago_id (nothing guards them). Mirrored invoices are ordinary `Invoice` rows too, with Lago's
lago_id as their pk, so the runbook's {id} is the Lago invoice id; `InvoiceMirror` marks them. A
mirror is written only by `upstream.mirror.write_invoices` (the "mirror path"), which may change what
finalization froze because Lago, not this console, is the authority for those rows; the PostgreSQL
trigger lets that through only for rows with an InvoiceMirror and only inside the mirror path.
"""
from django.conf import settings
from django.db import models

from core.db import SingletonModel


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INVOICE = "invoice", "One invoice (webhook, finalize, refresh)"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FULL)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"billing_entities": n, "customers": n, "plans": n, "subscriptions": n, "invoices": n, "fees": n}
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list, help_text="[{resource, message}]; empty: the run succeeded.")
    trigger = models.CharField(max_length=64, blank=True, help_text="command, schedule, webhook:<unique key>, …")

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"{self.get_kind_display()} sync at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def ok(self) -> bool:
        return self.finished_at is not None and not self.errors

    @classmethod
    def last_successful(cls) -> "SyncRun | None":
        """The newest full run that finished without errors (what the invoice page dates the mirror by)."""
        return cls.objects.filter(kind=cls.Kind.FULL, finished_at__isnull=False, errors=[]).order_by("-started_at").first()


class InvoiceMirror(models.Model):
    """An Invoice row that is a copy of a Lago invoice (same pk)."""

    invoice = models.OneToOneField("invoices.Invoice", primary_key=True, on_delete=models.CASCADE, related_name="mirror")
    synced_at = models.DateTimeField()
    # A digest of what Lago answered; a sync that sees another one on a draft flags it.
    fingerprint = models.CharField(max_length=64)
    changed_upstream_at = models.DateTimeField(
        null=True, blank=True, help_text="When a sync found this draft changed in Lago since the previous sync (review it again).")
    customer_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a sync found this draft's customer changed in Lago (its mirrored fields).")
    subscription_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a sync found a subscription of this draft's customer changed in Lago.")

    class Meta:
        indexes = [models.Index(fields=["synced_at"], name="upstream_mirror_synced_idx")]

    def changes(self) -> list[tuple[str, object]]:
        """What a sync found changed in Lago, [(what, when)]: customer, subscription, invoice."""
        return [(what, when) for what, when in [("customer", self.customer_changed_at), ("subscription", self.subscription_changed_at),
                                                ("invoice", self.changed_upstream_at)] if when]

    @property
    def readiness(self) -> str:
        changes = self.changes()
        if not changes:
            return "as last synced"
        return f"changed upstream since last sync ({', '.join(what for what, _ in changes)})"


class UpstreamSettings(SingletonModel):
    """Upstream mode's configuration held in the admin (superusers only): one row (pk 1).

    Each field is used only when its environment variable is unset (upstream.config reads the effective values:
    environment, else this row, else the default). Blank URL: standalone, unless LAGO_API_URL is set.
    """

    api_url = models.CharField("Lago API URL", max_length=500, blank=True,
                               help_text="The Lago server's origin, e.g. https://lago.example.com (not …/api/v1). Blank: standalone.")
    api_key = models.CharField("Lago API key", max_length=200, blank=True, help_text="The Lago organization's API key.")
    front_url = models.CharField("Lago front URL", max_length=500, blank=True,
                                 help_text="Lago's UI, for the \"Open this invoice in Lago\" links. Blank: the API URL.")
    webhook_hmac_key = models.CharField("Lago webhook HMAC key", max_length=200, blank=True,
                                        help_text="Lago's organization HMAC key (Developers → Webhooks), for hmac webhooks.")
    sync_interval_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Every how many minutes the sync schedule runs. Blank: 15.")
    timeout_seconds = models.FloatField(null=True, blank=True, help_text="Every call to Lago. Blank: 10.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "upstream settings"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="upstream_settings_singleton")]

    def __str__(self):
        return "Upstream settings"

