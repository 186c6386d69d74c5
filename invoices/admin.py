"""MINIMAL invoice admin so the one-off/PDF branch is testable; the console helper owns the real one.

Wiring to keep when merging: `InvoicePdfAdminMixin` first in the bases, and "pdf_document"
among the read-only fields shown on the invoice page.
"""
from django.contrib import admin

from .models import Invoice
from .pdf_views import InvoicePdfAdminMixin


@admin.register(Invoice)
class InvoiceAdmin(InvoicePdfAdminMixin, admin.ModelAdmin):
    list_display = ["number", "customer", "invoice_type", "status", "currency", "total_amount_cents", "issuing_date"]
    list_select_related = ["customer"]
    fields = ["number", "customer", "invoice_type", "status", "currency", "issuing_date", "payment_due_date",
              "fees_amount_cents", "taxes_amount_cents", "total_amount_cents", "pdf_document"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
