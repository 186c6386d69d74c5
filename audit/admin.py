"""The audit log in the admin: read-only for everyone (superusers too), filterable, exportable as CSV, and its
hash chain verified on demand (a POST-only view, `audit.verify_auditlogentry`, the same `verify()` as
`manage.py verify_audit_log`, recorded as an AuditVerification)."""
import csv
import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin, bind, permission_required
from core.queue import enqueue_many

from .distinct import distinct_values
from .models import AuditChainHead, AuditLogEntry, AuditVerification
from .paginator import EstimatedCountPaginator
from .verification import verify

VERIFY_PERMISSION = "audit.verify_auditlogentry"
# invoice: how the console names the invoice now (its number, or "Draft · Acme (acme-us) · Oct 2026" while it
# has none); invoice_number: as written (a draft's entries stored its PREFIX-DRAFT placeholder, and the hash
# covers it); invoice_current_number: its number now, empty while it has none.
CSV_COLUMNS = ["seq", "timestamp", "actor", "user_id", "api_key", "source", "action", "invoice", "invoice_number",
               "invoice_current_number", "invoice_id", "customer_external_id", "customer_name", "object_type",
               "object_id", "before", "after", "prev_hash", "hash"]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such cells get a
# leading single quote, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


class IndexedValuesFilter(admin.SimpleListFilter):
    """The values a column holds, found by walking its index (audit/distinct.py), not by reading every row."""
    column = ""

    def lookups(self, request, model_admin):
        return [(value, value) for value in distinct_values(model_admin.get_queryset(request), self.column)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.column: value}) if value else queryset


class ActionFilter(IndexedValuesFilter):
    title = "action"
    parameter_name = column = "action"


