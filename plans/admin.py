from django.contrib import admin

from .models import BillableMetric, Charge, ChargeFilter, Plan


@admin.register(BillableMetric)
class BillableMetricAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "aggregation", "field_name"]
    search_fields = ["code", "name"]
    list_filter = ["aggregation"]


class ChargeInline(admin.StackedInline):
    model = Charge
    extra = 0
    fields = ["billable_metric", "charge_model", "properties", "invoice_display_name", "position"]
    autocomplete_fields = ["billable_metric"]
    show_change_link = True


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "interval", "amount_cents", "currency", "pay_in_advance"]
    list_filter = ["interval", "pay_in_advance", "currency"]
    search_fields = ["code", "name"]
    inlines = [ChargeInline]


class ChargeFilterInline(admin.TabularInline):
    model = ChargeFilter
    extra = 0
    fields = ["values", "properties", "invoice_display_name", "position"]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "billable_metric", "charge_model"]
    list_select_related = ["plan", "billable_metric"]  # __str__ reads the metric's name
    list_filter = ["charge_model"]
    search_fields = ["plan__code", "billable_metric__code", "invoice_display_name"]
    autocomplete_fields = ["plan", "billable_metric"]
    inlines = [ChargeFilterInline]
