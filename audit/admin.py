"""The audit log in the admin: read-only for everyone (superusers too), filterable, exportable as CSV."""
import csv
import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin

from .models import AuditLogEntry

CSV_COLUMNS = ["timestamp", "actor", "user_id", "api_key", "source", "action", "invoice_number", "invoice_id",
               "object_type", "object_id", "before", "after"]


class _Echo:
    def write(self, value):
        return value


class ActorFilter(admin.AllValuesFieldListFilter):
    """Who acted, as shown: a username, "system" or "api key: NAME"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "actor"


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "invoice_link", "source"]
    list_display_links = ["created_at"]
    list_filter = ["action", "source", ("actor_label", ActorFilter), ("user", admin.RelatedOnlyFieldListFilter), "created_at"]
    # Entries written while the invoice was a draft carry its draft number: search the invoice's own number too.
    search_fields = ["invoice_number", "invoice__number"]
    date_hierarchy = "created_at"
    fields = ["created_at", "actor_label", "user", "api_key_name", "source", "action", "invoice_link",
              "object_type", "object_id", "before_pretty", "after_pretty"]
    readonly_fields = fields
    actions = None
    list_per_page = 100

    class Media:
        css = {"all": ["console/admin.css"]}

    # Append-only (ReadOnlyAdminMixin): nobody adds, changes or deletes entries here, superusers included.
    def has_export_permission(self, request):
        return request.user.has_perm("audit.export_auditlogentry")

    @admin.display(description="actor", ordering="actor_label")
    def actor(self, entry):
        return entry.actor_label

    @admin.display(description="invoice", ordering="invoice_number")
    def invoice_link(self, entry):
        # invoice_number is stored on the entry, so the list needs no join to show the link.
        if not entry.invoice_id:
            return "-"
        url = reverse("admin:invoices_invoice_change", args=[entry.invoice_id])
        return format_html('<a href="{}">{}</a>', url, entry.invoice_number or entry.invoice_id)

    @admin.display(description="before")
    def before_pretty(self, entry):
        return _pretty(entry.before)

    @admin.display(description="after")
    def after_pretty(self, entry):
        return _pretty(entry.after)

    def get_urls(self):
        export = path("export.csv", self.admin_site.admin_view(self.export_csv_view), name="audit_auditlogentry_export")
        return [export] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context)

    def export_csv_view(self, request):
        """The changelist's current filters and search, as CSV (the same ChangeList decides what is shown)."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request).order_by("created_at", "id")
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(CSV_COLUMNS)
            for entry in queryset.iterator(chunk_size=2000):
                yield writer.writerow([
                    entry.created_at.isoformat(), entry.actor_label, entry.user_id or "", entry.api_key_name,
                    entry.source, entry.action, entry.invoice_number, entry.invoice_id or "", entry.object_type,
                    entry.object_id, _json(entry.before), _json(entry.after),
                ])

        filename = f"audit-log-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _json(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _pretty(value):
    if value is None:
        return "-"
    return format_html('<pre style="margin:0;white-space:pre-wrap">{}</pre>', json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))
