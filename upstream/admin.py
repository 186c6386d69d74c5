from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from audit import log as audit_log
from audit.actors import Actor
from core.admin import ReadOnlyAdminMixin

from . import config, schedules, validation
from .models import SyncRun, UpstreamSettings


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The sync runs, newest first: the runbook's "confirm via the most recent sync run"."""

    list_display = ["started_at", "kind", "trigger", "finished_at", "ok", "counts"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "started_at", "finished_at", "counts", "errors", "trigger"]

    @admin.display(boolean=True)
    def ok(self, run):
        return run.ok


SECRETS = ("api_key", "webhook_hmac_key")
AUDITED = ("api_url", "front_url", "sync_interval_minutes", "timeout_seconds")


def masked(value: str) -> str:
    return f"•••• {value[-4:]}" if len(value) > 8 else "••••" if value else "not set"


class UpstreamSettingsForm(forms.ModelForm):
    """The keys are write-only: never rendered back, blank keeps the stored one, "forget" clears it. The rules are
    the environment's (upstream/validation.py), as form errors."""

    api_key = forms.CharField(label="Lago API key", required=False, widget=forms.PasswordInput(render_value=False))
    webhook_hmac_key = forms.CharField(label="Lago webhook HMAC key", required=False,
                                       widget=forms.PasswordInput(render_value=False))
    forget_api_key = forms.BooleanField(label="Forget the stored API key", required=False)
    forget_webhook_hmac_key = forms.BooleanField(label="Forget the stored HMAC key", required=False)

    class Meta:
        model = UpstreamSettings
        fields = ["api_url", "api_key", "front_url", "webhook_hmac_key", "sync_interval_minutes", "timeout_seconds"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRETS:
            stored = getattr(self.instance, name)
            self.fields[name].help_text = (f"Stored: {masked(stored)}. Leave blank to keep it. "
                                           + UpstreamSettings._meta.get_field(name).help_text)
        for field, setting in config.ENVIRONMENT.items():
            if config.from_environment(field):
                self.fields[field].help_text = (f"<strong>{setting} is set in the environment: its value applies, not this "
                                                f"one.</strong> " + str(self.fields[field].help_text))

    def clean_api_url(self):
        url = self.cleaned_data["api_url"].strip()
        if url and (error := validation.api_url_error(url, "The Lago API URL")):
            raise forms.ValidationError(error)
        return url

    def clean_front_url(self):
        url = self.cleaned_data["front_url"].strip()
        if url and (error := validation.url_error(url, "The Lago front URL")):
            raise forms.ValidationError(error)
        return url

    def clean_sync_interval_minutes(self):
        value = self.cleaned_data["sync_interval_minutes"]
        if value is not None and (error := validation.positive_error(value, "The sync interval (minutes)",
                                                                     validation.MAX_SYNC_INTERVAL_MINUTES)):
            raise forms.ValidationError(error)
        return value

    def clean_timeout_seconds(self):
        value = self.cleaned_data["timeout_seconds"]
        if value is not None and (error := validation.positive_error(value, "The timeout (seconds)", validation.MAX_TIMEOUT_SECONDS)):
            raise forms.ValidationError(error)
        return value

    def clean(self):
        cleaned = super().clean()
        for name in SECRETS:  # blank keeps the stored key; "forget" clears it
            new = (cleaned.get(name) or "").strip()
            cleaned[name] = "" if cleaned.get(f"forget_{name}") else new or getattr(self.instance, name)
        if cleaned.get("api_url") and not cleaned["api_key"]:
            self.add_error("api_key", "A Lago API URL needs the Lago organization's API key.")
        return cleaned


@admin.register(UpstreamSettings)
class UpstreamSettingsAdmin(admin.ModelAdmin):
    """Upstream mode's configuration (README "In front of a Lago server"): superusers only; one row, the list goes
    straight to it. Each save is audited (`upstream.settings_changed`: old and new values, keys only as "changed"),
    and the sync schedule follows (upstream/schedules.py)."""

    form = UpstreamSettingsForm
    fieldsets = [
        (None, {"fields": ["api_url", "api_key", "forget_api_key", "front_url", "webhook_hmac_key", "forget_webhook_hmac_key",
                           "sync_interval_minutes", "timeout_seconds"],
                "description": "Environment variables (LAGO_API_URL, LAGO_API_KEY, LAGO_FRONT_URL, LAGO_WEBHOOK_HMAC_KEY, "
                               "LAGO_SYNC_INTERVAL_MINUTES, LAGO_TIMEOUT_SECONDS) win over these values when set. "
                               "A Lago API URL here turns upstream mode on."}),
        ("Changed", {"fields": ["updated_at", "updated_by"]}),
    ]
    readonly_fields = ["updated_at", "updated_by"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            return super().changelist_view(request, extra_context)  # Django's own refusal
        return HttpResponseRedirect(reverse("admin:upstream_upstreamsettings_change", args=[UpstreamSettings.current().pk]))

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) == str(UpstreamSettings.SINGLETON_ID) and self.has_view_permission(request):
            UpstreamSettings.current()
        return super().get_object(request, object_id, from_field)

    def save_model(self, request, obj, form, change):
        # Inside the admin's transaction: the row, its audit entry and the schedule change together.
        before = UpstreamSettings.objects.filter(pk=obj.pk).values(*AUDITED, *SECRETS).first() or {}
        obj.updated_by = request.user
        obj.save()
        config.forget()
        old = {field: before.get(field) for field in AUDITED if before.get(field) != getattr(obj, field)}
        new = {field: getattr(obj, field) for field in old}
        for name in SECRETS:
            if (before.get(name) or "") != getattr(obj, name):
                old[name], new[name] = "set" if before.get(name) else "not set", "changed" if getattr(obj, name) else "cleared"
        audit_log.record("upstream.settings_changed", Actor.operator(request.user), obj=obj, before=old, after=new)
        schedules.ensure_schedule()
