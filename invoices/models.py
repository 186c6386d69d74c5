"""Invoices and their fees.

The invoice's lifecycle is data: `Invoice.STATUS_TRANSITIONS` (draft → finalized | closed |
deleted, finalized → voided), `Invoice.PAYMENT_STATUS_TRANSITIONS` and the overdue-flag rule
(`Invoice.check_overdue_change`). `save()` refuses any other change, measured against the values
loaded from the database, and any change of a `FROZEN_FIELDS` field once the invoice has left
`draft`; on PostgreSQL a trigger refuses the same for every UPDATE (migration
`invoices/migrations/0006_invoice_transition_trigger.py`, SQL from `invoices/db_guards.py`).

Each transition is written by one module: finalize and close in `invoices/transitions/finalization.py`,
void in `invoices/transitions/voiding.py`, delete in `invoices/transitions/deletion.py`, payment status in
`invoices/transitions/payments.py`, the overdue flag in `invoices/transitions/overdue.py`.
"""
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When

from core.db import is_unsaved
from core.money import format_amount, validate_currency

from .ui_status import derive_invoice_ui_status


class InvoiceLocked(ValidationError):
    """Raised when code tries to change what a non-draft invoice has frozen."""


class InvalidTransition(InvoiceLocked):
    """A status, payment status or overdue-flag change the transition table does not allow.

    A subclass of InvoiceLocked, so every door that reports a locked invoice reports this too.
    """

    def __init__(self, message, code="invalid_transition"):
        super().__init__(message, code=code)


def _name(invoice) -> str:
    """The invoice as stored (its number, or its id while it has none): its label would follow the refused change."""
    if invoice is None:
        return "Invoice"
    return f"Invoice {invoice.number if invoice.number and not invoice.number.endswith('-DRAFT') else invoice.pk}"


def drafts_first():
    """0 for drafts, 1 for the rest: the console's first sort key, the same expression as `invoice_console_order_idx`."""
    return Case(When(status="draft", then=Value(0)), default=Value(1), output_field=IntegerField())


# The console's order: drafts first (what an operator works on), then the newest. The last key is the pk,
# so the admin adds no tie-breaker of its own and PostgreSQL reads the first page from the index.
CONSOLE_ORDERING = [drafts_first().asc(), F("issuing_date").desc(), F("created_at").desc(), F("id").desc()]


