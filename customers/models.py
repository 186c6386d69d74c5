"""Billing entities (the issuer), customers (the billed) and taxes.

Settings that exist at both levels (grace period, empty-invoice policy, net
payment term) are resolved by the customer's `effective_*` / `applicable_*`
methods: one place for each rule.
"""
import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from core.money import validate_currency


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.", code="invalid_timezone")


class Tax(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    # Percent, e.g. 20.00 for 20 %. Decimal, never float.
    rate = models.DecimalField(max_digits=6, decimal_places=3, validators=[MinValueValidator(0), MaxValueValidator(100)])
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "taxes"

    def __str__(self):
        return f"{self.name} ({format(self.rate.normalize(), 'f')} %)"


class BillingEntity(models.Model):
    class DocumentNumbering(models.TextChoices):
        PER_CUSTOMER = "per_customer", "Per customer"
        PER_BILLING_ENTITY = "per_billing_entity", "Per billing entity"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    default_currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    email = models.EmailField(blank=True)
    legal_name = models.CharField(max_length=200, blank=True)
    legal_number = models.CharField(max_length=64, blank=True)
    tax_identification_number = models.CharField(max_length=64, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    zipcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    document_number_prefix = models.CharField(
        max_length=10, blank=True, validators=[RegexValidator(r"^[A-Za-z0-9_-]{1,10}$")],
        help_text="1-10 characters; empty: first three letters of the name and the last four of the id.",
    )
    document_numbering = models.CharField(max_length=32, choices=DocumentNumbering.choices, default=DocumentNumbering.PER_CUSTOMER)
    net_payment_term = models.PositiveIntegerField(default=0, help_text="Days between issuing date and payment due date.")
    invoice_grace_period = models.PositiveIntegerField(default=0, help_text="Days a subscription invoice stays a draft.")
    finalize_zero_amount_invoice = models.BooleanField(default=True, help_text="Finalize invoices with no fees; off: close them without a number.")
    requires_customer_tax_id = models.BooleanField(
        default=False, help_text="Its customers need a tax identification number (readiness check before finalizing).",
    )
    invoice_footer = models.TextField(blank=True)
    document_locale = models.CharField(max_length=10, default="en")
    taxes = models.ManyToManyField(Tax, blank=True, related_name="billing_entities", help_text="Default taxes for customers without their own.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "billing entities"
        constraints = [
            # Lago's organization has exactly one default entity: at most one here, and `migrate`
            # creates it when there is none (customers/bootstrap.py).
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="customers_one_default_billing_entity",
                violation_error_message="Another billing entity is already the default.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.pk and not self.is_default and BillingEntity.objects.filter(pk=self.pk, is_default=True).exists():
            raise ValidationError({"is_default": "There must be a default billing entity: this one stays the default."})

    def save(self, *args, **kwargs):
        if not self.document_number_prefix:
            self.document_number_prefix = f"{self.name[:3]}-{str(self.id)[-4:]}".upper()
        super().save(*args, **kwargs)


class Customer(models.Model):
    class FinalizeZeroAmount(models.TextChoices):
        INHERIT = "inherit", "Inherit from billing entity"
        SKIP = "skip", "Skip (close empty invoices)"
        FINALIZE = "finalize", "Finalize"

    class AccountType(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        PARTNER = "partner", "Partner"

    class CustomerType(models.TextChoices):
        COMPANY = "company", "Company"
        INDIVIDUAL = "individual", "Individual"

    class PaymentProvider(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        ADYEN = "adyen", "Adyen"
        GOCARDLESS = "gocardless", "GoCardless"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    external_id = models.CharField(max_length=255, unique=True)
    sequential_id = models.PositiveIntegerField(unique=True, editable=False)
    billing_entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200, blank=True)
    legal_name = models.CharField(max_length=200, blank=True)
    legal_number = models.CharField(max_length=64, blank=True)
    tax_identification_number = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=500, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    url = models.CharField(max_length=255, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    zipcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    firstname = models.CharField(max_length=200, blank=True)
    lastname = models.CharField(max_length=200, blank=True)
    logo_url = models.CharField(max_length=500, blank=True)
    account_type = models.CharField(max_length=16, choices=AccountType.choices, default=AccountType.CUSTOMER)
    customer_type = models.CharField(max_length=16, choices=CustomerType.choices, blank=True, help_text="Empty: not said.")
    shipping_address_line1 = models.CharField(max_length=200, blank=True)
    shipping_address_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100, blank=True)
    shipping_state = models.CharField(max_length=100, blank=True)
    shipping_zipcode = models.CharField(max_length=20, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True)
    document_locale = models.CharField(
        max_length=10, blank=True, validators=[RegexValidator(r"^[a-z]{2}(-[A-Za-z]{2})?$")],
        help_text="Language of the customer's documents (e.g. fr, pt-BR); empty: the billing entity's.",
    )
    # Lago's billing_configuration payment-provider fields: stored and answered; the console calls no provider.
    payment_provider = models.CharField(max_length=16, choices=PaymentProvider.choices, blank=True)
    payment_provider_code = models.CharField(max_length=100, blank=True)
    provider_customer_id = models.CharField(max_length=255, blank=True)
    sync = models.BooleanField(default=False)
    sync_with_provider = models.BooleanField(default=False)
    provider_payment_methods = models.JSONField(null=True, blank=True, help_text="A list of method names, e.g. [\"card\"].")
    currency = models.CharField(
        max_length=3, blank=True, validators=[validate_currency],
        help_text="Fixed once set: every invoice of the customer is in this currency.",
    )
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone], help_text="Empty: the billing entity's.")
    invoice_grace_period = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the billing entity's. 0 is a real override.")
    finalize_zero_amount_invoice = models.CharField(max_length=16, choices=FinalizeZeroAmount.choices, default=FinalizeZeroAmount.INHERIT)
    net_payment_term = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the billing entity's.")
    taxes = models.ManyToManyField(Tax, blank=True, related_name="customers", help_text="Empty: the billing entity's default taxes.")
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "external_id"]

    def __str__(self):
        return f"{self.name or self.external_id} ({self.external_id})"

    def save(self, *args, **kwargs):
        if self.sequential_id is None:
            from django.db import transaction

            from sequences.models import take_next

            with transaction.atomic():
                self.sequential_id = take_next("customer", initial=_customer_count)[0]
                return super().save(*args, **kwargs)
        super().save(*args, **kwargs)

    def clean(self):
        if self.pk and self.currency:
            previous = Customer.objects.filter(pk=self.pk).values_list("currency", flat=True).first()
            if previous and previous != self.currency:
                raise ValidationError({"currency": "The currency is fixed once set."})

    @property
    def slug(self) -> str:
        """Lago's customer slug: the billing entity's document prefix and the customer's sequential id."""
        return f"{self.billing_entity.document_number_prefix}-{self.sequential_id:03d}"

    @property
    def applicable_document_locale(self) -> str:
        return self.document_locale or self.billing_entity.document_locale or "en"

    # --- settings resolved against the billing entity -------------------------------------

    @property
    def applicable_timezone(self) -> str:
        return self.timezone or self.billing_entity.timezone or "UTC"

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.applicable_timezone)

    @property
    def effective_grace_period(self) -> int:
        """Customer override if set (0 counts), else the billing entity's."""
        if self.invoice_grace_period is not None:
            return self.invoice_grace_period
        return self.billing_entity.invoice_grace_period

    @property
    def applicable_net_payment_term(self) -> int:
        if self.net_payment_term is not None:
            return self.net_payment_term
        return self.billing_entity.net_payment_term

    def finalizes_empty_invoices(self) -> bool:
        """The empty-invoice policy of seed 000: customer skip/finalize, else the entity's bool."""
        if self.finalize_zero_amount_invoice == self.FinalizeZeroAmount.FINALIZE:
            return True
        if self.finalize_zero_amount_invoice == self.FinalizeZeroAmount.SKIP:
            return False
        return self.billing_entity.finalize_zero_amount_invoice

    @staticmethod
    def finalizes_empty_invoices_q(prefix: str = "") -> models.Q:
        """`finalizes_empty_invoices()` as a condition on customers (`prefix`: the path to them, e.g. "customer__")."""
        field = f"{prefix}finalize_zero_amount_invoice"
        return models.Q(**{field: Customer.FinalizeZeroAmount.FINALIZE}) | models.Q(
            **{field: Customer.FinalizeZeroAmount.INHERIT, f"{prefix}billing_entity__finalize_zero_amount_invoice": True}
        )

    def lacks_required_tax_id(self) -> bool:
        """The readiness rule for tax data: its billing entity requires a tax id and it has none."""
        return self.billing_entity.requires_customer_tax_id and not self.tax_identification_number.strip()

    def applicable_taxes(self) -> list[Tax]:
        """The customer's taxes, else the billing entity's defaults."""
        own = list(self.taxes.all())
        return own if own else list(self.billing_entity.taxes.all())


class CustomerMetadata(models.Model):
    """Lago's customer metadata: key/value pairs, those with display_in_invoice printed on invoices."""
    MAX_PER_CUSTOMER = 5

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="metadata")
    key = models.CharField(max_length=100)
    value = models.CharField(max_length=255)
    display_in_invoice = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "key"]
        verbose_name_plural = "customer metadata"
        constraints = [models.UniqueConstraint(fields=["customer", "key"], name="customers_metadata_unique_key")]

    def __str__(self):
        return f"{self.key}: {self.value}"


def _customer_count() -> int:
    return Customer.objects.aggregate(m=models.Max("sequential_id"))["m"] or 0
