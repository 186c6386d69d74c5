"""Coupons, their application to customers, and what finalized invoices consumed (Lago's `credits`).

A Coupon is the catalogue entry; an AppliedCoupon is that coupon given to one
customer, with its own copy of the amount/rate and frequency (overrides allowed),
consumed only when a subscription invoice is finalized (seed 002). A Credit row
records each consumption, of a coupon (before taxes) or of a credit note's
balance (after taxes), so voiding the invoice can give exactly that back.
"""
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.money import validate_currency

from core.errors import field_error


class Coupon(models.Model):
    class CouponType(models.TextChoices):
        FIXED_AMOUNT = "fixed_amount", "Fixed amount"
        PERCENTAGE = "percentage", "Percentage"

    class Frequency(models.TextChoices):
        ONCE = "once", "Once"
        RECURRING = "recurring", "Recurring (N invoices)"
        FOREVER = "forever", "Forever"

    class Expiration(models.TextChoices):
        NO_EXPIRATION = "no_expiration", "No expiration"
        TIME_LIMIT = "time_limit", "Time limit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    coupon_type = models.CharField(max_length=16, choices=CouponType.choices)
    amount_cents = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    amount_currency = models.CharField(max_length=3, blank=True, validators=[validate_currency])
    # Percent, e.g. 12.5 for 12.5 %. Decimal, never float.
    percentage_rate = models.DecimalField(
        max_digits=7, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.ONCE)
    frequency_duration = models.PositiveIntegerField(null=True, blank=True, help_text="Recurring: how many invoices.")
    expiration = models.CharField(max_length=16, choices=Expiration.choices, default=Expiration.NO_EXPIRATION)
    expiration_at = models.DateTimeField(null=True, blank=True, help_text="Time limit: cannot be applied to customers after this.")
    reusable = models.BooleanField(default=True, help_text="Can be applied to the same customer more than once.")
    # Set by DELETE /api/v1/coupons/{code} (Lago terminates, never deletes): no longer found or applicable.
    terminated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        check_terms(self.coupon_type, self.amount_cents, self.amount_currency, self.percentage_rate, self.frequency, self.frequency_duration)
        if self.expiration == self.Expiration.TIME_LIMIT and not self.expiration_at:
            raise field_error("expiration_at", "A time-limited coupon needs an expiration date.", "invalid_value")

    def is_expired(self, now) -> bool:
        return self.expiration == self.Expiration.TIME_LIMIT and self.expiration_at is not None and self.expiration_at <= now


def check_terms(coupon_type, amount_cents, amount_currency, percentage_rate, frequency, frequency_duration) -> None:
    """The one rule for a coupon's (or an applied coupon's) figures."""
    if coupon_type == Coupon.CouponType.FIXED_AMOUNT:
        if not amount_cents or amount_cents <= 0 or not amount_currency:
            raise field_error("amount_cents", "A fixed-amount coupon needs a positive amount and a currency.", "invalid_amount")
    elif coupon_type == Coupon.CouponType.PERCENTAGE:
        if percentage_rate is None or not (0 < percentage_rate <= 100):
            raise field_error("percentage_rate", "A percentage coupon needs a rate above 0 and at most 100.", "invalid_rate")
    else:
        raise field_error("coupon_type", f"Unknown coupon type {coupon_type!r}.", "invalid_value")
    if frequency == Coupon.Frequency.RECURRING and not frequency_duration:
        raise field_error("frequency_duration", "A recurring coupon needs a number of invoices.", "invalid_value")


class AppliedCouponQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=AppliedCoupon.Status.ACTIVE)

    def in_consumption_order(self):
        """Oldest applied first (Lago); the pk breaks ties so every locker takes rows in the same order."""
        return self.order_by("created_at", "pk")


class AppliedCoupon(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        TERMINATED = "terminated", "Terminated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="applied_coupons")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="applications")
    # Copied from the coupon when applied (possibly overridden): later coupon edits don't rewrite them.
    amount_cents = models.BigIntegerField(null=True, blank=True)
    amount_currency = models.CharField(max_length=3, blank=True)
    percentage_rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    frequency = models.CharField(max_length=16, choices=Coupon.Frequency.choices)
    frequency_duration = models.PositiveIntegerField(null=True, blank=True)
    frequency_duration_remaining = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    terminated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppliedCouponQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "created_at"]
        indexes = [models.Index(fields=["customer", "status"], name="applied_coupon_customer_idx")]

    def __str__(self):
        return f"{self.coupon.code} → {self.customer.external_id}"

    @property
    def coupon_type(self) -> str:
        return self.coupon.coupon_type

    @property
    def is_fixed(self) -> bool:
        return self.coupon.coupon_type == Coupon.CouponType.FIXED_AMOUNT

    def remaining_amount_cents(self) -> int | None:
        """A fixed `once` coupon is used up across invoices; credits of voided invoices don't count."""
        if not self.is_fixed:
            return None
        if self.frequency != Coupon.Frequency.ONCE:
            return self.amount_cents
        used = self.credits.exclude(invoice__status="voided").aggregate(s=models.Sum("amount_cents"))["s"] or 0
        return max(self.amount_cents - used, 0)


class Credit(models.Model):
    """What one finalized invoice consumed: a coupon (before taxes) or a credit note's balance (after taxes)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.PROTECT, related_name="credits")
    applied_coupon = models.ForeignKey(AppliedCoupon, null=True, blank=True, on_delete=models.PROTECT, related_name="credits")
    credit_note = models.ForeignKey("credit_notes.CreditNote", null=True, blank=True, on_delete=models.PROTECT, related_name="credits")
    amount_cents = models.BigIntegerField(validators=[MinValueValidator(1)])
    amount_currency = models.CharField(max_length=3)
    before_taxes = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(applied_coupon__isnull=False, credit_note__isnull=True) | Q(applied_coupon__isnull=True, credit_note__isnull=False),
                name="credit_one_source",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="credit_positive"),
        ]

    def __str__(self):
        source = self.applied_coupon.coupon.code if self.applied_coupon_id else self.credit_note.number
        return f"{source}: {self.amount_cents} {self.amount_currency}"
