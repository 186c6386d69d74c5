"""A URLconf for the draft-tool tests: an admin site whose InvoiceAdmin includes get_draft_tool_urls,
as the real InvoiceAdmin does once wired."""
from django.contrib import admin
from django.urls import path

from invoices.admin_draft_tools import get_draft_tool_urls
from invoices.models import Invoice


class DraftToolsInvoiceAdmin(admin.ModelAdmin):
    def get_urls(self):
        return get_draft_tool_urls(self) + super().get_urls()


site = admin.AdminSite(name="admin")
site.register(Invoice, DraftToolsInvoiceAdmin)
urlpatterns = [path("admin/", site.urls)]
