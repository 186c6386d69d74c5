"""The operator console for invoices: review drafts, edit their fees, finalize them.

Nothing here changes an invoice by itself. Fee edits go through
`invoices.transitions.fee_edits` and finalization through `invoices.transitions.finalization`, so the
admin, the JSON endpoint, the API and the worker share one rule each, and each
change is recomputed and audited in its own transaction.
"""
import csv
from dataclasses import dataclass
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.db.models import Count, Q, Sum
from django.http import StreamingHttpResponse
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from upstream.models import SyncRun  # the invoice page dates the mirror by the last successful run

from audit.actors import Actor
from core.admin import permission_required
from core.csv_cells import Echo, safe_cell
from core.db import is_unsaved
from customers.models import Customer
from core.money import currency_exponent, format_amount, major_to_cents

from ..transitions import fee_edits
from ..transitions.finalization import CLOSED, FINALIZED, finalize_invoice
from ..models import CONSOLE_ORDERING, Fee, Invoice
from ..readiness import problems_of, readiness_problems, with_readiness
from . import bulk_finalize, draft_tools, pdf_views, reversal
from .filters import CLOSE_FILTERS, CurrencyFilter
from .draft_tools import can_use_draft_tools
from .reversal import reversal_panel, void_selected_invoices
from ..ui_status import BADGE_COLOURS, UI_STATUSES
from upstream import config as upstream_config
from upstream.models import InvoiceMirror
from upstream.operations import fee_edit_refusal

FINALIZE_PERMISSION = "invoices.finalize_invoice"


def status_badge(ui_status: str):
    """The coloured UI-status badge of the list and the invoice page."""
    return format_html(
        '<span class="ui-status ui-status-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;font-size:11px;font-weight:600;white-space:nowrap">{}</span>',
        ui_status, BADGE_COLOURS.get(ui_status, "#6b7280"), ui_status.replace("_", " "),
    )


@dataclass(frozen=True)
class ObjectTool:
    """A button in the invoice page's object tools: adding one is one line in `InvoiceAdmin.object_tools`.

    `url_name` is a URL name reversed with the invoice's pk ("admin:" is implied unless it has a
    namespace); the button shows when the user has `permission` (if any) and `condition(invoice)` holds.
    A `post` tool is a small form (with the CSRF token) for actions that change something at once;
    consequential ones should rather link (GET) to a confirmation page, as "Finalize invoice" does.
    """

    label: str
    url_name: str
    permission: str | None = None
    condition: Callable[[Invoice], bool] = lambda invoice: True
    post: bool = False
    primary: bool = False  # the page's main action, styled apart from History and the rest

    def url(self, invoice) -> str:
        return reverse(self.url_name if ":" in self.url_name else f"admin:{self.url_name}", args=[invoice.pk])


# --- list filters ---------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        # Drafts first: reviewing them is what the console is for (runbook step 1).
        return [(Invoice.Status.DRAFT, "Draft")] + [c for c in Invoice.Status.choices if c[0] != Invoice.Status.DRAFT]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class UiStatusFilter(admin.SimpleListFilter):
    title = "UI status"
    parameter_name = "ui_status"

    def lookups(self, request, model_admin):
        return [(value, value.replace("_", " ").capitalize()) for value in UI_STATUSES]

    def queryset(self, request, queryset):
        return queryset.with_ui_status(self.value()) if self.value() else queryset


# --- fees inline ----------------------------------------------------------------------------


