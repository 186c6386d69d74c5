"""The bulk finalize jobs in the admin: a read-only list, each job with its items.

Who may read them: whoever may read invoices (the jobs are a view of what happened to them). The
job page with its live progress is the invoice console's (`invoices/admin/bulk_finalize.py`).
"""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin

from .models import BulkFinalizeItem, BulkFinalizeJob

READ_PERMISSION = "invoices.view_invoice"


class ReadableWithInvoices:
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(READ_PERMISSION)

    def has_module_permission(self, request):
        return request.user.has_perm(READ_PERMISSION)


class BulkFinalizeItemInline(ReadableWithInvoices, ReadOnlyAdminMixin, admin.TabularInline):
    model = BulkFinalizeItem
    fields = ["position", "invoice", "outcome", "number"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")


@admin.register(BulkFinalizeJob)
class BulkFinalizeJobAdmin(ReadableWithInvoices, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "status", "requested_by", "created_at", "finished_at", "total", "finalized", "closed",
                    "refused", "left", "progress_link"]
    list_filter = ["status"]
    list_select_related = ["requested_by"]
    fields = ["status", "requested_by", "created_at", "started_at", "finished_at", "total", "finalized", "closed",
              "refused", "left", "error", "progress_link"]
    readonly_fields = fields
    inlines = [BulkFinalizeItemInline]

    @admin.display(description="left")
    def left(self, job):
        return job.left

    @admin.display(description="progress page")
    def progress_link(self, job):
        return format_html('<a href="{}">open</a>', reverse("admin:invoices_invoice_bulk_finalize_job", args=[job.pk]))
