"""MINIMAL customer admin so the one-off/PDF branch is testable; the console helper owns the real one.

Wiring to keep when merging: `OneOffInvoiceAdminMixin` first in the bases (URLs of the one-off
view, has_add_invoice_permission) and `create_one_off_invoice_action` in `actions`. The
"Create one-off invoice" button on the customer page comes from
templates/admin/customers/customer/change_form.html.
"""
from django.contrib import admin

from invoices.one_off_admin import OneOffInvoiceAdminMixin, create_one_off_invoice_action

from .models import BillingEntity, Customer, Tax


@admin.register(Customer)
class CustomerAdmin(OneOffInvoiceAdminMixin, admin.ModelAdmin):
    list_display = ["external_id", "name", "billing_entity", "currency"]
    list_select_related = ["billing_entity"]
    search_fields = ["external_id", "name"]
    actions = [create_one_off_invoice_action]


admin.site.register(BillingEntity)
admin.site.register(Tax)
