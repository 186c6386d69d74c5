"""Lago JSON shapes the API adds to the foundation's serializers: add-ons, webhook endpoints, organization."""
from django.conf import settings

from addons.models import AddOn
from billing_console.serialization import iso_datetime
from customers.models import BillingEntity
from customers.serializers import serialize_tax
from webhooks.models import WebhookEndpoint


def serialize_add_on(add_on: AddOn) -> dict:
    return {
        "lago_id": str(add_on.pk),
        "name": add_on.name,
        "invoice_display_name": add_on.invoice_display_name or None,
        "code": add_on.code,
        "amount_cents": add_on.amount_cents,
        "amount_currency": add_on.amount_currency,
        "description": add_on.description or None,
        "created_at": iso_datetime(add_on.created_at),
        "taxes": [serialize_tax(t) for t in add_on.taxes.all()],
    }


def serialize_webhook_endpoint(endpoint: WebhookEndpoint) -> dict:
    return {
        "lago_id": str(endpoint.pk),
        "lago_organization_id": settings.ORGANIZATION_ID,
        "webhook_url": endpoint.webhook_url,
        "signature_algo": endpoint.signature_algo,
        "name": endpoint.name or None,
        "event_types": endpoint.event_types or None,
        # Not in Lago's shape (its HMAC key is organization-wide): the key to verify `hmac` signatures.
        "hmac_key": endpoint.hmac_secret,
        "created_at": iso_datetime(endpoint.created_at),
    }


def serialize_organization(entity: BillingEntity) -> dict:
    """The organization is the default billing entity, in Lago's OrganizationResponse shape."""
    return {
        "lago_id": settings.ORGANIZATION_ID,
        "name": entity.name,
        "created_at": iso_datetime(entity.created_at),
        "default_currency": entity.default_currency,
        "country": entity.country or None,
        "address_line1": entity.address_line1 or None,
        "address_line2": entity.address_line2 or None,
        "state": entity.state or None,
        "zipcode": entity.zipcode or None,
        "email": entity.email or None,
        "city": entity.city or None,
        "legal_name": entity.legal_name or None,
        "legal_number": entity.legal_number or None,
        "net_payment_term": entity.net_payment_term,
        "document_numbering": entity.document_numbering,
        "document_number_prefix": entity.document_number_prefix,
        "tax_identification_number": entity.tax_identification_number or None,
        "timezone": entity.timezone,
        "finalize_zero_amount_invoice": entity.finalize_zero_amount_invoice,
        "billing_configuration": {
            "invoice_footer": entity.invoice_footer or None,
            "invoice_grace_period": entity.invoice_grace_period,
            "document_locale": entity.document_locale,
        },
        "taxes": [serialize_tax(t) for t in entity.taxes.all()],
    }
