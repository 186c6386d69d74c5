"""Subscriptions: a customer on a plan, billed at the end of each period (subscriptions.periods)."""
import uuid

from django.core.exceptions import ValidationError
from django.db import models


class Subscription(models.Model):
    class BillingTime(models.TextChoices):
        CALENDAR = "calendar", "Calendar (1st of the month, Monday, ...)"
        ANNIVERSARY = "anniversary", "Anniversary (the start date's day)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        TERMINATED = "terminated", "Terminated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    external_id = models.CharField(max_length=255, unique=True, help_text="Events name the subscription by this id.")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="subscriptions")
    name = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    billing_time = models.CharField(max_length=16, choices=BillingTime.choices, default=BillingTime.CALENDAR)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    terminated_at = models.DateTimeField(null=True, blank=True)
    # Lago's ending_at: the billing run terminates the subscription then (null: renews forever).
    ending_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status"], name="subscription_status_idx")]

    def __str__(self):
        return self.name or self.external_id

    def clean(self):
        if self.status == self.Status.TERMINATED and not self.terminated_at:
            raise ValidationError({"terminated_at": "A terminated subscription needs its termination date."})
        if self.terminated_at and self.started_at and self.terminated_at < self.started_at:
            raise ValidationError({"terminated_at": "Termination comes after the start."})
        if self.plan_id and self.customer_id and self.customer.currency and self.customer.currency != self.plan.currency:
            raise ValidationError({"plan": f"The plan is in {self.plan.currency}, the customer pays in {self.customer.currency}."})
