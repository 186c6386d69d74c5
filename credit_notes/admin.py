"""Credit notes in the admin: read-only. They are issued from a finalized invoice's page ("Issue a credit note…").

The page links to the PDF (`<id>/pdf/`), rendered on demand if the after-commit task has not stored it yet.
"""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin
from core.documents import open_pdf

from .models import CreditNote, CreditNoteItem
from .pdf import render_credit_note_pdf


class CreditNoteItemInline(admin.TabularInline):
    model = CreditNoteItem
    fields = ["fee", "amount_cents"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "invoice", "customer", "reason", "total", "credit_status", "balance", "refund_status", "issuing_date"]
    list_filter = ["reason", "credit_status", "refund_status"]
    list_select_related = ["invoice", "customer"]
    search_fields = ["number", "invoice__number", "customer__external_id", "customer__name"]
    date_hierarchy = "issuing_date"
    inlines = [CreditNoteItemInline]
    fields = readonly_fields = [
        "number", "invoice", "customer", "issuing_date", "reason", "description", "currency", "status",
        "sub_total_excluding_taxes_amount_cents", "coupons_adjustment_amount_cents", "taxes_amount_cents", "taxes_rate",
        "total_amount_cents", "credit_amount_cents", "balance_amount_cents", "credit_status", "refund_amount_cents",
        "refund_status", "offset_amount_cents", "metadata", "created_at", "pdf_document",
    ]

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_pdf)
        return [path("<path:object_id>/pdf/", download, name="credit_notes_creditnote_pdf")] + super().get_urls()

    @admin.display(description="PDF")
    def pdf_document(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:credit_notes_creditnote_pdf", args=[obj.pk])
        state = f"rendered {obj.pdf_generated_at:%Y-%m-%d %H:%M} UTC" if obj.pdf_file and obj.pdf_generated_at else "not rendered yet"
        link = format_html('<a href="{}">Download PDF</a> ({})', url, state)
        if obj.pdf_error:
            return format_html('{} <span class="errornote" style="display:inline-block">Last render failed: {}</span>', link, obj.pdf_error)
        return link

    def download_pdf(self, request, object_id):
        """The stored PDF; rendered now if the task has not run yet (or failed)."""
        try:
            note = get_object_or_404(CreditNote, pk=object_id)
        except ValidationError:  # not a uuid
            raise Http404
        if not self.has_view_permission(request, note):
            raise PermissionDenied
        if not note.pdf_file:
            try:
                render_credit_note_pdf(note.pk)
            except Exception:
                note.refresh_from_db(fields=["pdf_error"])
                messages.error(request, f"The PDF could not be rendered: {note.pdf_error}")
                return redirect("admin:credit_notes_creditnote_change", note.pk)
            note.refresh_from_db(fields=["pdf_file", "pdf_generated_at"])
        return FileResponse(open_pdf(note.pdf_file.name), as_attachment=True, filename=f"{note.number}.pdf", content_type="application/pdf")

    @admin.display(description="Total", ordering="total_amount_cents")
    def total(self, obj):
        return obj.display("total_amount_cents")

    @admin.display(description="Balance", ordering="balance_amount_cents")
    def balance(self, obj):
        return obj.display("balance_amount_cents")
