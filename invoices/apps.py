from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"
    verbose_name = "Billing"

    def ready(self):
        from webhooks import payloads

        payloads.register("invoice", invoice_payload)


def invoice_payload(object_id) -> dict:
    """The `invoice` object of a webhook (webhooks.payloads registry)."""
    from .models import Invoice
    from .serializers import serialize_invoice

    invoice = Invoice.objects.select_related("customer__billing_entity", "billing_entity").get(pk=object_id)
    return serialize_invoice(invoice)
