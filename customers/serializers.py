"""Lago's JSON shapes for taxes, billing entities and customers (see shared/reference/lago-api-contract.md)."""
from core.serialization import iso_datetime

from .models import BillingEntity, Customer, Tax


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
    """Flat, as Lago answers: invoice_grace_period and friends are top-level here."""
    return {
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
        "taxes": [serialize_tax(t) for t in entity.taxes.all()],
        "created_at": iso_datetime(entity.created_at),
        "updated_at": iso_datetime(entity.updated_at),
    }


def serialize_customer(customer: Customer) -> dict:
    return {
        "lago_id": str(customer.pk),
        "sequential_id": customer.sequential_id,
        "external_id": customer.external_id,
        "billing_entity_code": customer.billing_entity.code,
        "name": customer.name or None,
        "legal_name": customer.legal_name or None,
        "legal_number": customer.legal_number or None,
        "tax_identification_number": customer.tax_identification_number or None,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "url": customer.url or None,
        "address_line1": customer.address_line1 or None,
        "address_line2": customer.address_line2 or None,
        "city": customer.city or None,
        "state": customer.state or None,
        "zipcode": customer.zipcode or None,
        "country": customer.country or None,
        "currency": customer.currency or None,
        "timezone": customer.timezone or None,
        "applicable_timezone": customer.applicable_timezone,
        "net_payment_term": customer.net_payment_term,
        "finalize_zero_amount_invoice": customer.finalize_zero_amount_invoice,
        "billing_configuration": {
            "invoice_grace_period": customer.invoice_grace_period,
            "payment_provider": None,
            "document_locale": None,
        },
        "metadata": [],
        "taxes": [serialize_tax(t) for t in customer.taxes.all()],
        "created_at": iso_datetime(customer.created_at),
        "updated_at": iso_datetime(customer.updated_at),
    }