class FeeForm(forms.ModelForm):
    """One fee row of a draft. Amounts are typed in major units (12.34 USD, 1200 JPY).

    The form only validates; saving goes through `fee_edits` (see InvoiceAdmin.save_formset).
    """

    adjustment = forms.ChoiceField(choices=Fee.Adjustment.choices, initial=Fee.Adjustment.TOTAL_UNITS)
    units = forms.DecimalField(min_value=0, max_digits=30, decimal_places=10, required=False)
    unit_price = forms.DecimalField(min_value=0, required=False, help_text="New fees only, in major units.")
    amount = forms.DecimalField(min_value=0, required=False, help_text="Major units; used with Total amount.")

    class Meta:
        model = Fee
        fields = ["invoice_display_name", "adjustment", "units"]

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        exponent = currency_exponent(currency)
        if not is_unsaved(self.instance):  # (a new Fee already has its uuid pk)
            self.fields["unit_price"].disabled = True
            self.fields["unit_price"].initial = self._major(self.instance.unit_amount_cents, exponent)
            self.fields["amount"].initial = self._major(self.instance.amount_cents, exponent)
            self.initial["units"] = Decimal(_plain(self.instance.units))
        self.fields["units"].widget.attrs["size"] = 8
        self.fields["units"].widget.attrs["style"] = "width:7em"
        for name in ("unit_price", "amount"):
            self.fields[name].widget.attrs["style"] = "width:8em"

    @staticmethod
    def _major(cents, exponent):
        return Decimal(int(cents)).scaleb(-exponent)

    def clean(self):
        data = super().clean()
        if self.errors or data.get("DELETE"):
            return data
        data["amount_cents"] = self._cents("amount")
        data["unit_amount_cents"] = self._cents("unit_price") or 0
        if is_unsaved(self.instance):
            fee = Fee(unit_amount_cents=data["unit_amount_cents"], precise_unit_amount=data["unit_amount_cents"])
        else:
            fee = self.instance
        try:
            fee_edits.validate_adjustment(fee, *self.edit_arguments())
        except ValidationError as error:
            raise _form_error(error)
        return data

    def _cents(self, field):
        """A major-unit amount in minor units of the invoice's currency (refusing extra decimals)."""
        value = self.cleaned_data.get(field)
        if value is None:
            return None
        try:
            return major_to_cents(value, self.currency)
        except ValidationError as error:
            raise ValidationError({field: error.messages})

    def edit_arguments(self):
        """(adjustment, units, amount_cents) for fee_edits: figures only when the operator changed them."""
        data = self.cleaned_data
        adjustment = data.get("adjustment")
        figures_changed = is_unsaved(self.instance) or {"adjustment", "units", "amount"} & set(self.changed_data)
        if not figures_changed:
            return None, None, None
        units = data.get("units")
        amount_cents = data.get("amount_cents")
        if adjustment == Fee.Adjustment.TOTAL_AMOUNT and not is_unsaved(self.instance) and "units" not in self.changed_data:
            units = None
        if adjustment == Fee.Adjustment.TOTAL_UNITS:
            amount_cents = None
        return adjustment, units, amount_cents


class FeeEditRefused(Exception):
    """A fee edit refused while saving: raised out of the admin's transaction, so nothing of the save is kept."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


def _plain(number) -> str:
    """A Decimal without trailing zeros or exponent: 20.000 -> '20', 2.50 -> '2.5'."""
    return f"{number.normalize():f}"


def _form_error(error: ValidationError) -> ValidationError:
    """fee_edits speaks of amount_cents; the form's field is amount."""
    if hasattr(error, "error_dict"):
        return ValidationError({("amount" if key == "amount_cents" else key): value for key, value in error.error_dict.items()})
    return error


def is_mirror(invoice) -> bool:
    """Upstream mode, and the invoice is a copy of a Lago invoice (its fees are Lago's)."""
    return upstream_config.enabled() and InvoiceMirror.objects.filter(pk=invoice.pk).exists()


def refreshable(invoice) -> bool:
    """The Refresh button: a subscription draft here; in upstream mode any mirrored draft (Lago refreshes it)."""
    return can_use_draft_tools(invoice) or (invoice.is_draft and is_mirror(invoice))


