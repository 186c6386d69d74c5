"""What a credit note on these items would amount to (Lago's POST /credit_notes/estimate), written nowhere.

The items are checked and priced by `credit_notes.services.compute`, the rule `create_credit_note`
applies (per-fee limits, coupon share, taxes), and the ceilings are the service's own: what is
left to credit on the invoice, what can be refunded (what was paid) and offset (what is due).
"""
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from invoices.models import Invoice

from .services import HUNDRED, Computed, compute, creditable_amount_cents, refundable_amount_cents


@dataclass
class Estimate:
    invoice: Invoice
    computed: Computed
    precise_coupons_adjustment: Decimal
    precise_taxes: Decimal
    taxes: list  # [(FeeTax sample, base Decimal, amount Decimal)] per tax code
    max_creditable_amount_cents: int
    max_refundable_amount_cents: int
    max_offsettable_amount_cents: int

    @property
    def taxes_rate(self) -> Decimal:
        base = self.computed.sub_total_excluding_taxes_amount_cents
        if base <= 0:
            return Decimal(0)
        return (Decimal(self.computed.taxes_amount_cents) * HUNDRED / Decimal(base)).quantize(Decimal("0.001"))


def estimate_credit_note(invoice: Invoice, items) -> Estimate:
    """ValidationError (with the service's codes) for items or an invoice a credit note would refuse."""
    if invoice.status != Invoice.Status.FINALIZED:
        raise ValidationError(f"Invoice {invoice.number} is {invoice.status}: only finalized invoices take credit notes.",
                              code="invalid_invoice_status")
    if invoice.invoice_type == Invoice.InvoiceType.CREDIT:
        raise ValidationError("Wallet top-up invoices take no credit notes.", code="invalid_invoice_type")
    computed = compute(invoice, items)
    adjustment, taxes_total = Decimal(0), Decimal(0)
    base, amount, sample = defaultdict(Decimal), defaultdict(Decimal), {}
    for fee, cents in computed.items:
        share = Decimal(cents) * fee.precise_coupons_amount_cents / Decimal(fee.amount_cents)
        adjustment += share
        for tax in fee.applied_taxes.all():
            base[tax.tax_code] += Decimal(cents) - share
            amount[tax.tax_code] += (Decimal(cents) - share) * tax.tax_rate / HUNDRED
            sample[tax.tax_code] = tax
        taxes_total += sum(((Decimal(cents) - share) * t.tax_rate / HUNDRED for t in fee.applied_taxes.all()), Decimal(0))
    total = computed.total_amount_cents
    creditable = min(total, creditable_amount_cents(invoice))
    return Estimate(
        invoice=invoice, computed=computed, precise_coupons_adjustment=adjustment, precise_taxes=taxes_total,
        taxes=[(tax, base[code], amount[code]) for code, tax in sorted(sample.items())],
        max_creditable_amount_cents=creditable,
        max_refundable_amount_cents=min(creditable, refundable_amount_cents(invoice)),
        max_offsettable_amount_cents=min(creditable, invoice.total_due_amount_cents),
    )