class InvoiceQuerySet(models.QuerySet):
    def in_console_order(self):
        return self.order_by(*CONSOLE_ORDERING)

    def transition(self, from_status: str, to_status: str, **fields) -> int:
        """UPDATE these invoices from `from_status` to `to_status` (checked against the table), from-state in the WHERE.

        Returns how many rows changed: 0 means none was `from_status` any more (someone else won).
        """
        Invoice.check_transition(from_status, to_status)
        return self.filter(status=from_status).update(status=to_status, **fields)

    def drafts(self):
        return self.filter(status=Invoice.Status.DRAFT)

    def due(self, now):
        """Drafts whose grace period has ended at `now`."""
        return self.filter(status=Invoice.Status.DRAFT, grace_period_ends_at__lte=now)

    def visible(self):
        """What the API shows (Lago hides closed and other internal statuses)."""
        return self.filter(status__in=Invoice.VISIBLE_STATUSES)

    def finalized(self):
        return self.filter(status=Invoice.Status.FINALIZED)

    def closing_as_empty(self):
        """Drafts finalization would close as empty today: no fees, and the customer's empty-invoice policy
        says skip. The same rule as `finalize_invoices` (`not fees and not customer.finalizes_empty_invoices()`),
        as SQL; a subscription draft's refresh at finalization may still bring fees."""
        from customers.models import Customer

        return self.drafts().filter(~models.Exists(Fee.objects.filter(invoice=models.OuterRef("pk")))).exclude(
            Customer.finalizes_empty_invoices_q("customer__")
        )

    def with_ui_status(self, ui_status: str):
        """The invoices `derive_invoice_ui_status` shows as `ui_status`: the same rule, as SQL."""
        finalized = Q(status=Invoice.Status.FINALIZED)
        paid = Q(payment_status=Invoice.PaymentStatus.SUCCEEDED)
        conditions = {
            "paid": finalized & paid,
            "overdue": finalized & ~paid & Q(payment_overdue=True),
            "payment_failed": finalized & Q(payment_status=Invoice.PaymentStatus.FAILED, payment_overdue=False),
            "finalized": finalized & ~paid & ~Q(payment_status=Invoice.PaymentStatus.FAILED) & Q(payment_overdue=False),
        }
        return self.filter(conditions.get(ui_status, Q(status=ui_status)))


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINALIZED = "finalized", "Finalized"
        VOIDED = "voided", "Voided"
        FAILED = "failed", "Failed"
        PENDING = "pending", "Pending"
        CLOSED = "closed", "Closed (empty, skipped)"
        DELETED = "deleted", "Deleted (draft removed through the API)"

    class PaymentStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class InvoiceType(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        ONE_OFF = "one_off", "One-off"
        CREDIT = "credit", "Credit (wallet top-up)"

    VISIBLE_STATUSES = ["draft", "finalized", "voided", "failed", "pending"]
    # The only status changes there are (Lago's state machine: finalize, close an empty draft,
    # mark_as_deleted, void). Every other status is terminal here; `failed` and `pending` (Lago's
    # tax-provider states) are never entered. The PostgreSQL trigger is generated from this table.
    STATUS_TRANSITIONS = {
        Status.DRAFT.value: frozenset({Status.FINALIZED.value, Status.CLOSED.value, Status.DELETED.value}),
        Status.FINALIZED.value: frozenset({Status.VOIDED.value}),
    }
    # Lago's PUT /invoices/:id takes any of the three payment statuses (a back office corrects a
    # wrong "succeeded"), so every change between them is allowed; what limits it is the status:
    # it changes only on a finalized invoice, or as finalization (draft → finalized | closed) sets it.
    PAYMENT_STATUS_TRANSITIONS = {
        PaymentStatus.PENDING.value: frozenset({PaymentStatus.SUCCEEDED.value, PaymentStatus.FAILED.value}),
        PaymentStatus.FAILED.value: frozenset({PaymentStatus.PENDING.value, PaymentStatus.SUCCEEDED.value}),
        PaymentStatus.SUCCEEDED.value: frozenset({PaymentStatus.PENDING.value, PaymentStatus.FAILED.value}),
    }
    PAYMENT_STATUS_OPEN_IN = frozenset({Status.FINALIZED.value})
    # What finalization freezes. payment_status, payment_overdue, total_paid_amount_cents,
    # metadata, voided_at and the PDF keep changing after it.
    FROZEN_FIELDS = [
        "customer_id", "billing_entity_id", "invoice_type", "currency", "number", "sequential_id",
        "billing_entity_sequential_id", "issuing_date", "payment_due_date", "net_payment_term",
        "period_from", "period_to", "fees_amount_cents", "coupons_amount_cents",
        "progressive_billing_credit_amount_cents", "sub_total_excluding_taxes_amount_cents",
        "taxes_amount_cents", "sub_total_including_taxes_amount_cents", "credit_notes_amount_cents",
        "prepaid_credit_amount_cents", "total_amount_cents", "finalized_at",
    ]
    # What `invoices.totals.compute_totals` sets, in Lago's order.
    AMOUNT_FIELDS = [
        "fees_amount_cents", "progressive_billing_credit_amount_cents", "coupons_amount_cents",
        "sub_total_excluding_taxes_amount_cents", "taxes_amount_cents", "sub_total_including_taxes_amount_cents",
        "credit_notes_amount_cents", "prepaid_credit_amount_cents", "total_amount_cents",
    ]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="Lago id")
    billing_entity = models.ForeignKey("customers.BillingEntity", on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="invoices")
    invoice_type = models.CharField(max_length=16, choices=InvoiceType.choices, default=InvoiceType.SUBSCRIPTION)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    payment_status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    payment_overdue = models.BooleanField(default=False)
    currency = models.CharField(max_length=3, validators=[validate_currency])

    number = models.CharField(max_length=64, db_index=True)
    sequential_id = models.PositiveIntegerField(null=True, blank=True, help_text="Per customer and billing entity.")
    billing_entity_sequential_id = models.PositiveIntegerField(null=True, blank=True)

    issuing_date = models.DateField(null=True, blank=True)
    payment_due_date = models.DateField(null=True, blank=True)
    net_payment_term = models.PositiveIntegerField(default=0)
    period_from = models.DateTimeField(null=True, blank=True, help_text="Start of the billing period.")
    period_to = models.DateTimeField(null=True, blank=True, help_text="End of the billing period.")
    priced_at = models.DateTimeField(null=True, blank=True, editable=False,
                                     help_text="When the draft's fees were last computed from usage (billing run, refresh).")
    priced_usage_version = models.BigIntegerField(null=True, blank=True, editable=False,
                                                  help_text="The usage watermark its fees were computed at (usage.watermark).")
    grace_period_ends_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker finalizes this draft by itself (null: never)."
    )

    fees_amount_cents = models.BigIntegerField(default=0)
    progressive_billing_credit_amount_cents = models.BigIntegerField(default=0)
    coupons_amount_cents = models.BigIntegerField(default=0)
    sub_total_excluding_taxes_amount_cents = models.BigIntegerField(default=0)
    taxes_amount_cents = models.BigIntegerField(default=0)
    sub_total_including_taxes_amount_cents = models.BigIntegerField(default=0)
    credit_notes_amount_cents = models.BigIntegerField(default=0)
    prepaid_credit_amount_cents = models.BigIntegerField(default=0)
    total_amount_cents = models.BigIntegerField(default=0)
    total_paid_amount_cents = models.BigIntegerField(default=0)
    # Offsets of finalized credit notes reduce what is due without changing the total (issue: credit notes).
    credit_notes_offset_amount_cents = models.BigIntegerField(default=0)

    metadata = models.JSONField(default=list, blank=True)
    # The PDF of a finalized invoice, rendered after commit by a task (never blocks finalization).
    pdf_file = models.FileField(upload_to="invoices/", blank=True)
    pdf_generated_at = models.DateTimeField(null=True, blank=True)
    pdf_error = models.TextField(blank=True, help_text="Why the last PDF render failed; cleared on success.")
    # Subscription invoices: one per (subscription, period), enforced below.
    subscription = models.ForeignKey(
        "subscriptions.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    voided_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="regenerated_invoices",
        help_text="The voided invoice this one was regenerated from.",
    )
    finalized_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issuing_date", "-created_at"]
        permissions = [("finalize_invoice", "Can finalize invoices")]
        indexes = [
            # The grace-period worker asks "which drafts are due"; only drafts need the index.
            models.Index(fields=["grace_period_ends_at"], name="invoice_draft_deadline_idx", condition=Q(status="draft")),
            models.Index(fields=["status", "issuing_date"], name="invoice_status_issuing_idx"),
            models.Index(fields=["customer", "status"], name="invoice_customer_status_idx"),
            # The console's list order (CONSOLE_ORDERING): drafts first, then the newest, at any size.
            models.Index(drafts_first(), F("issuing_date").desc(), F("created_at").desc(), F("id").desc(),
                         name="invoice_console_order_idx"),
            # The close dashboard's "finalized today" (a scan of every invoice without it: 0.3 s at a million).
            models.Index(fields=["finalized_at"], name="invoice_finalized_at_idx", condition=Q(finalized_at__isnull=False)),
            # The invoice list's per-currency footer and count (invoices/admin/invoice.py currency_totals).
            models.Index(fields=["currency", "total_amount_cents"], name="invoice_currency_total_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["billing_entity", "customer", "sequential_id"], name="invoice_unique_customer_sequence",
                condition=Q(sequential_id__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["billing_entity", "billing_entity_sequential_id"], name="invoice_unique_entity_sequence",
                condition=Q(billing_entity_sequential_id__isnull=False),
            ),
            models.CheckConstraint(condition=Q(total_amount_cents__gte=0), name="invoice_total_not_negative"),
            models.UniqueConstraint(
                fields=["subscription", "period_from"], name="invoice_unique_subscription_period",
                condition=Q(subscription__isnull=False),
            ),
        ]

    def __str__(self):
        return self.label

    # Statuses whose stored number is only the `PREFIX-DRAFT` placeholder: numbers are given at finalization.
    UNNUMBERED_LABELS = {Status.DRAFT.value: "Draft", Status.CLOSED.value: "Closed", Status.DELETED.value: "Deleted"}

    @property
    def has_number(self) -> bool:
        """False while the stored number is the placeholder (a draft, or a draft closed or deleted unnumbered)."""
        return self.status not in self.UNNUMBERED_LABELS

    @property
    def label(self) -> str:
        """How the console names an invoice: its number, or, while it has none (the stored number is only the
        `PREFIX-DRAFT` placeholder), "Draft · Acme (acme-us) · Jan 2026" ("Closed · …" for an empty draft the
        policy closed). Needs the customer loaded."""
        if self.has_number or not self.customer_id:
            return (self.number if self.has_number else "") or str(self.id)
        customer = self.customer
        who = f"{customer.name} ({customer.external_id})" if customer.name else customer.external_id
        parts = [self.UNNUMBERED_LABELS[self.status], who]
        if self.period_from:
            parts.append(f"{self.period_from.astimezone(customer.tzinfo):%b %Y}")
        return " · ".join(parts)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def ui_status(self) -> str:
        return derive_invoice_ui_status(self.status, self.payment_status, self.payment_overdue)

    @property
    def total_due_amount_cents(self) -> int:
        if self.status == self.Status.VOIDED:
            return 0
        return max(self.total_amount_cents - self.total_paid_amount_cents - self.credit_notes_offset_amount_cents, 0)

    def display(self, field: str) -> str:
        """An amount field formatted with the currency's decimals, e.g. display('total_amount_cents')."""
        return format_amount(getattr(self, field), self.currency)

    # --- transitions ---------------------------------------------------------------------------

    TRACKED_FIELDS = ("status", "payment_status", "payment_overdue")

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = {name: value for name, value in zip(field_names, values) if name in cls.TRACKED_FIELDS}
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self.remember_stored(fields)

    def remember_stored(self, fields=None):
        """Note the tracked fields as now stored (after a write that did not go through save())."""
        loaded = getattr(self, "_loaded", None)
        if loaded is None:
            loaded = self._loaded = {}
        deferred = self.get_deferred_fields()
        for name in self.TRACKED_FIELDS:
            if (fields is None or name in fields) and name not in deferred:
                loaded[name] = getattr(self, name)

    def _stored(self, name):
        """The value of a tracked field as loaded from the database (read again if it was deferred)."""
        loaded = getattr(self, "_loaded", {})
        if name not in loaded:
            loaded[name] = Invoice.objects.filter(pk=self.pk).values_list(name, flat=True).first()
        return loaded[name]

    @classmethod
    def check_transition(cls, current: str, new: str, *, invoice=None) -> None:
        """Raise InvalidTransition unless `current` → `new` is in STATUS_TRANSITIONS (no change is fine)."""
        if current != new and new not in cls.STATUS_TRANSITIONS.get(current, ()):
            allowed = ", ".join(sorted(cls.STATUS_TRANSITIONS.get(current, ()))) or "none, it is final"
            raise InvalidTransition(
                f"{_name(invoice)}: status {current} → {new} is not an allowed transition "
                f"(from {current}: {allowed})."
            )

    @classmethod
    def check_payment_status_change(cls, current: str, new: str, *, status_before: str, status_after: str, invoice=None) -> None:
        """Raise InvalidTransition unless the payment status may go `current` → `new` on this invoice."""
        if current == new:
            return
        finalizing = status_before == cls.Status.DRAFT and status_after in cls.STATUS_TRANSITIONS[cls.Status.DRAFT]
        if new not in cls.PAYMENT_STATUS_TRANSITIONS.get(current, ()) or not (
            finalizing or (status_before in cls.PAYMENT_STATUS_OPEN_IN and status_after in cls.PAYMENT_STATUS_OPEN_IN)
        ):
            raise InvalidTransition(
                f"{_name(invoice)}: payment status {current} → {new} is not allowed on a {status_after} invoice "
                "(only finalized invoices change payment status)."
            )

    @classmethod
    def check_overdue_change(cls, current: bool, new: bool, *, status: str, payment_status: str, invoice=None) -> None:
        """The overdue flag is raised only on a finalized, unpaid invoice; clearing it is always allowed."""
        if new and not current and (status != cls.Status.FINALIZED or payment_status == cls.PaymentStatus.SUCCEEDED):
            raise InvalidTransition(
                f"{_name(invoice)}: only a finalized, unpaid invoice can become overdue "
                f"(it is {status}, payment {payment_status})."
            )

    def _check_transitions(self, update_fields) -> None:
        # Like save(): without update_fields, deferred fields are not written.
        saved = set(self.TRACKED_FIELDS) - self.get_deferred_fields() if update_fields is None else set(update_fields) & set(self.TRACKED_FIELDS)
        if not saved:
            return
        status_before = self._stored("status")
        status_after = self.status if "status" in saved else status_before
        if "status" in saved:
            self.check_transition(status_before, self.status, invoice=self)
        if "payment_status" in saved:
            self.check_payment_status_change(
                self._stored("payment_status"), self.payment_status, status_before=status_before,
                status_after=status_after, invoice=self,
            )
        if "payment_overdue" in saved:
            payment_status = self.payment_status if "payment_status" in saved else self._stored("payment_status")
            self.check_overdue_change(
                self._stored("payment_overdue"), self.payment_overdue, status=status_after,
                payment_status=payment_status, invoice=self,
            )

    def save(self, *args, **kwargs):
        if not self.number:
            self.number = f"{self.billing_entity.document_number_prefix}-DRAFT"
        if not is_unsaved(self):
            self._check_transitions(kwargs.get("update_fields"))
            self._refuse_frozen_changes(kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        self.remember_stored(kwargs.get("update_fields"))

    def _refuse_frozen_changes(self, update_fields):
        fields = self.FROZEN_FIELDS if update_fields is None else [f for f in self.FROZEN_FIELDS if f in update_fields or f.removesuffix("_id") in update_fields]
        if not fields:
            return
        stored = Invoice.objects.filter(pk=self.pk).values("status", *fields).first()
        if stored is None or stored["status"] == self.Status.DRAFT:
            return
        changed = [f for f in fields if stored[f] != getattr(self, f)]
        if changed:
            raise InvoiceLocked(
                f"Invoice {stored.get('number') or self.pk} is {stored['status']}: "
                f"{', '.join(changed)} can no longer change.",
                code="invoice_not_draft",
            )


class Fee(models.Model):
    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        CHARGE = "charge", "Charge"
        ADD_ON = "add_on", "Add-on"
        CREDIT = "credit", "Credit (wallet top-up)"

    class Adjustment(models.TextChoices):
        NONE = "none", "None"
        TOTAL_UNITS = "total_units", "Total units"
        TOTAL_AMOUNT = "total_amount", "Total amount"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="fees")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    units = models.DecimalField(max_digits=30, decimal_places=10, default=0)
    unit_amount_cents = models.BigIntegerField(default=0)
    # Unrounded unit price in minor units, for prices that come from tiers (amount / units).
    precise_unit_amount = models.DecimalField(max_digits=40, decimal_places=15, default=0)
    amount_cents = models.BigIntegerField(default=0)
    precise_amount_cents = models.DecimalField(max_digits=40, decimal_places=15, default=0)
    # Coupon share spread pro rata onto the fee (finalization only); taxes are computed on amount - share.
    precise_coupons_amount_cents = models.DecimalField(max_digits=30, decimal_places=5, default=0)
    taxes_rate = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    taxes_amount_cents = models.BigIntegerField(default=0)
    from_datetime = models.DateTimeField(null=True, blank=True)
    to_datetime = models.DateTimeField(null=True, blank=True)
    adjustment = models.CharField(max_length=16, choices=Adjustment.choices, default=Adjustment.NONE)
    add_on = models.ForeignKey("addons.AddOn", null=True, blank=True, on_delete=models.PROTECT, related_name="fees")
    # Subscription invoices: what the fee bills, so a refresh re-matches it (and keeps its adjustments).
    subscription = models.ForeignKey("subscriptions.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="fees")
    charge = models.ForeignKey("plans.Charge", null=True, blank=True, on_delete=models.PROTECT, related_name="fees")
    charge_filter = models.ForeignKey("plans.ChargeFilter", null=True, blank=True, on_delete=models.PROTECT, related_name="fees")
    events_count = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.invoice_display_name or self.description or self.get_kind_display()

    @property
    def total_amount_cents(self) -> int:
        return self.amount_cents + self.taxes_amount_cents

    def save(self, *args, **kwargs):
        self._refuse_unless_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_unless_draft()
        return super().delete(*args, **kwargs)

    def _refuse_unless_draft(self):
        status = Invoice.objects.filter(pk=self.invoice_id).values_list("status", flat=True).first()
        if status is not None and status != Invoice.Status.DRAFT:
            raise InvoiceLocked(f"The invoice is {status}: its fees can no longer change.", code="invoice_not_draft")


class FeeTax(models.Model):
    """A tax applied to one fee: a snapshot of the tax at the time, so later rate changes don't rewrite history."""

    fee = models.ForeignKey(Fee, on_delete=models.CASCADE, related_name="applied_taxes")
    tax = models.ForeignKey("customers.Tax", null=True, on_delete=models.SET_NULL, related_name="+")
    tax_code = models.CharField(max_length=64)
    tax_name = models.CharField(max_length=120)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3)
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["tax_code"]


class InvoiceTax(models.Model):
    """One line per tax on the invoice: what it was applied to and how much it came to."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="applied_taxes")
    tax = models.ForeignKey("customers.Tax", null=True, on_delete=models.SET_NULL, related_name="+")
    tax_code = models.CharField(max_length=64)
    tax_name = models.CharField(max_length=120)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3)
    fees_amount_cents = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["tax_code"]


class TaskRun(models.Model):
    """One run of a scheduled task, written by the task itself: what the close dashboard shows of the worker.

    django-q2 keeps its own Success/Failure rows, but not what a run did (how many drafts it finalized or
    closed, which failed and stayed drafts), and a run from `manage.py` leaves none at all.
    """

    class Kind(models.TextChoices):
        FINALIZE_SWEEP = "finalize_due_invoices", "Grace-period sweep"
        BILLING_RUN = "run_billing", "Billing run"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True, help_text="Null: still running, or it crashed.")
    finalized = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0, help_text="Sweep: drafts that could not be finalized and stay drafts.")
    subscriptions = models.PositiveIntegerField(default=0, help_text="Billing run: subscriptions that got an invoice.")
    created = models.PositiveIntegerField(default=0, help_text="Billing run: invoices created.")
    error = models.TextField(blank=True, help_text="Why the run stopped, when it did not finish.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "-started_at"], name="taskrun_kind_started_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    @classmethod
    def last(cls, kind):
        return cls.objects.filter(kind=kind).order_by("-started_at").first()
