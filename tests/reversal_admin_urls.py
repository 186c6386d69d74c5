"""URLconf for the reversal admin tests: the invoice admin with the reversal views wired in.

Once invoices/admin.py registers InvoiceAdmin (wiring get_reversal_urls, as the module
docstring of invoices/reversal_admin.py shows), that registration is the one tested;
until then a minimal stand-in is registered here.
"""
from django.contrib import admin
from django.urls import path

from invoices.models import Invoice
from invoices.reversal_admin import get_reversal_urls, reversal_panel, void_selected_invoices

if not admin.site.is_registered(Invoice):

    class StandInInvoiceAdmin(admin.ModelAdmin):
        actions = [void_selected_invoices]
        fields = readonly_fields = ["number", "status", "reversal_panel"]

        def get_urls(self):
            return get_reversal_urls(self) + super().get_urls()

        @admin.display(description="Coupons, credits and credit notes")
        def reversal_panel(self, obj):
            return reversal_panel(obj)

    admin.site.register(Invoice, StandInInvoiceAdmin)

urlpatterns = [path("admin/", admin.site.urls)]
