"""Plans, billable metrics and charges: what a subscription is billed for.

Prices in `Charge.properties` / `ChargeFilter.properties` follow Lago's shapes and are
strings in the currency's major units (e.g. {"amount": "0.05"}); `plans.pricing` turns
them into integer minor units.
"""
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from core.money import validate_currency


class KeptManager(models.Manager):
    """What is not deleted (Lago's `kept` scope). The default manager, so lookups, lists, reverse relations
    (plan.charges) and the billing run ignore deleted rows; `all_objects` sees them, and a foreign key to a
    deleted row (an invoiced fee's charge) still resolves, through the base manager."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class BillableMetric(models.Model):
    class Aggregation(models.TextChoices):
        COUNT = "count", "Count"
        SUM = "sum", "Sum"
        MAX = "max", "Max"
        UNIQUE_COUNT = "unique_count", "Unique count"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=100, help_text="Events carry this code.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    aggregation = models.CharField(max_length=16, choices=Aggregation.choices, default=Aggregation.COUNT)
    field_name = models.CharField(max_length=100, blank=True, help_text="The event property aggregated (not for count).")
    # {"region": ["eu", "us"]}: the properties charges may filter on, and their allowed values.
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = KeptManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["code"]
        # As Lago: a code is unique among the metrics not deleted, so a deleted one's code can be used again.
        constraints = [models.UniqueConstraint(fields=["code"], condition=models.Q(deleted_at__isnull=True),
                                               name="billable_metric_code_kept_uniq")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        if self.aggregation != self.Aggregation.COUNT and not self.field_name:
            raise ValidationError({"field_name": "Sum, max and unique count aggregate an event property: name it."})
        if not isinstance(self.filters, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and v and all(isinstance(x, str) for x in v) for k, v in self.filters.items()
        ):
            raise ValidationError({"filters": 'Filters are {"property": ["allowed", "values"]}.'})


class Plan(models.Model):
    class Interval(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    interval = models.CharField(max_length=16, choices=Interval.choices, default=Interval.MONTHLY)
    amount_cents = models.BigIntegerField(default=0, validators=[MinValueValidator(0)], help_text="Subscription fee per period, in minor units.")
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    pay_in_advance = models.BooleanField(default=False, help_text="Bill the subscription fee for the coming period instead of the past one.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = KeptManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["code"], condition=models.Q(deleted_at__isnull=True),
                                               name="plan_code_kept_uniq")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def display_name(self) -> str:
        return self.invoice_display_name or self.name


class Charge(models.Model):
    class ChargeModel(models.TextChoices):
        STANDARD = "standard", "Standard (per unit)"
        GRADUATED = "graduated", "Graduated tiers"
        VOLUME = "volume", "Volume tiers"
        PACKAGE = "package", "Package"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="charges")
    billable_metric = models.ForeignKey(BillableMetric, on_delete=models.PROTECT, related_name="charges")
    charge_model = models.CharField(max_length=16, choices=ChargeModel.choices, default=ChargeModel.STANDARD)
    properties = models.JSONField(default=dict, blank=True, help_text='Lago shapes, major units: {"amount": "0.05"}, {"graduated_ranges": [...]}, ...')
    invoice_display_name = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = KeptManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.invoice_display_name or self.billable_metric.name

    def clean(self):
        from .pricing import validate_properties

        validate_properties(self.charge_model, self.properties, field="properties")


class ChargeFilter(models.Model):
    """Events of the charge's metric whose properties match `values` are priced with this filter's properties."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="filters")
    # {"region": ["eu"]}: every key must match one of its values.
    values = models.JSONField(default=dict)
    properties = models.JSONField(default=dict, blank=True)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.invoice_display_name:
            return self.invoice_display_name
        label = ", ".join(f"{k}: {'/'.join(v)}" for k, v in sorted(self.values.items()))
        return f"{self.charge.display_name} • {label}"

    def clean(self):
        from .pricing import validate_properties

        allowed = self.charge.billable_metric.filters if self.charge_id else {}
        if not isinstance(self.values, dict) or not self.values:
            raise ValidationError({"values": 'Values are {"property": ["value", ...]}.'})
        for key, values in self.values.items():
            if key not in allowed or not isinstance(values, list) or not set(values) <= set(allowed[key]):
                raise ValidationError({"values": f"{key}={values} is not among the metric's filters {allowed}."})
        validate_properties(self.charge.charge_model, self.properties, field="properties")
