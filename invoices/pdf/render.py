"""Rendering an invoice as a PDF (WeasyPrint, from templates/invoices/pdf/invoice.html).

Pure rendering: no storage, no status change. `invoices.pdf.tasks` stores the PDF of
finalized (and voided) invoices after commit; the admin renders drafts on the fly,
stamped DRAFT and never stored. Amounts are formatted here, once, with the invoice
currency's ISO 4217 decimals.
"""
from decimal import Decimal

from core.documents import render_pdf
from core.money import format_amount

from ..models import Invoice

STAMPS = {Invoice.Status.DRAFT: "DRAFT", Invoice.Status.VOIDED: "VOIDED"}


def render_invoice_pdf_bytes(invoice: Invoice) -> bytes:
    return render_pdf("invoices/pdf/invoice.html", invoice_context(invoice))


def invoice_context(invoice: Invoice) -> dict:
    currency = invoice.currency
    customer = invoice.customer
    tz = customer.tzinfo

    def money(cents):
        return format_amount(cents, currency)

    def day(moment):
        return moment.astimezone(tz).date().isoformat() if moment else ""

    fees = [
        {
            "name": fee.display_name,
            "description": fee.description if fee.description != fee.display_name else "",
            "period": f"{day(fee.from_datetime)} – {day(fee.to_datetime)}" if fee.from_datetime else "",
            "units": _units(fee.units),
            "unit_price": money(fee.unit_amount_cents),
            "amount": money(fee.amount_cents),
        }
        for fee in invoice.fees.order_by("position", "created_at")
    ]
    taxes = [
        {"name": f"{tax.tax_name} ({tax.tax_rate.normalize():f} %)", "base": money(tax.fees_amount_cents), "amount": money(tax.amount_cents)}
        for tax in invoice.applied_taxes.all()
    ]
    totals = [("Fees", money(invoice.fees_amount_cents), "")]
    if invoice.coupons_amount_cents:
        totals.append(("Coupons", "-" + money(invoice.coupons_amount_cents), ""))
    totals.append(("Sub total excluding taxes", money(invoice.sub_total_excluding_taxes_amount_cents), ""))
    totals += [(f"{tax['name']} on {tax['base']}", tax["amount"], "small") for tax in taxes]
    totals += [
        ("Taxes", money(invoice.taxes_amount_cents), ""),
        ("Sub total including taxes", money(invoice.sub_total_including_taxes_amount_cents), ""),
    ]
    if invoice.credit_notes_amount_cents:
        totals.append(("Credit notes", "-" + money(invoice.credit_notes_amount_cents), ""))
    if invoice.prepaid_credit_amount_cents:
        totals.append(("Prepaid credits", "-" + money(invoice.prepaid_credit_amount_cents), ""))
    return {
        "invoice": invoice,
        "entity": invoice.billing_entity,
        "customer": customer,
        # Lago prints the customer's metadata flagged display_in_invoice under the customer block.
        "customer_metadata": list(customer.metadata.filter(display_in_invoice=True).values_list("key", "value")),
        "stamp": STAMPS.get(invoice.status, ""),
        "fees": fees,
        "taxes": taxes,
        "totals": totals,
        "total": money(invoice.total_amount_cents),
        "total_due": money(invoice.total_due_amount_cents),
    }


def _units(value) -> str:
    value = Decimal(value).normalize()
    return f"{value:f}"
