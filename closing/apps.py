from django.apps import AppConfig


class ClosingConfig(AppConfig):
    name = "closing"
    verbose_name = "Closing"

    def ready(self):
        # The close dashboard (invoices/dashboard.py) shows the recent bulk finalize jobs.
        from invoices.dashboard import add_panel

        from .dashboard import TEMPLATE, jobs_panel

        add_panel("bulk_finalize_jobs", TEMPLATE, jobs_panel)
