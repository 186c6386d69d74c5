"""Lago's JSON shape of an invoice and its fees (InvoiceResponse / FeeResponse of the API contract).

Used by the REST API and by the runbook's admin JSON endpoint, so both answer the same thing.
Amounts are JSON integers of minor units; units and precise amounts are strings, as Lago sends them.
"""
from core.documents import signed_url
from core.serialization import decimal_str, iso_date, iso_datetime
from customers.serializers import serialize_customer

from .models import Fee, Invoice


def serialize_invoice(invoice: Invoice, *, detailed: bool = True) -> dict:
    """`detailed` adds fees (GET one); list items carry customer, metadata and applied_taxes only."""
    data = {
        "lago_id": str(invoice.pk),
        "billing_entity_code": invoice.billing_entity.code,
        "sequential_id": invoice.sequential_id,
        "number": invoice.number,
        "issuing_date": iso_date(invoice.issuing_date),
        "payment_due_date": iso_date(invoice.payment_due_date),
        "net_payment_term": invoice.net_payment_term,
        "invoice_type": invoice.invoice_type,
        "status": invoice.status,
        "payment_status": invoice.payment_status,
        "payment_overdue": invoice.payment_overdue,
        "payment_dispute_lost_at": None,
        "currency": invoice.currency,
        "fees_amount_cents": invoice.fees_amount_cents,
        "progressive_billing_credit_amount_cents": invoice.progressive_billing_credit_amount_cents,
        "coupons_amount_cents": invoice.coupons_amount_cents,
        "sub_total_excluding_taxes_amount_cents": invoice.sub_total_excluding_taxes_amount_cents,
        "taxes_amount_cents": invoice.taxes_amount_cents,
        "sub_total_including_taxes_amount_cents": invoice.sub_total_including_taxes_amount_cents,
        "credit_notes_amount_cents": invoice.credit_notes_amount_cents,
        "prepaid_credit_amount_cents": invoice.prepaid_credit_amount_cents,
        "total_amount_cents": invoice.total_amount_cents,
        "total_paid_amount_cents": invoice.total_paid_amount_cents,
        "total_due_amount_cents": invoice.total_due_amount_cents,
        "version_number": 4,
        "self_billed": False,
        # A signed, expiring absolute link (core/documents.py), not a storage URL.
        "file_url": signed_url("invoice", invoice.pk, invoice.pdf_file.name, invoice.number) if invoice.pdf_file else None,
        "voided_invoice_id": str(invoice.voided_invoice_id) if invoice.voided_invoice_id else None,
        "created_at": iso_datetime(invoice.created_at),
        "updated_at": iso_datetime(invoice.updated_at),
        "finalized_at": iso_datetime(invoice.finalized_at),
        "voided_at": iso_datetime(invoice.voided_at),
        "customer": serialize_customer(invoice.customer),
        "metadata": invoice.metadata or [],
        "applied_taxes": [
            {
                "lago_id": str(line.pk),
                "lago_invoice_id": str(invoice.pk),
                "lago_tax_id": str(line.tax_id) if line.tax_id else None,
                "tax_name": line.tax_name,
                "tax_code": line.tax_code,
                "tax_rate": float(line.tax_rate),
                "tax_description": None,
                "amount_cents": line.amount_cents,
                "amount_currency": invoice.currency,
                "fees_amount_cents": line.fees_amount_cents,
                "created_at": iso_datetime(invoice.created_at),
            }
            for line in invoice.applied_taxes.all()
        ],
    }
    if detailed:
        data["fees"] = [serialize_fee(fee, invoice) for fee in invoice.fees.all()]
        data["credits"] = []
        data["subscriptions"] = []
        data["billing_periods"] = []
    return data


def serialize_fee(fee: Fee, invoice: Invoice | None = None) -> dict:
    """Callers listing many fees select_related add_on, charge__billable_metric and subscription__plan."""
    invoice = invoice or fee.invoice
    return {
        "lago_id": str(fee.pk),
        "lago_charge_id": str(fee.charge_id) if fee.charge_id else None,
        "lago_invoice_id": str(invoice.pk),
        "lago_subscription_id": str(fee.subscription_id) if fee.subscription_id else None,
        "external_subscription_id": fee.subscription.external_id if fee.subscription_id else None,
        "item": _fee_item(fee),
        "amount_cents": fee.amount_cents,
        "precise_amount": decimal_str(fee.precise_amount_cents),
        "amount_currency": invoice.currency,
        "taxes_amount_cents": fee.taxes_amount_cents,
        "taxes_rate": float(fee.taxes_rate),
        "total_amount_cents": fee.total_amount_cents,
        "total_amount_currency": invoice.currency,
        "units": decimal_str(fee.units),
        "unit_amount_cents": fee.unit_amount_cents,
        "precise_unit_amount": decimal_str(fee.precise_unit_amount),
        "description": fee.description or None,
        "invoice_display_name": fee.invoice_display_name or None,
        "from_date": iso_datetime(fee.from_datetime),
        "to_date": iso_datetime(fee.to_datetime),
        "payment_status": invoice.payment_status,
        "adjustment": fee.adjustment,
        "created_at": iso_datetime(fee.created_at),
        "applied_taxes": [
            {
                "lago_id": str(t.pk),
                "lago_fee_id": str(fee.pk),
                "lago_tax_id": str(t.tax_id) if t.tax_id else None,
                "tax_name": t.tax_name,
                "tax_code": t.tax_code,
                "tax_rate": float(t.tax_rate),
                "amount_cents": t.amount_cents,
                "amount_currency": invoice.currency,
            }
            for t in fee.applied_taxes.all()
        ],
    }


def _fee_item(fee: Fee) -> dict:
    """What the fee bills, as Lago names it: the add-on, the charge's billable metric, or the plan."""
    if fee.add_on_id:
        code, name, item_id, item_type = fee.add_on.code, fee.add_on.name, fee.add_on_id, "AddOn"
    elif fee.charge_id:
        metric = fee.charge.billable_metric
        code, name, item_id, item_type = metric.code, metric.name, metric.pk, "BillableMetric"
    elif fee.subscription_id:
        plan = fee.subscription.plan
        code, name, item_id, item_type = plan.code, plan.name, fee.subscription_id, "Subscription"
    else:  # a fee an operator added by hand
        code, name, item_id, item_type = fee.kind, fee.get_kind_display(), None, fee.kind.title()
    return {
        "type": fee.kind,
        "code": code,
        "name": name,
        "invoice_display_name": fee.display_name,
        "lago_item_id": str(item_id) if item_id else None,
        "item_type": item_type,
    }
