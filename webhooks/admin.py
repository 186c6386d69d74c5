from django import forms
from django.contrib import admin, messages

from core.admin import ReadOnlyAdminMixin

from .delivery import retry_now
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .url_policy import validate_webhook_url


class WebhookEndpointForm(forms.ModelForm):
    """The same URL policy as the API (webhooks/url_policy.py); duplicates are refused by the model's unique URL."""

    webhook_url = forms.URLField(label="Webhook URL", max_length=1000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = "__all__"

    def clean_webhook_url(self):
        url = self.cleaned_data["webhook_url"]
        validate_webhook_url(url)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["webhook_url", "name", "signature_algo", "event_types", "created_at"]
    fields = ["name", "webhook_url", "signature_algo", "event_types", "hmac_secret", "id", "created_at"]
    readonly_fields = ["hmac_secret", "id", "created_at"]


class DeliveryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    fields = ["endpoint", "status", "attempts", "last_response_code", "next_attempt_at", "last_error"]
    readonly_fields = fields
    can_delete = False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "webhook_type", "object_type", "object_id"]
    list_filter = ["webhook_type"]
    search_fields = ["object_id"]
    readonly_fields = ["id", "webhook_type", "object_type", "object_id", "created_at"]
    inlines = [DeliveryInline]
    deletable = True  # an operator may clear old events (their deliveries go with them)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "last_response_code", "next_attempt_at"]
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["id", "event__object_id", "event__webhook_type"]
    readonly_fields = [
        "id", "event", "endpoint", "status", "attempts", "next_attempt_at", "last_attempt_at",
        "last_response_code", "last_error", "succeeded_at", "created_at",
    ]
    actions = ["retry"]
    deletable = True

    @admin.action(description="Retry selected deliveries now")
    def retry(self, request, queryset):
        count = retry_now(list(queryset))
        self.message_user(request, f"{count} delivery(ies) queued again (succeeded ones are left alone).", messages.SUCCESS)
