from django.apps import AppConfig


class BillingRunConfig(AppConfig):
    name = "billing_run"
    verbose_name = "Billing run"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the system check)
        from .schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)