class ActorFilter(IndexedValuesFilter):
    """Who acted, as shown: a username, "system" or "api key: NAME"."""
    title = "actor"
    parameter_name = column = "actor_label"


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "invoice_link", "customer_column", "source", "seq"]
    list_display_links = ["created_at"]
    # Filters that cost no scan of the table: the action and actor values come from their indexes, the
    # source from its choices, dates from the calendar (no date_hierarchy: its month/day links need a
    # DISTINCT over a year of entries). The actor filter covers users (their username is the label).
    list_filter = [ActionFilter, "source", ActorFilter, "created_at"]
    # The invoice's current number, or its label while it has none (an entry written on a draft stores the
    # PREFIX-DRAFT placeholder): joins by pk, the customer (and its entity, for the zone) being in the label.
    list_select_related = ["invoice__customer__billing_entity"]
    # Exact matches on indexed columns (see get_search_results): an invoice number, then or now, or a customer's external id.
    search_fields = ["invoice_number"]
    search_help_text = "An invoice number (as written or current) or a customer's external id, exactly."
    ordering = ["-seq"]
    fields = ["seq", "created_at", "actor_label", "user", "api_key_name", "source", "action", "invoice_link",
              "customer_column", "object_type", "object_id", "before_pretty", "after_pretty", "prev_hash", "hash"]
    readonly_fields = fields
    actions = None
    list_per_page = 100
    # At millions of entries an exact COUNT(*) is the slowest thing on the page: no second count, and the
    # paginator estimates large unfiltered counts.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    class Media:
        css = {"all": ["console/admin.css"]}

    # Append-only (ReadOnlyAdminMixin): nobody adds, changes or deletes entries here, superusers included.
    def has_export_permission(self, request):
        return request.user.has_perm("audit.export_auditlogentry")

    @admin.display(description="actor", ordering="actor_label")
    def actor(self, entry):
        return entry.actor_label

    @admin.display(description="invoice", ordering="invoice__number")
    def invoice_link(self, entry):
        """The invoice as the console names it now, linked: its number, or while it has none its label
        ("Draft · Acme (acme-us) · Oct 2026"), never the PREFIX-DRAFT placeholder its draft entries stored."""
        if not entry.invoice_id:
            return "-"
        url = reverse("admin:invoices_invoice_change", args=[entry.invoice_id])
        return format_html('<a href="{}">{}</a>', url, entry.invoice.label)

    @admin.display(description="customer", ordering="customer_external_id")
    def customer_column(self, entry):
        """As written: the customer's name and external id when the entry was made."""
        if not entry.customer_external_id:
            return "-"
        if entry.customer_name:
            return f"{entry.customer_name} ({entry.customer_external_id})"
        return entry.customer_external_id

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        invoices = AuditLogEntry._meta.get_field("invoice").related_model.objects
        # The ids first (one index probe): an IN subquery inside the OR would make PostgreSQL scan the table.
        invoice_ids = list(invoices.filter(number=term).values_list("pk", flat=True)[:10])
        return queryset.filter(Q(invoice_number=term) | Q(invoice_id__in=invoice_ids) | Q(customer_external_id=term)), False

    @admin.display(description="before")
    def before_pretty(self, entry):
        return _pretty(entry.before)

    @admin.display(description="after")
    def after_pretty(self, entry):
        return _pretty(entry.after)

    def get_urls(self):
        export = path("export.csv", self.admin_site.admin_view(self.export_csv_view), name="audit_auditlogentry_export")
        check = path("verify/", bind(self, verify_view), name="audit_auditlogentry_verify")
        return [export, check] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": self.has_export_permission(request),
                         "can_verify": request.user.has_perm(VERIFY_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def export_csv_view(self, request):
        """The changelist's current filters and search, as CSV (the same ChangeList decides what is shown)."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        queryset = (self.get_changelist_instance(request).get_queryset(request)
                    .select_related("invoice__customer__billing_entity").order_by("seq", "created_at"))
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for entry in queryset.iterator(chunk_size=2000):
                yield writer.writerow([safe_cell(value) for value in (
                    entry.seq, entry.created_at.isoformat(), entry.actor_label, entry.user_id or "", entry.api_key_name,
                    entry.source, entry.action, entry.invoice.label if entry.invoice_id else "", entry.invoice_number,
                    entry.invoice.number if entry.invoice_id and entry.invoice.has_number else "",
                    entry.invoice_id or "", entry.customer_external_id, entry.customer_name, entry.object_type,
                    entry.object_id, _json(entry.before), _json(entry.after), entry.prev_hash, entry.hash or "",
                )])

        filename = f"audit-log-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# Up to this many entries the console verifies in the request and shows the result at once (about 2 s of work);
# a longer log is verified by a django-q2 task, whose result the dashboard and "Audit verifications" show.
VERIFY_INLINE_MAX = 20_000


@permission_required(VERIFY_PERMISSION)
def verify_view(model_admin, request):
    """POST: check the whole chain (as `manage.py verify_audit_log`, recorded), then back to the log with the result.

    A long log is handed to the worker (`audit.tasks.verify_audit_log`): reading a million entries takes minutes,
    longer than a web request may.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq > VERIFY_INLINE_MAX:
        [task_id] = enqueue_many([("audit.tasks.verify_audit_log", (), {"task_name": f"verify-audit-log-{timezone.now():%Y%m%d-%H%M%S}"})])
        if task_id is None:
            model_admin.message_user(request, "The verification could not be queued (see the server log); run "
                                              "`manage.py verify_audit_log` instead.", messages.ERROR)
        else:
            model_admin.message_user(
                request, f"Verifying {head.seq} entries in the background: the result appears on the dashboard and "
                         "under Audit verifications when the worker is done.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:audit_auditlogentry_changelist"))
    result = verify()
    if result.ok:
        model_admin.message_user(
            request, f"The audit log is intact: {result.checked} entries checked, head hash {result.head_hash or '-'}.",
            messages.SUCCESS)
    else:
        shown = "; ".join(str(problem) for problem in result.problems[:5])
        more = f" (and {len(result.problems) - 5} more)" if len(result.problems) > 5 else ""
        model_admin.message_user(
            request, f"The audit log is BROKEN: {len(result.problems)} problem(s) in {result.checked} entries, first "
                     f"broken seq {result.first_broken_seq}: {shown}{more}.", messages.ERROR)
    return HttpResponseRedirect(reverse("admin:audit_auditlogentry_changelist"))


def safe_cell(value) -> str:
    """The cell as text, with a leading ' if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@admin.register(AuditVerification)
class AuditVerificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The runs of manage.py verify_audit_log."""
    list_display = ["checked_at", "ok", "entries_checked", "first_broken_seq", "problems", "head_hash", "duration_seconds"]
    list_filter = ["ok"]
    actions = None


def _json(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _pretty(value):
    if value is None:
        return "-"
    return format_html('<pre style="margin:0;white-space:pre-wrap">{}</pre>', json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))
