from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers and billing entities"

    def ready(self):
        from webhooks.payloads import register

        from .bootstrap import on_post_migrate
        from .serializers import webhook_customers

        register("customer", webhook_customers)

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="customers.ensure_default_billing_entity")
