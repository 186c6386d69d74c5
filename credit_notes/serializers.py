"""Lago's JSON shape of a credit note (CreditNoteResponse of the API contract), for the API and webhooks."""
from collections import defaultdict
from decimal import Decimal

from core.documents import signed_url
from core.money import round_cents
from core.serialization import iso_date, iso_datetime
from customers.serializers import serialize_customer
from invoices.serializers import serialize_fee

from .models import CreditNote

HUNDRED = Decimal(100)


def serialize_credit_note(note: CreditNote) -> dict:
    invoice = note.invoice
    items = list(note.items.select_related("fee__invoice", "fee__add_on").prefetch_related("fee__applied_taxes"))
    return {
        "lago_id": str(note.pk),
        "sequential_id": note.sequential_id,
        "billing_entity_code": invoice.billing_entity.code,
        "number": note.number,
        "lago_invoice_id": str(invoice.pk),
        "invoice_number": invoice.number,
        "purchase_order_number": None,
        "issuing_date": iso_date(note.issuing_date),
        "credit_status": note.credit_status,
        "refund_status": note.refund_status,
        "reason": note.reason,
        "description": note.description,
        "currency": note.currency,
        "total_amount_cents": note.total_amount_cents,
        "credit_amount_cents": note.credit_amount_cents,
        "balance_amount_cents": note.balance_amount_cents,
        "refund_amount_cents": note.refund_amount_cents,
        "offset_amount_cents": note.offset_amount_cents,
        "taxes_amount_cents": note.taxes_amount_cents,
        "taxes_rate": float(note.taxes_rate),
        "sub_total_excluding_taxes_amount_cents": note.sub_total_excluding_taxes_amount_cents,
        "coupons_adjustment_amount_cents": note.coupons_adjustment_amount_cents,
        "file_url": signed_url("credit_note", note.pk, note.pdf_file.name, note.number) if note.pdf_file else None,
        "created_at": iso_datetime(note.created_at),
        "updated_at": iso_datetime(note.updated_at),
        "voided_at": iso_datetime(note.voided_at),
        "items": [
            {"lago_id": str(item.pk), "amount_cents": item.amount_cents, "amount_currency": note.currency, "fee": serialize_fee(item.fee, invoice)}
            for item in items
        ],
        "applied_taxes": applied_taxes(note, items),
        "metadata": note.metadata or {},
        "customer": serialize_customer(note.customer),
    }


def applied_taxes(note, items) -> list[dict]:
    """Per tax: the items' amounts after their coupon share, and the tax on them (rounded once per tax)."""
    base, amount, sample = defaultdict(Decimal), defaultdict(Decimal), {}
    for item in items:
        fee = item.fee
        share = Decimal(item.amount_cents) * fee.precise_coupons_amount_cents / Decimal(fee.amount_cents) if fee.amount_cents else Decimal(0)
        for tax in fee.applied_taxes.all():
            base[tax.tax_code] += Decimal(item.amount_cents) - share
            amount[tax.tax_code] += (Decimal(item.amount_cents) - share) * tax.tax_rate / HUNDRED
            sample[tax.tax_code] = tax
    return [
        {
            "lago_id": None, "lago_credit_note_id": str(note.pk), "lago_tax_id": str(tax.tax_id) if tax.tax_id else None,
            "tax_name": tax.tax_name, "tax_code": code, "tax_rate": float(tax.tax_rate), "tax_description": None,
            "amount_cents": round_cents(amount[code]), "amount_currency": note.currency, "base_amount_cents": round_cents(base[code]),
            "created_at": iso_datetime(note.created_at),
        }
        for code, tax in sorted(sample.items())
    ]


def webhook_credit_notes(ids) -> dict[str, dict]:
    """The `credit_note` object of credit_note.* webhooks: the API's full credit note (webhooks/payloads.py)."""
    notes = (CreditNote.objects.select_related("invoice__billing_entity", "customer__billing_entity")
             .prefetch_related("customer__taxes", "customer__metadata").filter(pk__in=list(ids)))
    return {str(note.pk): serialize_credit_note(note) for note in notes}
