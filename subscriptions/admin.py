from django.contrib import admin

from .models import Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["external_id", "customer", "plan", "started_at", "billing_time", "status", "terminated_at"]
    list_filter = ["status", "billing_time", "plan"]
    search_fields = ["external_id", "customer__external_id", "customer__name", "plan__code"]
    raw_id_fields = ["customer"]
    autocomplete_fields = ["plan"]
    list_select_related = ["customer", "plan"]
