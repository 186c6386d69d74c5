from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: events arrive through usage.services.record_event (the API), never by hand."""

    list_display = ["transaction_id", "external_subscription_id", "code", "timestamp", "created_at"]
    list_filter = ["code"]
    search_fields = ["transaction_id", "external_subscription_id"]
    date_hierarchy = "timestamp"
    readonly_fields = [f.name for f in Event._meta.fields]
    show_full_result_count = False  # no COUNT(*) over millions of events

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
