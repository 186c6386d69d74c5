from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    """Upstream mode: the console in front of a Lago server (README "In front of a Lago server").

    Wires itself into lower apps here (as webhook payload builders are): the finalization delegate
    that every door reaches through `invoices.transitions.finalization`, and, after migrate, the
    sync schedule. Both do nothing while LAGO_API_URL is unset (standalone mode).
    """

    name = "upstream"
    verbose_name = "Upstream (Lago)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from invoices.transitions import finalization

        from . import config, schedules
        from .finalization import finalize_many

        finalization.delegate_to(finalize_many, when=config.enabled)
        post_migrate.connect(schedules.ensure_schedule, sender=self)

        from .readiness import register as register_readiness_checks

        register_readiness_checks()  # a mirrored draft changed in Lago, or synced too long ago (upstream/readiness.py)
