"""The invoice totals, in Lago's order: fees -> coupons -> taxes -> credit notes -> prepaid credits.

`compute_totals` is the only place that sets an invoice's amount fields. Drafts
are computed with `finalizing=False`: coupons, credit notes and wallet credits
are consumed only when an invoice is finalized (seed 002), so a draft shows
fees and taxes only and its total is usually higher than the final one.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from billing_console.money import round_cents

from .models import Fee, Invoice

HUNDRED = Decimal(100)


@dataclass
class TaxLine:
    tax_id: object
    tax_code: str
    tax_name: str
    tax_rate: Decimal
    fees_amount_cents: int = 0
    precise_amount: Decimal = Decimal(0)

    @property
    def amount_cents(self) -> int:
        return round_cents(self.precise_amount)


@dataclass
class Totals:
    tax_lines: list[TaxLine] = field(default_factory=list)


def compute_totals(invoice: Invoice, fees: list[Fee], *, finalizing: bool, credit_holders: set | None = None) -> Totals:
    """Set every amount field of `invoice` (and each fee's tax fields) from `fees`; return the tax lines.

    Fees must carry their `applied_taxes` (prefetched). Nothing is saved here:
    the caller persists invoice, fees and tax lines in its own transaction.
    `credit_holders` (from `lock_credit_holders`, for a batch) names the customers that hold
    any coupon, credit-note balance or wallet credit; the others need no look-up at all.
    """
    invoice.fees_amount_cents = sum(fee.amount_cents for fee in fees)
    invoice.progressive_billing_credit_amount_cents = 0

    # Coupons, credit notes and prepaid credits never apply to one-off (or credit) invoices (seed 004).
    discounted = invoice.invoice_type == Invoice.InvoiceType.SUBSCRIPTION and (
        credit_holders is None or invoice.customer_id in credit_holders
    )
    invoice.coupons_amount_cents = apply_coupons(invoice, fees, finalizing=finalizing) if discounted else _no_coupons(fees)
    invoice.sub_total_excluding_taxes_amount_cents = (
        invoice.fees_amount_cents - invoice.progressive_billing_credit_amount_cents - invoice.coupons_amount_cents
    )

    totals = Totals(tax_lines=_compute_taxes(fees))
    invoice.taxes_amount_cents = round_cents(sum((line.precise_amount for line in totals.tax_lines), Decimal(0)))
    invoice.sub_total_including_taxes_amount_cents = invoice.sub_total_excluding_taxes_amount_cents + invoice.taxes_amount_cents

    invoice.credit_notes_amount_cents = apply_credit_notes(invoice, finalizing=finalizing) if discounted else 0
    invoice.total_amount_cents = invoice.sub_total_including_taxes_amount_cents - invoice.credit_notes_amount_cents

    invoice.prepaid_credit_amount_cents = apply_prepaid_credits(invoice, fees, finalizing=finalizing) if discounted else 0
    invoice.total_amount_cents -= invoice.prepaid_credit_amount_cents
    return totals


def _no_coupons(fees: list[Fee]) -> int:
    for fee in fees:
        fee.precise_coupons_amount_cents = Decimal(0)
    return 0


def _compute_taxes(fees: list[Fee]) -> list[TaxLine]:
    """Per fee: (amount - coupon share) x rate. Per tax: the unrounded sum over its fees, rounded once."""
    lines: dict[str, TaxLine] = {}
    for fee in fees:
        base = Decimal(fee.amount_cents) - fee.precise_coupons_amount_cents
        fee_taxes = Decimal(0)
        rate_sum = Decimal(0)
        for applied in fee.applied_taxes.all():
            precise = base * applied.tax_rate / HUNDRED
            applied.amount_cents = round_cents(precise)
            fee_taxes += precise
            rate_sum += applied.tax_rate
            line = lines.get(applied.tax_code)
            if line is None:
                line = lines[applied.tax_code] = TaxLine(applied.tax_id, applied.tax_code, applied.tax_name, applied.tax_rate)
            line.fees_amount_cents += round_cents(base)
            line.precise_amount += precise
        fee.taxes_amount_cents = round_cents(fee_taxes)
        fee.taxes_rate = rate_sum
    return sorted(lines.values(), key=lambda line: line.tax_code)


# --- credits applied at finalization -------------------------------------------------------
# Each returns the amount it takes off. Only a finalizing subscription invoice consumes
# anything (seed 002: never drafts; never one-off or top-up invoices); what is consumed is
# recorded by the owning app's service (Credit rows, wallet transactions) inside the
# finalizing transaction, under row locks, after `lock_credit_holders` took the customers'.


def consumes_credits(invoice: Invoice, finalizing: bool) -> bool:
    return finalizing and invoice.invoice_type == Invoice.InvoiceType.SUBSCRIPTION


def apply_coupons(invoice: Invoice, fees: list[Fee], *, finalizing: bool) -> int:
    for fee in fees:
        fee.precise_coupons_amount_cents = Decimal(0)
    if not consumes_credits(invoice, finalizing) or invoice.fees_amount_cents <= 0:
        return 0
    from coupons.services import consume_coupons

    return consume_coupons(invoice, fees)


def apply_credit_notes(invoice: Invoice, *, finalizing: bool) -> int:
    if not consumes_credits(invoice, finalizing) or invoice.sub_total_including_taxes_amount_cents <= 0:
        return 0
    from credit_notes.services import consume_credit_notes

    return consume_credit_notes(invoice)


def apply_prepaid_credits(invoice: Invoice, fees: list[Fee], *, finalizing: bool) -> int:
    if not consumes_credits(invoice, finalizing) or invoice.total_amount_cents <= 0:
        return 0
    from wallets.services import consume_prepaid_credits

    return consume_prepaid_credits(invoice)


def lock_credit_holders(invoices: list[Invoice]) -> set:
    """Lock the customers whose coupons, credit notes and wallets finalizing `invoices` may consume;
    return those of them that hold any (for `compute_totals(credit_holders=...)`).

    One pass, in primary-key order, before any invoice of the batch consumes
    anything: two batches finalizing drafts of the same customers in different
    orders would otherwise lock their credit rows crosswise and deadlock. NO KEY
    UPDATE leaves inserts referencing the customer unblocked. The credit rows
    themselves are locked again when consumed, so nothing is consumed twice.
    """
    from coupons.services import customers_with_coupons
    from credit_notes.services import customers_with_credit_note_balance
    from customers.models import Customer
    from wallets.services import customers_with_wallet_balance

    ids = sorted({invoice.customer_id for invoice in invoices if invoice.invoice_type == Invoice.InvoiceType.SUBSCRIPTION})
    if not ids:
        return set()
    list(Customer.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    return customers_with_coupons(ids) | customers_with_credit_note_balance(ids) | customers_with_wallet_balance(ids)


TAX_FIELDS = ["taxes_amount_cents", "taxes_rate", "precise_coupons_amount_cents"]


def load_fees(invoice: Invoice) -> list[Fee]:
    """The invoice's fees with their applied taxes, as compute_totals needs them."""
    return remember_loaded(list(invoice.fees.prefetch_related("applied_taxes")))


def remember_loaded(fees: list[Fee]) -> list[Fee]:
    """Note the stored tax figures, so save_computed writes only the rows whose figures changed."""
    for fee in fees:
        fee._loaded_totals = tuple(getattr(fee, name) for name in TAX_FIELDS)
        for applied in fee.applied_taxes.all():
            applied._loaded_amount = applied.amount_cents
    return fees


def save_computed(items: list[tuple[Invoice, list[Fee], Totals]], *, new_ids=()) -> None:
    """Persist what compute_totals set on fees and tax lines, for one or many invoices at once.

    The invoices' own amount fields are saved by the caller together with its other changes.
    `new_ids` names invoices created by this transaction: they have no stored tax lines to read.
    """
    from .bulk import bulk_update
    from .models import InvoiceTax

    fees = [fee for _, invoice_fees, _ in items for fee in invoice_fees]
    bulk_update([fee for fee in fees if getattr(fee, "_loaded_totals", None) != tuple(getattr(fee, name) for name in TAX_FIELDS)], TAX_FIELDS)
    bulk_update(
        [applied for fee in fees for applied in fee.applied_taxes.all() if getattr(applied, "_loaded_amount", None) != applied.amount_cents],
        ["amount_cents"],
    )
    # Tax lines are rewritten only for invoices whose lines changed (a finalization usually changes none).
    def key(tax_id, code, name, rate, fees_amount, amount):
        return (str(tax_id), code, name, Decimal(rate), fees_amount, amount)

    stored: dict = {}
    existing = [invoice for invoice, _, _ in items if invoice.pk not in new_ids]
    for invoice_id, *line in InvoiceTax.objects.filter(invoice__in=existing).values_list(
        "invoice_id", "tax_id", "tax_code", "tax_name", "tax_rate", "fees_amount_cents", "amount_cents"
    ) if existing else ():
        stored.setdefault(invoice_id, []).append(key(*line))
    changed = [
        (invoice, totals) for invoice, _, totals in items
        if sorted(stored.get(invoice.pk, [])) != sorted(
            key(l.tax_id, l.tax_code, l.tax_name, l.tax_rate, l.fees_amount_cents, l.amount_cents) for l in totals.tax_lines
        )
    ]
    if changed:
        InvoiceTax.objects.filter(invoice__in=[invoice for invoice, _ in changed]).delete()
    written: dict = {invoice.pk: [] for invoice, _ in changed}
    for invoice, totals in changed:
        for line in totals.tax_lines:
            written[invoice.pk].append(InvoiceTax(
                invoice=invoice, tax_id=line.tax_id, tax_code=line.tax_code, tax_name=line.tax_name,
                tax_rate=line.tax_rate, fees_amount_cents=line.fees_amount_cents, amount_cents=line.amount_cents,
            ))
    InvoiceTax.objects.bulk_create([row for rows in written.values() for row in rows], batch_size=1000)
    # Where the stored lines are now known (just written, or none at all), keep them on the invoice
    # as if prefetched: whoever answers with it next (the API) need not read them back.
    from .finalization import as_prefetched

    for invoice, _, _ in items:
        rows = written.get(invoice.pk, None if stored.get(invoice.pk) else [])
        if rows is not None:
            invoice._prefetched_objects_cache = {**getattr(invoice, "_prefetched_objects_cache", {}), "applied_taxes": as_prefetched(InvoiceTax, rows)}