class FeeInline(admin.TabularInline):
    model = Fee
    form = FeeForm
    extra = 0
    editable_fields = ["invoice_display_name", "kind", "adjustment", "units", "unit_price", "amount", "taxes"]
    readonly_editable = ["kind", "taxes"]
    display_fields = ["invoice_display_name", "kind", "adjustment", "units_display", "unit_price_display", "amount_display", "taxes", "total_display"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")  # amounts are shown in its currency

    template = "admin/invoices/invoice/fee_inline.html"  # Django's tabular inline, with the upstream-mode notice above it

    def fees_editable(self, request, invoice) -> bool:
        # Upstream mode: a mirror's fees are Lago's (adjusted fees are made in Lago's dashboard); never edited here alone.
        if invoice is not None and is_mirror(invoice):
            return False
        return invoice is not None and invoice.is_draft and request.user.has_perm("invoices.change_fee")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a class made for this request: the notice is this invoice's
        formset.upstream_notice = ""
        if obj is not None and obj.is_draft and is_mirror(obj):
            formset.upstream_notice = format_html(
                '{} <a href="{}" target="_blank" rel="noopener">Open this invoice in Lago</a>.',
                fee_edit_refusal(obj), upstream_config.invoice_url(obj.pk))
        return formset

    def get_fields(self, request, obj=None):
        return self.editable_fields if self.fees_editable(request, obj) else self.display_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_editable if self.fees_editable(request, obj) else self.display_fields

    def has_add_permission(self, request, obj=None):
        return self.fees_editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.fees_editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.fees_editable(request, obj) and super().has_delete_permission(request, obj)

    @admin.display(description="taxes")
    def taxes(self, fee):
        return "-" if is_unsaved(fee) else format_amount(fee.taxes_amount_cents, fee.invoice.currency)

    @admin.display(description="units")
    def units_display(self, fee):
        return _plain(fee.units)

    @admin.display(description="unit price")
    def unit_price_display(self, fee):
        return format_amount(fee.unit_amount_cents, fee.invoice.currency)

    @admin.display(description="amount")
    def amount_display(self, fee):
        return format_amount(fee.amount_cents, fee.invoice.currency)

    @admin.display(description="total")
    def total_display(self, fee):
        return format_amount(fee.total_amount_cents, fee.invoice.currency)


# --- list columns shared by the list, the CSV and the confirmation pages ------------------------


AMOUNT_SORT_FIELDS = {"total_amount_cents", "fees_amount_cents", "taxes_amount_cents"}


SEARCH_CUSTOMERS_LIMIT = 500  # more matching customers than this: searched by subquery instead of by id list


def currency_totals(queryset) -> list[dict]:
    """The filtered list's totals per currency: one aggregate query, grouped by currency."""
    # COUNT(*), not COUNT(id): PostgreSQL then answers from invoice_currency_total_idx alone (an index-only scan).
    rows = queryset.order_by().values("currency").annotate(
        invoices=Count("*"), total=Sum("total_amount_cents")).order_by("currency")
    return [{"currency": row["currency"], "invoices": row["invoices"], "total": format_amount(row["total"], row["currency"])}
            for row in rows]


class TotalsPaginator(Paginator):
    """The list's paginator, counting with the footer's per-currency totals: one aggregate query for both.

    At a million invoices the list's COUNT(*) and the footer's GROUP BY currency were two scans of the
    same rows; the count is the sum of the per-currency counts.
    """

    @cached_property
    def currency_totals(self) -> list[dict]:
        return currency_totals(self.object_list)

    @cached_property
    def count(self) -> int:
        return sum(row["invoices"] for row in self.currency_totals)


class InvoiceChangeList(ChangeList):
    """Sorting by an amount keeps each currency together: (currency, amount), never 509.85 EUR above 21,294 JPY."""

    def get_ordering(self, request, queryset):
        ordering = []
        for key in super().get_ordering(request, queryset):
            if isinstance(key, str) and key.lstrip("-") in AMOUNT_SORT_FIELDS and "currency" not in ordering:
                ordering.append("currency")
            ordering.append(key)
        return ordering


def local_period(invoice) -> str:
    """The billing period in the customer's zone, e.g. "2026-01-01 → 2026-01-31"."""
    if not invoice.period_from or not invoice.period_to:
        return "-"
    tz = invoice.customer.tzinfo
    return f"{timezone.localtime(invoice.period_from, tz):%Y-%m-%d} → {timezone.localtime(invoice.period_to, tz):%Y-%m-%d}"


def local_deadline(invoice, *, with_zone=True) -> str:
    """A draft's grace deadline in the customer's zone (the zone named), or "" when there is none."""
    if not invoice.is_draft or not invoice.grace_period_ends_at:
        return ""
    local = timezone.localtime(invoice.grace_period_ends_at, invoice.customer.tzinfo)
    return f"{local:%Y-%m-%d %H:%M} {invoice.customer.applicable_timezone}" if with_zone else f"{local:%Y-%m-%d %H:%M}"


def deadline_html(invoice):
    """The deadline in the customer's zone, with the UTC instant on hover."""
    shown = local_deadline(invoice)
    if not shown:
        return "-"
    utc = invoice.grace_period_ends_at.astimezone(dt_timezone.utc)
    return format_html('<span class="grace-deadline" title="{} UTC">{}</span>', f"{utc:%Y-%m-%d %H:%M}", shown)


CSV_COLUMNS = ["invoice", "number", "status", "ui_status", "customer_external_id", "customer_name", "invoice_type",
               "currency", "period_from", "period_to", "grace_period_ends_at", "issuing_date", "fees", "taxes", "total"]


def csv_row(invoice) -> list[str]:
    """One invoice as CSV cells; every cell through safe_cell (names and ids come from customers)."""
    exponent = currency_exponent(invoice.currency)

    def major(cents):
        return f"{Decimal(int(cents)).scaleb(-exponent):f}"

    cells = [
        invoice.label, invoice.number if invoice.has_number else "", invoice.status, invoice.ui_status,
        invoice.customer.external_id, invoice.customer.name, invoice.invoice_type, invoice.currency,
        *(timezone.localtime(value, invoice.customer.tzinfo).date().isoformat() if value else ""
          for value in (invoice.period_from, invoice.period_to)),
        invoice.grace_period_ends_at.isoformat() if invoice.is_draft and invoice.grace_period_ends_at else "",
        invoice.issuing_date.isoformat() if invoice.issuing_date else "",
        major(invoice.fees_amount_cents), major(invoice.taxes_amount_cents), major(invoice.total_amount_cents),
    ]
    return [safe_cell(cell) for cell in cells]


def closes_as_empty(invoice) -> bool:
    """Finalization's empty-invoice rule (transitions.finalization): a draft without fees whose customer
    does not finalize empty invoices is closed without a number. `invoice.fees` prefetched."""
    return invoice.is_draft and not invoice.fees.all() and not invoice.customer.finalizes_empty_invoices()


def bulk_result_details(outcomes) -> str:
    """What each invoice became: " Finalized: Draft · Acme … → ACME-202601-007; …" (numbers are new)."""
    parts = []
    finalized = [o for o in outcomes if o.result == FINALIZED and o.invoice is not None]
    closed = [o for o in outcomes if o.result == CLOSED]
    if finalized:
        parts.append("Finalized: " + "; ".join(f"{o.invoice.number} ({o.invoice.customer.external_id})" for o in finalized) + ".")
    if closed:
        parts.append("Closed as empty: " + "; ".join(
            f"{o.invoice.customer.external_id} draft" if o.invoice is not None else str(o.invoice_id) for o in closed) + ".")
    return (" " + " ".join(parts)) if parts else ""


# --- the invoice admin ----------------------------------------------------------------------


TOTAL_FIELDS = [
    ("fees_amount_cents", "Fees"),
    ("coupons_amount_cents", "Coupons"),
    ("sub_total_excluding_taxes_amount_cents", "Sub-total excluding taxes"),
    ("taxes_amount_cents", "Taxes"),
    ("sub_total_including_taxes_amount_cents", "Sub-total including taxes"),
    ("credit_notes_amount_cents", "Credit notes"),
    ("prepaid_credit_amount_cents", "Prepaid credits"),
    ("total_amount_cents", "Total"),
    ("total_paid_amount_cents", "Paid"),
]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    # Seven columns fit 1366 px: drafts are told apart by customer, period and deadline; fees and taxes
    # are on the invoice page and in the CSV.
    list_display = ["label_column", "customer_column", "period_column", "ui_status_badge", "deadline_column",
                    "total_column", "issuing_date"]
    list_display_links = ["label_column"]
    # No "customer" filter (it lists every customer: 10,000 rows at scale; search by external id instead)
    # and no date_hierarchy (its SELECT DISTINCT over issuing dates scans the table: 1.4 s at 1M invoices).
    list_filter = [StatusFilter, UiStatusFilter, "invoice_type", CurrencyFilter, "billing_entity", *CLOSE_FILTERS]
    # Searched by get_search_results: a number by its prefix, a customer by name or external id.
    search_fields = ["number", "customer__external_id", "customer__name"]
    search_help_text = "An invoice number (or its start), or a customer's name or external id."
    list_select_related = ["customer", "billing_entity"]
    list_per_page = 50
    paginator = TotalsPaginator
    # "N results (M total)" would count the whole table again on every filtered page.
    show_full_result_count = False
    ordering = CONSOLE_ORDERING
    actions = ["finalize_selected", void_selected_invoices]
    inlines = [FeeInline]
    # The page reads top-down as a review: the summary, then the fees (change_form.html renders the inline
    # right after the first fieldset), then the details, folded. The deadline row is a draft's only.
    SUMMARY = "Summary"
    fieldsets = [
        # Laid out two rows abreast by admin.css (a grid), so each row keeps its own .field-<name> class.
        (SUMMARY, {"fields": ["customer_name", "customer_external_id", "number", "ui_status_badge", "billing_period",
                              "grace_deadline", "fees_total", "taxes_total", "grand_total", "total_due", "pdf_document"],
                   "classes": ["invoice-summary"]}),
        ("Details", {"fields": ["billing_entity", "customer_invoice_metadata", "id", "invoice_type", "status",
                                "payment_status", "payment_overdue", "currency", "issuing_date", "payment_due_date",
                                "net_payment_term_display", "finalized_at"],
                     "classes": ["collapse"]}),
        ("Totals in full", {"fields": ["taxes_breakdown", "coupons_total", "sub_total_excluding_taxes",
                                       "sub_total_including_taxes", "credit_notes_total", "prepaid_credits_total",
                                       "credits_panel"],
                            "classes": ["collapse"]}),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]
    # Buttons of the invoice page (templates/admin/invoices/invoice/change_form.html loops over them).
    object_tools = [
        ObjectTool("Finalize invoice", "invoices_invoice_finalize", "invoices.finalize_invoice", lambda invoice: invoice.is_draft,
                   primary=True),
        ObjectTool("Refresh", "invoices_invoice_refresh", "invoices.change_invoice", refreshable, post=True),
        ObjectTool("Add a fee for a charge…", "invoices_invoice_add_charge_fee", "invoices.change_invoice",
                   lambda invoice: can_use_draft_tools(invoice) and not is_mirror(invoice)),
        ObjectTool("Void…", "invoices_invoice_void", "invoices.change_invoice", lambda invoice: invoice.status == "finalized"),
        ObjectTool("Issue a credit note…", "invoices_invoice_credit_note", "invoices.change_invoice",
                   lambda invoice: invoice.status == "finalized" and invoice.invoice_type != "credit"),
        ObjectTool("Regenerate…", "invoices_invoice_regenerate", "invoices.change_invoice", lambda invoice: invoice.status == "voided"),
    ]

    class Media:
        css = {"all": ["console/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer__billing_entity", "billing_entity")

    def get_readonly_fields(self, request, obj=None):
        return list(super().get_readonly_fields(request, obj)) + ["upstream_panel"]

    @admin.display(description="Lago")
    def upstream_panel(self, invoice):
        mirror = InvoiceMirror.objects.filter(pk=invoice.pk).first()
        if mirror is None:
            return "Not a mirror of a Lago invoice (created here)."
        run = SyncRun.last_successful()
        last_run = f"{run.started_at:%Y-%m-%d %H:%M:%S} ({timesince(run.started_at)} ago)" if run else "none yet"
        return format_html(
            "Synced {} — {}. Last successful sync run: <span class=\"last-sync-run\">{}</span>.<br>Fee edits are not "
            "available in upstream mode: Lago's adjusted fees are made in the "
            'Lago dashboard. <a href="{}" target="_blank" rel="noopener">Open this invoice in Lago</a>, then sync.',
            f"{mirror.synced_at:%Y-%m-%d %H:%M:%S}", mirror.readiness, last_run, upstream_config.invoice_url(invoice.pk),
        )

    # -- permissions: invoices come from subscriptions and the one-off flow, never this form --

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # A finalized invoice's page is read-only (view permission): only drafts' fees change.
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def has_finalize_permission(self, request, obj=None):
        return request.user.has_perm(FINALIZE_PERMISSION)

    # -- list columns ----------------------------------------------------------------------

    def get_changelist(self, request, **kwargs):
        return InvoiceChangeList

    @admin.display(description="invoice", ordering="number")
    def label_column(self, invoice):
        return invoice.label

    @admin.display(description="customer", ordering="customer__name")
    def customer_column(self, invoice):
        customer = invoice.customer
        if not customer.name:
            return customer.external_id
        return format_html('{}<br><code class="external-id">{}</code>', customer.name, customer.external_id)

    @admin.display(description="period")
    def period_column(self, invoice):
        return local_period(invoice)

    @admin.display(description="grace deadline", ordering="grace_period_ends_at")
    def deadline_column(self, invoice):
        return deadline_html(invoice)

    @admin.display(description="UI status", ordering="status")
    def ui_status_badge(self, invoice):
        return status_badge(invoice.ui_status)

    @admin.display(description="fees", ordering="fees_amount_cents")
    def fees_column(self, invoice):
        return invoice.display("fees_amount_cents")

    @admin.display(description="taxes", ordering="taxes_amount_cents")
    def taxes_column(self, invoice):
        return invoice.display("taxes_amount_cents")

    @admin.display(description="total", ordering="total_amount_cents")  # by (currency, total): InvoiceChangeList
    def total_column(self, invoice):
        return invoice.display("total_amount_cents")

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if cl is not None:
            response.context_data["currency_totals"] = cl.paginator.currency_totals
            response.context_data["export_url"] = reverse("admin:invoices_invoice_export") + (
                f"?{request.GET.urlencode()}" if request.GET else "")
        return response


    def get_search_results(self, request, queryset, search_term):
        """Invoices whose number starts with the term, or whose customer's name or external id contains it.

        Django's default (icontains on each field across the customer join) reads every invoice: 1.4 s at a
        million. Here the number is matched by prefix on its index (numbers are upper case), and customers are
        matched in their own, far smaller table, the invoices then found by customer on theirs.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        customers = Customer.objects.filter(Q(external_id__icontains=term) | Q(name__icontains=term)).values_list("pk", flat=True)
        # The customer ids as a list, so the database can OR two index scans (a subquery would make it read every row).
        matched = list(customers[:SEARCH_CUSTOMERS_LIMIT + 1])
        by_customer = Q(customer__in=customers) if len(matched) > SEARCH_CUSTOMERS_LIMIT else Q(customer_id__in=matched)
        return queryset.filter(Q(number__startswith=term.upper()) | by_customer), False

    def export_csv_view(self, request):
        """The filtered list (the same ChangeList: filters, search, order) as a streamed CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied("Exporting invoices needs the permission invoices.view_invoice.")
        queryset = self.get_changelist_instance(request).get_queryset(request)
        writer = csv.writer(Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for invoice in queryset.iterator(chunk_size=2000):
                yield writer.writerow(csv_row(invoice))

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="invoices-{timezone.now():%Y%m%d-%H%M%S}.csv"'
        return response

    # -- invoice page ----------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fields = list(self.fieldsets[0][1]["fields"])
        if not (obj is not None and obj.is_draft and obj.grace_period_ends_at):
            # Finalized, voided, closed (or a draft the worker never finalizes): no deadline to show.
            fields.remove("grace_deadline")
        if upstream_config.enabled():
            fields.append("upstream_panel")  # where the mirror comes from, and why its fees are not edited here
        return [(self.SUMMARY, dict(self.fieldsets[0][1], fields=fields))] + self.fieldsets[1:]

    @admin.display(description="number")
    def number(self, invoice):
        # A draft's stored number is only the PREFIX-DRAFT placeholder (and stays so when it is closed or deleted).
        if invoice.has_number:
            return invoice.number
        return "none yet (given at finalization)" if invoice.is_draft else "none (never finalized)"

    @admin.display(description="grace deadline")
    def grace_deadline(self, invoice):
        return format_html("{} <span class=\"help\">The worker finalizes this draft then, unless someone does first.</span>",
                           deadline_html(invoice))

    @admin.display(description="net payment term")
    def net_payment_term_display(self, invoice):
        """A draft's term is the one finalization will apply (the customer's, else the entity's); after, the stored one."""
        if not invoice.is_draft:
            return f"{invoice.net_payment_term} days"
        customer = invoice.customer
        source = "the customer's" if customer.net_payment_term is not None else "the billing entity's"
        return f"{customer.applicable_net_payment_term} days ({source})"

    @admin.display(description="customer name")
    def customer_name(self, invoice):
        return invoice.customer.name

    @admin.display(description="customer id (external)")
    def customer_external_id(self, invoice):
        return invoice.customer.external_id

    @admin.display(description="customer metadata (on invoices)")
    def customer_invoice_metadata(self, invoice):
        """The customer's metadata flagged display_in_invoice, as the PDF prints them."""
        rows = invoice.customer.metadata.filter(display_in_invoice=True).values_list("key", "value")
        return format_html_join(mark_safe("<br>"), "{}: {}", rows) or "-"

    @admin.display(description="billing period")
    def billing_period(self, invoice):
        if not invoice.period_from or not invoice.period_to:
            return "-"
        tz = invoice.customer.tzinfo
        start, end = timezone.localtime(invoice.period_from, tz), timezone.localtime(invoice.period_to, tz)
        return f"{start:%Y-%m-%d} → {end:%Y-%m-%d} ({invoice.customer.applicable_timezone})"

    @admin.display(description="applied taxes")
    def taxes_breakdown(self, invoice):
        lines = list(invoice.applied_taxes.all())
        if not lines:
            return "-"
        return format_html_join(
            "", "<div>{} ({} %) on {}: {}</div>",
            ((line.tax_name, _plain(line.tax_rate), format_amount(line.fees_amount_cents, invoice.currency),
              format_amount(line.amount_cents, invoice.currency)) for line in lines),
        )

    def _amount(field, label):
        @admin.display(description=label)
        def show(self, invoice):
            return invoice.display(field)

        return show

    fees_total = _amount("fees_amount_cents", "fees")
    coupons_total = _amount("coupons_amount_cents", "coupons")
    sub_total_excluding_taxes = _amount("sub_total_excluding_taxes_amount_cents", "sub-total excluding taxes")
    taxes_total = _amount("taxes_amount_cents", "taxes")
    sub_total_including_taxes = _amount("sub_total_including_taxes_amount_cents", "sub-total including taxes")
    credit_notes_total = _amount("credit_notes_amount_cents", "credit notes")
    prepaid_credits_total = _amount("prepaid_credit_amount_cents", "prepaid credits")
    grand_total = _amount("total_amount_cents", "total")
    total_due = _amount("total_due_amount_cents", "total due")
    del _amount

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, FeeInline):
            kwargs["form_kwargs"] = {"currency": obj.currency if obj else "USD"}
        return kwargs

    def object_tools_for(self, request, invoice):
        return [
            {"label": tool.label, "url": tool.url(invoice), "post": tool.post, "primary": tool.primary}
            for tool in self.object_tools
            if (tool.permission is None or request.user.has_perm(tool.permission)) and tool.condition(invoice)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["invoice_tools"] = self.object_tools_for(request, obj)
            context["readiness"] = readiness_problems(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- saving: the invoice itself has nothing editable; fees go through fee_edits --------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # An operator's form of a draft that was finalized meanwhile (by a colleague or the worker)
        # gets a clear message instead of a bare 403; nothing is saved either way.
        if request.method == "POST" and object_id and self.has_change_permission(request):
            invoice = self.get_object(request, unquote(object_id))
            if invoice is not None and not invoice.is_draft:
                self.message_user(request, f"Invoice {invoice.number} is {invoice.status} now: its fees can no longer "
                                           "change and nothing was saved.", messages.ERROR)
                return HttpResponseRedirect(request.path)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except FeeEditRefused as refused:
            # Raised out of the admin's transaction.atomic(): the whole save, and its audit entries, rolled back.
            self.message_user(request, "Nothing was saved: " + " ".join(refused.error.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def save_model(self, request, obj, form, change):
        """Nothing on the invoice is edited by hand: totals follow from the fees."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Fee:
            return super().save_formset(request, form, formset, change)
        actor = Actor.operator(request.user)
        invoice = form.instance
        created, changed, deleted = [], [], []
        to_delete = formset.deleted_forms
        try:
            for fee_form in formset.forms:
                fee, existing = fee_form.instance, not is_unsaved(fee_form.instance)
                if existing and fee_form in to_delete:
                    fee_edits.remove_fee(fee.pk, actor)
                    deleted.append(fee)
                elif existing and fee_form.has_changed():
                    adjustment, units, amount_cents = fee_form.edit_arguments()
                    name = fee_form.cleaned_data.get("invoice_display_name")
                    changed.append((fee_edits.update_fee(
                        fee.pk, actor, adjustment=adjustment, units=units, amount_cents=amount_cents,
                        invoice_display_name=name if "invoice_display_name" in fee_form.changed_data else None,
                    ), fee_form.changed_data))
                elif not existing and fee_form.has_changed() and fee_form not in to_delete:
                    adjustment, units, amount_cents = fee_form.edit_arguments()
                    created.append(fee_edits.add_fee(
                        invoice.pk, actor, invoice_display_name=fee_form.cleaned_data.get("invoice_display_name", ""),
                        adjustment=adjustment, units=units, amount_cents=amount_cents,
                        unit_amount_cents=fee_form.cleaned_data.get("unit_amount_cents") or 0,
                    ))
        except ValidationError as error:
            # Lost a race (finalized meanwhile) or a rule the form could not foresee: undo the whole save
            # (changeform_view turns it into a message).
            raise FeeEditRefused(error)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = created, changed, deleted

    # -- finalization: the button with its confirmation page, and the bulk action ----------

    def get_urls(self):
        urls = [
            path("export.csv", self.admin_site.admin_view(self.export_csv_view), name="invoices_invoice_export"),
            path("<path:object_id>/finalize/", self.admin_site.admin_view(self.finalize_view), name="invoices_invoice_finalize"),
        ]
        # Each extra-view module exposes urls(model_admin); their views check their permission (core.admin).
        return (urls + draft_tools.urls(self) + reversal.urls(self) + pdf_views.urls(self) + bulk_finalize.urls(self)
                + super().get_urls())

    @admin.display(description="PDF")
    def pdf_document(self, obj):
        return pdf_views.pdf_links(obj)

    @admin.display(description="Coupons, credits and credit notes")
    def credits_panel(self, invoice):
        return reversal_panel(invoice)

    @permission_required(FINALIZE_PERMISSION)
    def finalize_view(self, request, object_id):
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:invoices_invoice_change", args=[invoice.pk])
        if request.method == "POST":
            outcome = finalize_invoice(invoice.pk, Actor.operator(request.user))
            level = {FINALIZED: messages.SUCCESS, CLOSED: messages.WARNING}.get(outcome.result, messages.ERROR)
            self.message_user(request, outcome.message, level)
            return HttpResponseRedirect(change_url)
        if not invoice.is_draft:
            self.message_user(request, f"{invoice.label} is {invoice.status}, not a draft: nothing to finalize.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Finalize {invoice.label}?",
            "opts": self.opts,
            "invoice": invoice,
            "badge": status_badge(invoice.ui_status),
            "period": self.billing_period(invoice),
            "fees": [
                {"name": fee.display_name, "units": _plain(fee.units), "amount": format_amount(fee.amount_cents, invoice.currency),
                 "taxes": format_amount(fee.taxes_amount_cents, invoice.currency)}
                for fee in invoice.fees.all()
            ],
            "totals": [(label, invoice.display(field)) for field, label in TOTAL_FIELDS],
            "finalizes_empty": invoice.customer.finalizes_empty_invoices(),
            "readiness": readiness_problems(invoice),
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/invoices/invoice/finalize_confirmation.html", context)

    @admin.action(permissions=["finalize"], description="Finalize selected invoices")
    def finalize_selected(self, request, queryset):
        """Each invoice in its own transaction; one message that counts what happened (never a 500).

        More than a page (or "select all" across pages) is a background job instead (bulk_finalize.py).
        """
        if bulk_finalize.runs_in_background(self, request, queryset):
            return bulk_finalize.confirm_or_queue(self, request, queryset)
        if request.POST.get("post") != "yes":
            return self._bulk_confirmation(request, queryset)
        actor = Actor.bulk_operator(request.user)
        counts = {FINALIZED: 0, CLOSED: 0, "refused": 0}
        upstream_refusals = []
        outcomes = []
        for invoice_id in queryset.values_list("pk", flat=True):
            outcome = finalize_invoice(invoice_id, actor)
            outcomes.append(outcome)
            counts[outcome.result if outcome.ok else "refused"] += 1
            if getattr(outcome, "upstream_failed", False):
                upstream_refusals.append(f"{outcome.invoice}: {outcome.message}")
        text = f"{counts[FINALIZED]} finalized, {counts[CLOSED]} closed as empty, {counts['refused']} refused (not a draft)."
        text += bulk_result_details(outcomes)
        if upstream_refusals:
            text = text.replace("(not a draft)", "(not a draft, or Lago refused)") + " Lago said: " + "; ".join(upstream_refusals)
        level = messages.WARNING if counts["refused"] else messages.SUCCESS
        if not counts[FINALIZED] and not counts[CLOSED]:
            level = messages.ERROR
        self.message_user(request, text, level)
        return None

    def _bulk_confirmation(self, request, queryset):
        invoices = list(with_readiness(queryset.select_related("customer__billing_entity", "subscription__plan")
                                       .prefetch_related("fees")))
        problems = {invoice.pk: problems_of(invoice) if invoice.is_draft else [] for invoice in invoices}
        context = {
            **self.admin_site.each_context(request),
            "title": "Finalize the selected invoices?",
            "opts": self.opts,
            "invoices": [
                {"invoice": invoice, "badge": status_badge(invoice.ui_status), "fees": invoice.display("fees_amount_cents"),
                 "taxes": invoice.display("taxes_amount_cents"), "total": invoice.display("total_amount_cents"),
                 "readiness": problems[invoice.pk], "closes_empty": closes_as_empty(invoice)}
                for invoice in invoices
            ],
            "drafts": sum(1 for invoice in invoices if invoice.is_draft),
            "readiness_count": sum(1 for found in problems.values() if found),
            "closing_empty": sum(1 for invoice in invoices if closes_as_empty(invoice)),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "action": "finalize_selected",
            "changelist_url": request.get_full_path(),
        }
        return TemplateResponse(request, "admin/invoices/invoice/finalize_selected_confirmation.html", context)
