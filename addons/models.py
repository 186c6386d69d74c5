"""Add-ons: priced items billed once, on one-off invoices (seed 004)."""
import uuid

from django.core.validators import MinValueValidator
from django.db import models

from core.money import validate_currency


class AddOnQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deleted_at__isnull=True)


class AddOn(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    amount_cents = models.BigIntegerField(default=0, validators=[MinValueValidator(0)], help_text="Default unit price, in minor units.")
    amount_currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    taxes = models.ManyToManyField("customers.Tax", blank=True, related_name="add_ons", help_text="Empty: the customer's taxes.")
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AddOnQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = "add-on"

    def __str__(self):
        return f"{self.name} ({self.code})"
