"""Credit notes on finalized invoices: items per fee, split into credit, refund and offset.

total = credit + refund + offset = Σ items − coupon adjustment + taxes (±1 cent).
The credit part becomes a balance later subscription invoices consume (after
taxes, oldest first); the refund is recorded as pending (no PSP here); the
offset reduces the invoice's amount due. Created only through
`credit_notes.services`, which enforces what is creditable.
"""
import uuid

from django.db import models
from django.db.models import Q

from core.money import format_amount


class CreditNote(models.Model):
    class Reason(models.TextChoices):
        DUPLICATED_CHARGE = "duplicated_charge", "Duplicated charge"
        PRODUCT_UNSATISFACTORY = "product_unsatisfactory", "Product unsatisfactory"
        ORDER_CHANGE = "order_change", "Order change"
        ORDER_CANCELLATION = "order_cancellation", "Order cancellation"
        FRAUDULENT_CHARGE = "fraudulent_charge", "Fraudulent charge"
        OTHER = "other", "Other"

    class CreditStatus(models.TextChoices):
        AVAILABLE = "available", "Available"
        CONSUMED = "consumed", "Consumed"
        VOIDED = "voided", "Voided"

    class RefundStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINALIZED = "finalized", "Finalized"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="Lago id")
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="credit_notes")
    sequential_id = models.PositiveIntegerField()
    number = models.CharField(max_length=80, unique=True)
    issuing_date = models.DateField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.FINALIZED)
    credit_status = models.CharField(max_length=16, choices=CreditStatus.choices, null=True, blank=True)
    refund_status = models.CharField(max_length=16, choices=RefundStatus.choices, null=True, blank=True)

    sub_total_excluding_taxes_amount_cents = models.BigIntegerField(default=0)
    coupons_adjustment_amount_cents = models.BigIntegerField(default=0)
    taxes_amount_cents = models.BigIntegerField(default=0)
    taxes_rate = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    total_amount_cents = models.BigIntegerField(default=0)
    credit_amount_cents = models.BigIntegerField(default=0)
    balance_amount_cents = models.BigIntegerField(default=0)
    refund_amount_cents = models.BigIntegerField(default=0)
    offset_amount_cents = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # Written only by credit_notes.pdf (after commit); never part of the note's figures.
    pdf_file = models.FileField(upload_to="credit_notes/", blank=True)
    pdf_generated_at = models.DateTimeField(null=True, blank=True)
    pdf_error = models.TextField(blank=True, help_text="Why the last PDF render failed; cleared on success.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "sequential_id"], name="credit_note_unique_sequence"),
            models.CheckConstraint(
                condition=Q(balance_amount_cents__gte=0, balance_amount_cents__lte=models.F("credit_amount_cents")),
                name="credit_note_balance_within_credit",
            ),
        ]

    def __str__(self):
        return self.number

    def display(self, field: str) -> str:
        return format_amount(getattr(self, field), self.currency)


class CreditNoteItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="items")
    fee = models.ForeignKey("invoices.Fee", on_delete=models.PROTECT, related_name="credit_note_items")
    amount_cents = models.BigIntegerField()
    precise_amount_cents = models.DecimalField(max_digits=30, decimal_places=5, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
