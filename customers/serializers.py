"""Lago's JSON shapes for taxes, billing entities and customers (see shared/reference/lago-api-contract.md)."""
from core.db import related_rows
from core.serialization import iso_datetime

from .models import BillingEntity, Customer, CustomerMetadata, Tax


def serialize_tax(tax: Tax) -> dict:
    return {
        "lago_id": str(tax.pk),
        "name": tax.name,
        "code": tax.code,
        "rate": float(tax.rate),  # a JSON number, as Lago sends it; never used for money maths
        "description": tax.description or None,
        "applied_to_organization": False,
        "created_at": iso_datetime(tax.created_at),
    }


def serialize_billing_entity(entity: BillingEntity) -> dict:
    """Lago's BillingEntityObject. Flat, as Lago answers: invoice_grace_period and friends are top-level here.
    `country` is a country code there, never null: left out while the entity has none."""
    data = {
        "lago_id": str(entity.pk),
        "code": entity.code,
        "name": entity.name,
        "is_default": entity.is_default,
        "default_currency": entity.default_currency,
        "timezone": entity.timezone,
        "email": entity.email or None,
        "legal_name": entity.legal_name or None,
        "legal_number": entity.legal_number or None,
        "tax_identification_number": entity.tax_identification_number or None,
        "address_line1": entity.address_line1 or None,
        "address_line2": entity.address_line2 or None,
        "city": entity.city or None,
        "state": entity.state or None,
        "zipcode": entity.zipcode or None,
        "country": entity.country or None,
        "document_numbering": entity.document_numbering,
        "document_number_prefix": entity.document_number_prefix,
        "finalize_zero_amount_invoice": entity.finalize_zero_amount_invoice,
        "net_payment_term": entity.net_payment_term,
        "invoice_grace_period": entity.invoice_grace_period,
        "invoice_footer": entity.invoice_footer or None,
        "document_locale": entity.document_locale,
        # How subscription invoices are dated here: billed when the next period starts, issued when finalized.
        "subscription_invoice_issuing_date_anchor": "next_period_start",
        "subscription_invoice_issuing_date_adjustment": "align_with_finalization_date",
        "email_settings": [],
        "eu_tax_management": False,
        "logo_url": None,
        "taxes": [serialize_tax(t) for t in entity.taxes.all()],
        "created_at": iso_datetime(entity.created_at),
        "updated_at": iso_datetime(entity.updated_at),
    }
    if not entity.country:
        del data["country"]
    return data


def serialize_customer_metadata(item: CustomerMetadata) -> dict:
    return {
        "lago_id": str(item.pk),
        "key": item.key,
        "value": item.value,
        "display_in_invoice": item.display_in_invoice,
        "created_at": iso_datetime(item.created_at),
    }


def _billing_configuration(customer: Customer) -> dict:
    """Lago's CustomerBillingConfiguration. Keys whose value is unset are left out: the schema types them
    without null (invoice_grace_period an integer, payment_provider one of three strings)."""
    configuration = {
        "invoice_grace_period": customer.invoice_grace_period,
        "document_locale": customer.document_locale or None,
        "payment_provider": customer.payment_provider or None,
        "payment_provider_code": customer.payment_provider_code or None,
        "provider_customer_id": customer.provider_customer_id or None,
    }
    configuration = {key: value for key, value in configuration.items() if value is not None}
    if customer.payment_provider:
        configuration["sync"] = customer.sync
        configuration["sync_with_provider"] = customer.sync_with_provider
        configuration["provider_payment_methods"] = customer.provider_payment_methods
    return configuration


def serialize_customer(customer: Customer) -> dict:
    """Lago's CustomerObject (callers listing many customers prefetch `taxes` and `metadata`)."""
    return {
        "lago_id": str(customer.pk),
        "sequential_id": customer.sequential_id,
        "slug": customer.slug,
        "external_id": customer.external_id,
        "billing_entity_code": customer.billing_entity.code,
        "account_type": customer.account_type,
        "customer_type": customer.customer_type or None,
        "name": customer.name or None,
        "firstname": customer.firstname or None,
        "lastname": customer.lastname or None,
        "legal_name": customer.legal_name or None,
        "legal_number": customer.legal_number or None,
        "tax_identification_number": customer.tax_identification_number or None,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "url": customer.url or None,
        "logo_url": customer.logo_url or None,
        "address_line1": customer.address_line1 or None,
        "address_line2": customer.address_line2 or None,
        "city": customer.city or None,
        "state": customer.state or None,
        "zipcode": customer.zipcode or None,
        "country": customer.country or None,
        "shipping_address": {
            "address_line1": customer.shipping_address_line1 or None,
            "address_line2": customer.shipping_address_line2 or None,
            "city": customer.shipping_city or None,
            "state": customer.shipping_state or None,
            "zipcode": customer.shipping_zipcode or None,
            "country": customer.shipping_country or None,
        },
        "currency": customer.currency or None,
        "timezone": customer.timezone or None,
        "applicable_timezone": customer.applicable_timezone,
        "net_payment_term": customer.net_payment_term,
        "finalize_zero_amount_invoice": customer.finalize_zero_amount_invoice,
        "skip_invoice_custom_sections": False,
        "billing_configuration": _billing_configuration(customer),
        "metadata": [serialize_customer_metadata(m) for m in related_rows(customer, "metadata")],
        "taxes": [serialize_tax(t) for t in related_rows(customer, "taxes")],
        "created_at": iso_datetime(customer.created_at),
        "updated_at": iso_datetime(customer.updated_at),
    }


def webhook_customers(ids) -> dict[str, dict]:
    """The `customer` object of customer.* webhooks: the API's customer (webhooks/payloads.py)."""
    customers = Customer.objects.select_related("billing_entity").prefetch_related("taxes", "metadata").filter(pk__in=list(ids))
    return {str(customer.pk): serialize_customer(customer) for customer in customers}
