from django.contrib import admin

from core.admin import ReadOnlyAdminMixin

from .models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The sync runs, newest first: the runbook's "confirm via the most recent sync run"."""

    list_display = ["started_at", "kind", "trigger", "finished_at", "ok", "counts"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "started_at", "finished_at", "counts", "errors", "trigger"]

    @admin.display(boolean=True)
    def ok(self, run):
        return run.ok
