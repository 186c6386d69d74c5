from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"
    verbose_name = "Billing"

    def ready(self):
        from webhooks.payloads import register

        from .serializers import webhook_invoices

        register("invoice", webhook_invoices)
