from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers and billing entities"

    def ready(self):
        from webhooks import payloads

        from .bootstrap import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="customers.ensure_default_billing_entity")
        payloads.register("customer", customer_payload)


def customer_payload(object_id) -> dict:
    """The `customer` object of a webhook (webhooks.payloads registry)."""
    from .models import Customer
    from .serializers import serialize_customer

    return serialize_customer(Customer.objects.select_related("billing_entity").get(pk=object_id))
