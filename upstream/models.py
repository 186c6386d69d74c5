"""What upstream mode stores beside the mirrored rows: the sync runs and which invoices are mirrors.

Mirrored customers, billing entities, plans and subscriptions are ordinary rows whose primary key is
Lago's lago_id (nothing guards them). Mirrored invoices are ordinary `Invoice` rows too, with Lago's
lago_id as their pk, so the runbook's {id} is the Lago invoice id; `InvoiceMirror` marks them. A
mirror is written only by `upstream.mirror.write_invoices` (the "mirror path"), which may change what
finalization froze because Lago, not this console, is the authority for those rows; the PostgreSQL
trigger lets that through only for rows with an InvoiceMirror and only inside the mirror path.
"""
from django.db import models


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
