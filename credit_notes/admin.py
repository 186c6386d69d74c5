"""Credit notes in the admin: read-only. They are issued from a finalized invoice's page ("Issue a credit note…")."""
from django.contrib import admin

from .models import CreditNote, CreditNoteItem


class CreditNoteItemInline(admin.TabularInline):
    model = CreditNoteItem
    fields = ["fee", "amount_cents"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):
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
        "refund_status", "offset_amount_cents", "metadata", "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Total", ordering="total_amount_cents")
    def total(self, obj):
        return obj.display("total_amount_cents")

    @admin.display(description="Balance", ordering="balance_amount_cents")
    def balance(self, obj):
        return obj.display("balance_amount_cents")
