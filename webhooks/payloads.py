"""The JSON object a webhook carries, serialized at delivery time (Lago does the same)."""
from customers.models import Customer
from customers.serializers import serialize_customer
from invoices.models import Invoice
from invoices.serializers import serialize_invoice


def _invoice(object_id):
    invoice = Invoice.objects.select_related("customer__billing_entity", "billing_entity").get(pk=object_id)
    return serialize_invoice(invoice)


def _customer(object_id):
    return serialize_customer(Customer.objects.select_related("billing_entity").get(pk=object_id))


SERIALIZERS = {"invoice": _invoice, "customer": _customer}


def serialize_object(object_type: str, object_id) -> dict:
    serializer = SERIALIZERS.get(object_type)
    if serializer is None:
        return {"lago_id": str(object_id)}
    return serializer(object_id)
