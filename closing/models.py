"""A bulk finalize job: the drafts an operator selected, finalized in the background batch by batch.

Each selected invoice is an item carrying its outcome and new number once its batch committed.
While its job is queued or running an item is `active`; a partial unique index allows one
active item per invoice, so two jobs over the same drafts cannot both be queued, even when
two operators confirm at the same instant (the second INSERT fails; SQLite and PostgreSQL alike).
"""
from django.conf import settings
from django.db import models
from django.db.models import Case, IntegerField, Q, Value, When


class BulkFinalizeJobQuerySet(models.QuerySet):
    def active(self):
        """Jobs still to finish: queued or running."""
        return self.filter(status__in=[BulkFinalizeJob.Status.QUEUED, BulkFinalizeJob.Status.RUNNING])

    def recent(self, limit: int = 10):
        """The latest jobs, newest first, with who asked for them (for dashboards and the job list)."""
        return self.select_related("requested_by").order_by("-created_at", "-pk")[:limit]

    def active_first(self, limit: int = 5):
        """Queued and running jobs first (however old), then the latest finished ones; one query (the close dashboard)."""
        active = [BulkFinalizeJob.Status.QUEUED, BulkFinalizeJob.Status.RUNNING]
        finished_last = Case(When(status__in=active, then=Value(0)), default=Value(1), output_field=IntegerField())
        return self.select_related("requested_by").order_by(finished_last, "-created_at", "-pk")[:limit]


class BulkFinalizeJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    total = models.PositiveIntegerField(default=0)
    finalized = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0, help_text="Empty drafts closed without a number (empty-invoice policy).")
    refused = models.PositiveIntegerField(default=0, help_text="Not a draft any more, gone, or failed to finalize.")
    error = models.TextField(blank=True)

    objects = BulkFinalizeJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "bulk finalize job"

    def __str__(self):
        return f"Bulk finalize job #{self.pk}"

    @property
    def done(self) -> int:
        """Items with an outcome: finalized, closed or refused."""
        return self.finalized + self.closed + self.refused

    @property
    def left(self) -> int:
        return max(self.total - self.finalized - self.closed - self.refused, 0)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def progress(self) -> dict:
        """What the job page polls."""
        return {
            "id": self.pk,
            "status": self.status,
            "finished": self.is_finished,
            "total": self.total,
            "finalized": self.finalized,
            "closed": self.closed,
            "refused": self.refused,
            "left": self.left,
            "error": self.error,
            "requested_by": self.requested_by.get_username(),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class BulkFinalizeItem(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "", "Pending"
        FINALIZED = "finalized", "Finalized"
        CLOSED = "closed", "Closed as empty"
        NOT_DRAFT = "not_draft", "Refused: not a draft"
        NOT_FOUND = "not_found", "Refused: not found"
        LOCKED = "locked", "Refused: locked"
        ERROR = "error", "Failed: left a draft"

    job = models.ForeignKey(BulkFinalizeJob, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default=Outcome.PENDING)
    number = models.CharField(max_length=64, blank=True, help_text="The invoice's number once finalized.")
    # True while the job is queued or running, NULL after: see the module docstring.
    active = models.BooleanField(null=True, default=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice"], condition=Q(active=True), name="closing_one_active_job_per_invoice"),
            models.UniqueConstraint(fields=["job", "position"], name="closing_item_position"),
        ]
        indexes = [models.Index(fields=["job", "outcome", "position"], name="closing_item_pending")]

    @property
    def refused(self) -> bool:
        return self.outcome not in (self.Outcome.PENDING, self.Outcome.FINALIZED, self.Outcome.CLOSED)
