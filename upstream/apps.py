from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    """Upstream mode: the console in front of a Lago server (README "In front of a Lago server").

    Wires itself into lower apps here (as webhook payload builders are): the finalization delegate
    that every door reaches through `invoices.transitions.finalization`, the readiness checks of a
    mirrored draft (`upstream/readiness.py`), and, after migrate, the sync schedule. All do nothing
    while LAGO_API_URL is unset (standalone mode).
    """

    name = "upstream"
    verbose_name = "Upstream (Lago)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from invoices.transitions import finalization

        from . import config, readiness, schedules
        from .finalization import finalize_many

        finalization.delegate_to(finalize_many, when=config.enabled)
        readiness.register()
        post_migrate.connect(schedules.ensure_schedule, sender=self)
