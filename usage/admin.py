from django.contrib import admin

from core.admin import ReadOnlyAdminMixin

from .models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: events arrive through usage.services.record_event (the API), never by hand."""

    list_display = ["transaction_id", "external_subscription_id", "code", "timestamp", "created_at"]
    list_filter = ["code"]
    search_fields = ["transaction_id", "external_subscription_id"]
    date_hierarchy = "timestamp"
    readonly_fields = [f.name for f in Event._meta.fields]
    show_full_result_count = False  # no COUNT(*) over millions of events
