from django.contrib import admin, messages
from django.db import transaction

from audit import log as audit_log
from audit.actors import Actor

from .models import ApiKey, new_raw_key


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (["name"] if obj else [])

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        raw = new_raw_key()
        obj.set_key(raw)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_log.record("api_key.created", Actor.operator(request.user), obj=obj, after={"name": obj.name, "prefix": obj.prefix})
        self.message_user(
            request, f"API key {obj.name!r} created: {raw} — copy it now, it is not shown again.", messages.WARNING
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit log names keys, keep them

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            key.revoke(Actor.operator(request.user))
        self.message_user(request, f"{len(keys)} API key(s) revoked.", messages.SUCCESS)
