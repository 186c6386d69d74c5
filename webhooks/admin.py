import hashlib

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from audit import log as audit_log
from audit.actors import Actor

from core.admin import ReadOnlyAdminMixin

from .delivery import retry_now
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSettings
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
    fields = ["name", "webhook_url", "signature_algo", "event_types", "id", "created_at"]
    readonly_fields = ["id", "created_at"]


def key_fingerprint(key: str) -> str:
    """What the audit log keeps of a key: enough to tell two keys apart, useless to sign with."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]


@admin.register(WebhookSettings)
class WebhookSettingsAdmin(admin.ModelAdmin):
    """The organization's HMAC key: one row; the list goes straight to it; "Rotate HMAC key" replaces the key."""

    change_form_template = "admin/webhooks/webhooksettings/change_form.html"
    fields = ["hmac_key", "rotated_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = WebhookSettings.current()
        return HttpResponseRedirect(reverse("admin:webhooks_webhooksettings_change", args=[row.pk]))

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) == str(WebhookSettings.SINGLETON_ID):
            WebhookSettings.current()
        return super().get_object(request, object_id, from_field)

    def response_change(self, request, obj):
        if "_rotate_hmac_key" in request.POST:
            with transaction.atomic():
                row = WebhookSettings.objects.select_for_update().get(pk=obj.pk)
                old = row.rotate()
                audit_log.record("webhooks.hmac_key_rotated", Actor.operator(request.user), obj=row,
                                 before={"hmac_key": key_fingerprint(old)}, after={"hmac_key": key_fingerprint(row.hmac_key)})
            self.message_user(request, "HMAC key rotated: hmac webhooks are signed with the new key from now on; "
                                       "update your receivers.", messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


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
    readonly_fields = ["id", "webhook_type", "object_type", "object_id", "created_at", "payload"]
    inlines = [DeliveryInline]
    deletable = True  # an operator may clear old events (their deliveries go with them)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "last_response_code", "next_attempt_at"]
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["id", "event__object_id", "event__webhook_type"]
    readonly_fields = [
        "id", "event", "endpoint", "status", "attempts", "next_attempt_at", "queued_at", "last_attempt_at",
        "last_response_code", "last_error", "succeeded_at", "created_at",
    ]
    actions = ["retry"]
    deletable = True

    @admin.action(description="Retry selected deliveries now")
    def retry(self, request, queryset):
        count = retry_now(list(queryset))
        self.message_user(request, f"{count} delivery(ies) queued again (succeeded ones are left alone).", messages.SUCCESS)
