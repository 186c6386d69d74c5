"""Wallets (prepaid credits): one active wallet per customer and currency, and its ledger.

The balance is a stored column changed only by `wallets.ledger` and `wallets.top_ups`, always
together with the WalletTransaction that explains it, under the wallet's row
lock. Granted top-ups credit it at once; purchased ones when their credit
invoice is paid; finalized subscription invoices consume it after taxes and
credit notes (Lago's order); voiding such an invoice gives it back.
"""
import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from core.money import format_amount, validate_currency


class Wallet(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        TERMINATED = "terminated", "Terminated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="wallets")
    name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    balance_cents = models.BigIntegerField(default=0, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    terminated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "currency"], condition=Q(status="active"), name="wallet_one_active_per_currency"),
            models.CheckConstraint(condition=Q(balance_cents__gte=0), name="wallet_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.name or 'Wallet'} of {self.customer.external_id} ({format_amount(self.balance_cents, self.currency)})"


class WalletTransaction(models.Model):
    class TransactionType(models.TextChoices):
        INBOUND = "inbound", "Inbound (credit)"
        OUTBOUND = "outbound", "Outbound (consumed)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SETTLED = "settled", "Settled"
        FAILED = "failed", "Failed"

    class TransactionStatus(models.TextChoices):
        PURCHASED = "purchased", "Purchased"
        GRANTED = "granted", "Granted"
        INVOICED = "invoiced", "Invoiced (consumed by an invoice)"
        VOIDED = "voided", "Given back by a voided invoice"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="transactions")
    # Outbound: the invoice that consumed it. Purchased inbound: its credit invoice. Voided inbound: the voided invoice.
    invoice = models.ForeignKey("invoices.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="wallet_transactions")
    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    transaction_status = models.CharField(max_length=16, choices=TransactionStatus.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    amount_cents = models.BigIntegerField(validators=[MinValueValidator(1)])
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="wallet_transaction_positive")]

    def __str__(self):
        sign = "+" if self.transaction_type == self.TransactionType.INBOUND else "-"
        return f"{sign}{format_amount(self.amount_cents, self.wallet.currency)} ({self.transaction_status}, {self.status})"
