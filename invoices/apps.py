from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"
    verbose_name = "Billing"

    def ready(self):
        from webhooks.payloads import register

        from .serializers import webhook_invoices, webhook_invoices_held

        register("invoice", webhook_invoices, held=webhook_invoices_held)
