"""The invoice totals, in Lago's order: fees -> coupons -> taxes -> credit notes -> prepaid credits.

`compute_totals` is the only place that sets an invoice's amount fields, and it is
arithmetic only: from the invoice, its fees and the credits available to it (loaded
by the caller under the finalization's locks, `lock_credit_holders`), it sets the
amounts on those objects in memory and returns the tax lines and a `ConsumptionPlan`
(which coupon, credit note or wallet gives how much, to which fee). It runs no query
and writes nothing; finalization applies the plan through the ledgers
(`coupons.ledger`, `credit_notes.ledger`, `wallets.ledger`). Drafts are computed
with no credits: coupons, credit notes and wallet credits are consumed only when an
invoice is finalized (seed 002), so a draft shows fees and taxes only.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from core.db import lock_in_order, related_rows, seed_prefetched
from core.prepared import Prepared
from core.money import round_cents
from coupons import ledger as coupons_ledger
from coupons.ledger import CouponUse
from credit_notes import ledger as credit_notes_ledger
from credit_notes.ledger import CreditNoteUse
from customers.models import Customer
from wallets import ledger as wallets_ledger
from wallets.ledger import WalletUse

from core.bulk import bulk_update
from .models import Fee, Invoice, InvoiceTax

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


@dataclass(frozen=True)
class AvailableCredits:
    """What one invoice may consume, as loaded under the locks: rows of the ledgers, oldest first."""

    coupons: tuple = ()  # AppliedCoupon (coupons.ledger.lock_available), active, in consumption order
    credit_notes: tuple = ()  # CreditNote with a balance
    wallets: tuple = ()  # active Wallet with a balance


NO_CREDITS = AvailableCredits()


@dataclass(frozen=True)
class ConsumptionPlan:
    """What finalizing one invoice takes from each ledger; applied by `invoices.transitions.finalization`."""

    coupons: tuple[CouponUse, ...] = ()
    credit_notes: tuple[CreditNoteUse, ...] = ()
    wallets: tuple[WalletUse, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.coupons or self.credit_notes or self.wallets)


NOTHING_CONSUMED = ConsumptionPlan()


@dataclass
class Totals:
    tax_lines: list[TaxLine] = field(default_factory=list)
    plan: ConsumptionPlan = NOTHING_CONSUMED


def compute_totals(invoice: Invoice, fees: list[Fee], credits: AvailableCredits = NO_CREDITS) -> Totals:
    """Set every amount field of `invoice` (and each fee's coupon share and tax fields) from `fees`
    and `credits`; return the tax lines and what the credits give.

    Fees must carry their `applied_taxes` (prefetched). Nothing is queried or saved here:
    the caller persists invoice, fees and tax lines, and applies the plan, in its own transaction.
    """
    invoice.fees_amount_cents = sum(fee.amount_cents for fee in fees)
    invoice.progressive_billing_credit_amount_cents = 0
    for fee in fees:
        fee.precise_coupons_amount_cents = Decimal(0)

    # Coupons, credit notes and prepaid credits never apply to one-off (or credit) invoices (seed 004).
    discounted = invoice.invoice_type == Invoice.InvoiceType.SUBSCRIPTION
    coupons = _plan_coupons(invoice, fees, credits.coupons) if discounted and invoice.fees_amount_cents > 0 else ()
    invoice.coupons_amount_cents = sum(use.amount_cents for use in coupons)
    invoice.sub_total_excluding_taxes_amount_cents = (
        invoice.fees_amount_cents - invoice.progressive_billing_credit_amount_cents - invoice.coupons_amount_cents
    )

    tax_lines = _compute_taxes(fees)
    invoice.taxes_amount_cents = round_cents(sum((line.precise_amount for line in tax_lines), Decimal(0)))
    invoice.sub_total_including_taxes_amount_cents = invoice.sub_total_excluding_taxes_amount_cents + invoice.taxes_amount_cents

    notes = _plan_credit_notes(invoice, credits.credit_notes) if discounted and invoice.sub_total_including_taxes_amount_cents > 0 else ()
    invoice.credit_notes_amount_cents = sum(use.amount_cents for use in notes)
    invoice.total_amount_cents = invoice.sub_total_including_taxes_amount_cents - invoice.credit_notes_amount_cents

    wallets = _plan_prepaid_credits(invoice, credits.wallets) if discounted and invoice.total_amount_cents > 0 else ()
    invoice.prepaid_credit_amount_cents = sum(use.amount_cents for use in wallets)
    invoice.total_amount_cents -= invoice.prepaid_credit_amount_cents
    plan = ConsumptionPlan(coupons, notes, wallets) if coupons or notes or wallets else NOTHING_CONSUMED
    return Totals(tax_lines=tax_lines, plan=plan)


def _compute_taxes(fees: list[Fee]) -> list[TaxLine]:
    """Per fee: (amount - coupon share) x rate. Per tax: the unrounded sum over its fees, rounded once."""
    lines: dict[str, TaxLine] = {}
    for fee in fees:
        base = Decimal(fee.amount_cents) - fee.precise_coupons_amount_cents
        fee_taxes = Decimal(0)
        rate_sum = Decimal(0)
        for applied in related_rows(fee, "applied_taxes"):
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


# --- credits, planned here, applied by the ledgers at finalization ---------------------------
# Only a finalizing subscription invoice is given any credits (seed 002: never drafts; never
# one-off or top-up invoices). Each plan step returns the uses; their sum is what it takes off.


def _plan_coupons(invoice: Invoice, fees: list[Fee], coupons) -> tuple[CouponUse, ...]:
    """Oldest applied first, each on what the earlier ones left of the pre-tax base, spread over the fees."""
    uses, total = [], 0
    for applied in coupons:
        base = invoice.fees_amount_cents - invoice.progressive_billing_credit_amount_cents - total
        if base <= 0:
            break
        if applied.is_fixed and applied.amount_currency != invoice.currency:
            continue  # a fixed amount only applies to invoices in its currency
        amount = coupons_ledger.coupon_amount(applied, base)
        if amount <= 0:
            continue
        shares = spread(amount, fees)
        uses.append(CouponUse(applied, amount, tuple((fee.pk, share) for fee, share in zip(fees, shares))))
        total += amount
    return tuple(uses)


def spread(amount: int, fees) -> list[int]:
    """Add `amount` to the fees' coupon shares pro rata to what each has left, in whole cents; return the shares.

    Largest remainder: every fee gets the floor of its exact share, and the cents
    left over go one each to the largest fractional parts, ties to the earlier fee.
    The shares always add up to `amount` exactly, so taxes are computed on it.
    """
    bases = [Decimal(fee.amount_cents) - fee.precise_coupons_amount_cents for fee in fees]
    total_base = sum(bases, Decimal(0))
    if total_base <= 0:
        return [0] * len(fees)
    exact = [Decimal(amount) * base / total_base for base in bases]
    shares = [int(share) for share in exact]  # floor: shares are non-negative
    left = amount - sum(shares)
    by_remainder = sorted(range(len(fees)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    for fee, share in zip(fees, shares):
        fee.precise_coupons_amount_cents += Decimal(share)
    return shares


def _plan_credit_notes(invoice: Invoice, notes) -> tuple[CreditNoteUse, ...]:
    """Balances after taxes, oldest note first, in the invoice's currency."""
    uses, total = [], 0
    remaining = invoice.sub_total_including_taxes_amount_cents
    for note in notes:
        if note.currency != invoice.currency:
            continue
        if remaining - total <= 0:
            break
        amount = min(note.balance_amount_cents, remaining - total)
        uses.append(CreditNoteUse(note, amount))
        total += amount
    return tuple(uses)


def _plan_prepaid_credits(invoice: Invoice, wallets) -> tuple[WalletUse, ...]:
    """What is left is paid from the customer's (one active) wallet in the invoice's currency."""
    wallet = next((wallet for wallet in wallets if wallet.currency == invoice.currency), None)
    if wallet is None:
        return ()
    return (WalletUse(wallet, min(wallet.balance_cents, invoice.total_amount_cents)),)


@dataclass
class HeldCredits:
    """The coupon, credit-note and wallet rows of a batch's customers, loaded and locked by
    `lock_credit_holders` ({customer_id: [row]}). The ledgers update these rows in place as
    plans are applied, so of two drafts of one customer the second sees what the first left."""

    coupons: dict = field(default_factory=dict)
    credit_notes: dict = field(default_factory=dict)
    wallets: dict = field(default_factory=dict)

    def available_to(self, invoice: Invoice) -> AvailableCredits:
        if invoice.invoice_type != Invoice.InvoiceType.SUBSCRIPTION:
            return NO_CREDITS
        customer_id = invoice.customer_id
        coupons = tuple(a for a in self.coupons.get(customer_id, ()) if coupons_ledger.is_available(a))
        notes = tuple(n for n in self.credit_notes.get(customer_id, ()) if credit_notes_ledger.is_available(n))
        wallets = tuple(w for w in self.wallets.get(customer_id, ()) if wallets_ledger.is_available(w))
        return AvailableCredits(coupons, notes, wallets) if coupons or notes or wallets else NO_CREDITS


def lock_credit_customers(invoices: list[Invoice]) -> list:
    """Lock the customers whose coupons, credit notes and wallets `invoices` may consume or give back.

    One pass, in primary-key order, before any invoice of the batch consumes
    anything: two batches finalizing drafts of the same customers in different
    orders would otherwise lock their credit rows crosswise and deadlock. NO KEY
    UPDATE leaves inserts referencing the customer unblocked. Returns the customer ids.
    """
    ids = _credit_customer_ids(invoices)
    _lock_customers(ids)
    return ids


def _credit_customer_ids(invoices: list[Invoice]) -> list:
    """The customers whose credits `invoices` touch (subscription invoices only), in primary-key order."""
    return sorted({invoice.customer_id for invoice in invoices if invoice.invoice_type == Invoice.InvoiceType.SUBSCRIPTION})


def _lock_customers(ids: list) -> None:
    if ids:
        list(lock_in_order(Customer.objects.filter(pk__in=ids), no_key=True).values_list("pk", flat=True))


def lock_credit_holders(invoices: list[Invoice]) -> HeldCredits:
    """Load and lock the coupon, credit-note and wallet rows `invoices` may consume: one query per ledger that
    holds anything for their customers, whatever the batch's size.

    Which customers hold anything is one unlocked look first (most have no coupon, credit note or wallet at
    all), a query of its own unless the invoices were read through `credit_look`: a customer without any has
    nothing to consume or race for, and is not locked; if a concurrent change gives it credit meanwhile, this
    finalization simply comes first. The holders are then locked (`lock_credit_customers`: pk order, so batches
    cannot deadlock crosswise) and looked at again after the lock, never in the locking statement itself: a
    statement that waited for a lock still sees the other tables as they were when it started, and would miss a
    balance the lock holder (a top-up, a void giving credits back) committed meanwhile.
    """
    ids = _credit_customer_ids(invoices)
    subscription_invoices = [i for i in invoices if i.invoice_type == Invoice.InvoiceType.SUBSCRIPTION]
    if ids and all(hasattr(i, LOOKED[0]) for i in subscription_invoices):  # the lock statement looked (credit_look)
        holders = sorted({i.customer_id for i in subscription_invoices if any(getattr(i, name) for name in LOOKED)})
    else:
        holders = [pk for pk, *has in _credit_look(ids) if any(has)] if ids else []
    if not holders:
        return HeldCredits()
    _lock_customers(holders)  # pk order (lock_in_order), as lock_credit_customers
    holding = _credit_look(holders)
    coupons = [pk for pk, has, _, _ in holding if has]
    notes = [pk for pk, _, has, _ in holding if has]
    wallets = [pk for pk, _, _, has in holding if has]
    return HeldCredits(
        coupons=coupons_ledger.lock_available(coupons) if coupons else {},
        credit_notes=credit_notes_ledger.lock_available(notes) if notes else {},
        wallets=wallets_ledger.lock_available(wallets) if wallets else {},
    )


LOOKED = ("credit_has_coupons", "credit_has_notes", "credit_has_wallets")  # annotations set by credit_look()


def credit_look(invoices):
    """`invoices` (a queryset) annotated with the unlocked look of `lock_credit_holders`: whether the invoice's
    customer holds coupons, credit notes, wallets to consume (`LOOKED`).

    For the statement that locks the invoices (finalization): the look then costs no query of its own. That
    statement may have waited for an invoice lock and sees the holders as they were when it started; for
    the look that is enough (a customer given credit meanwhile is not locked: this finalization comes first).
    """
    ledgers = (coupons_ledger, credit_notes_ledger, wallets_ledger)
    return invoices.annotate(**{name: ledger.any_available("customer_id") for name, ledger in zip(LOOKED, ledgers)})


def _credit_look(customer_ids) -> list[tuple]:
    """(customer id, has coupons, has credit notes, has wallets) for each of these customers (one query)."""
    return list(
        Customer.objects.filter(pk__in=customer_ids).annotate(
            has_coupons=coupons_ledger.any_available(), has_notes=credit_notes_ledger.any_available(),
            has_wallets=wallets_ledger.any_available(),
        ).order_by().values_list("pk", "has_coupons", "has_notes", "has_wallets")
    )


TAX_FIELDS = ["taxes_amount_cents", "taxes_rate", "precise_coupons_amount_cents"]


def load_fees(invoice: Invoice) -> list[Fee]:
    """The invoice's fees with their applied taxes, as compute_totals needs them."""
    return remember_loaded(list(invoice.fees.prefetch_related("applied_taxes")))


def remember_loaded(fees: list[Fee]) -> list[Fee]:
    """Note the stored tax figures, so save_computed writes only the rows whose figures changed."""
    for fee in fees:
        fee._loaded_totals = tuple(getattr(fee, name) for name in TAX_FIELDS)
        for applied in related_rows(fee, "applied_taxes"):
            applied._loaded_amount = applied.amount_cents
    return fees


_TAX_LINES_OF_ONE = Prepared(lambda invoice_id: InvoiceTax.objects.filter(invoice_id=invoice_id), InvoiceTax._meta.get_field("invoice"))


def save_computed(items: list[tuple[Invoice, list[Fee], Totals]], *, new_ids=()) -> None:
    """Persist what compute_totals set on fees and tax lines, for one or many invoices at once.

    The invoices' own amount fields are saved by the caller together with its other changes.
    `new_ids` names invoices created by this transaction: they have no stored tax lines to read.
    """
    fees = [fee for _, invoice_fees, _ in items for fee in invoice_fees]
    bulk_update([fee for fee in fees if getattr(fee, "_loaded_totals", None) != tuple(getattr(fee, name) for name in TAX_FIELDS)], TAX_FIELDS)
    bulk_update(
        [applied for fee in fees for applied in related_rows(fee, "applied_taxes") if getattr(applied, "_loaded_amount", None) != applied.amount_cents],
        ["amount_cents"],
    )
    # Tax lines are rewritten only for invoices whose lines changed (a finalization usually changes none).
    def key(tax_id, code, name, rate, fees_amount, amount):
        return (str(tax_id), code, name, Decimal(rate), fees_amount, amount)

    stored: dict = {}
    stored_rows: dict = {}
    existing = [invoice for invoice, _, _ in items if invoice.pk not in new_ids]
    if len(existing) == 1:  # finalizing one invoice: the statement compiled once
        stored_lines = _TAX_LINES_OF_ONE.rows(existing[0].pk)
    else:
        stored_lines = InvoiceTax.objects.filter(invoice__in=existing) if existing else ()
    for row in stored_lines:
        stored_rows.setdefault(row.invoice_id, []).append(row)
        stored.setdefault(row.invoice_id, []).append(
            key(row.tax_id, row.tax_code, row.tax_name, row.tax_rate, row.fees_amount_cents, row.amount_cents)
        )
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
    # The stored lines are now known (just written, or read above and unchanged): keep them on the invoice
    # as if prefetched, so whoever answers with it next (the webhook body, the API) need not read them back.
    for invoice, _, _ in items:
        seed_prefetched(invoice, "applied_taxes", written.get(invoice.pk, stored_rows.get(invoice.pk, [])))
