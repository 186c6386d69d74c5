from django.contrib import admin, messages
from django.utils import timezone

from .models import KEY_PREFIX, ApiKey, hash_key


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
        import secrets

        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        obj.prefix, obj.hashed_key = raw[:10], hash_key(raw)
        super().save_model(request, obj, form, change)
        self.message_user(
            request, f"API key {obj.name!r} created: {raw} — copy it now, it is not shown again.", messages.WARNING
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit log names keys, keep them

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} API key(s) revoked.", messages.SUCCESS)
