"""Credit notes: creating them within what is creditable, voiding their balance.

Their balances are consumed by later invoices and given back on void through `credit_notes.ledger`.

`create_credit_note` is the one door (admin form, API, void with a credit note).
Items are pre-tax fee amounts; the note's total is items − their share of the
invoice's coupons + taxes on the rest, and credit + refund + offset must equal
it (±1 cent, Lago's tolerance). Limits: per fee, what earlier notes left of its
amount; in total, what earlier notes left of the invoice's amount including
taxes; refunds up to what was paid; offsets up to what is due.

Upstream mode: `create_credit_note` hands over to the CREDIT_NOTE delegate (invoices/transitions/delegation.py;
upstream/operations.py: Lago's POST /credit_notes, the note it issues mirrored here under its lago_id).
"""
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from core.money import round_cents
from core.errors import field_error
from invoices.models import Invoice
from invoices.transitions import delegation
from sequences.models import take_next
from webhooks import outbox

from .models import CreditNote, CreditNoteItem
from .pdf import queue_after_commit

HUNDRED = Decimal(100)


@dataclass
class Computed:
    items: list  # [(fee, amount_cents)]
    sub_total_excluding_taxes_amount_cents: int
    coupons_adjustment_amount_cents: int
    taxes_amount_cents: int

    @property
    def total_amount_cents(self) -> int:
        return self.sub_total_excluding_taxes_amount_cents + self.taxes_amount_cents


def create_credit_note(invoice_id, actor: Actor, *, reason, items, description="", credit_amount_cents=0, refund_amount_cents=0,
                       offset_amount_cents=0, metadata=None, now=None) -> CreditNote:
    """Issue a credit note on a finalized invoice, in one transaction; ValidationError (with a code) on bad input."""
    if (upstream := delegation.delegated(delegation.CREDIT_NOTE)) is not None:
        return delegation.hand_over(upstream, invoice_id, actor, reason=reason, items=items, description=description,
                                    credit_amount_cents=credit_amount_cents, refund_amount_cents=refund_amount_cents,
                                    offset_amount_cents=offset_amount_cents, metadata=metadata, now=now)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer__billing_entity").filter(pk=invoice_id).first()
        if invoice is None:
            raise ValidationError("That invoice does not exist.", code="invoice_not_found")
        return create_locked(invoice, actor, reason=reason, items=items, description=description, credit_amount_cents=credit_amount_cents,
                             refund_amount_cents=refund_amount_cents, offset_amount_cents=offset_amount_cents, metadata=metadata, now=now)


def create_locked(invoice: Invoice, actor: Actor, *, reason, items, description="", credit_amount_cents=0, refund_amount_cents=0,
                  offset_amount_cents=0, metadata=None, now=None) -> CreditNote:
    """`create_credit_note` for an invoice the caller has locked (voiding issues its credit note this way)."""
    if invoice.status != Invoice.Status.FINALIZED:
        raise ValidationError(f"Invoice {invoice.number} is {invoice.status}: only finalized invoices take credit notes.", code="invalid_invoice_status")
    if invoice.invoice_type == Invoice.InvoiceType.CREDIT:
        raise ValidationError("Wallet top-up invoices take no credit notes.", code="invalid_invoice_type")
    if reason not in CreditNote.Reason.values:
        raise field_error("reason", f"Choose one of: {', '.join(CreditNote.Reason.values)}.", "value_is_invalid")
    credit, refund, offset = (_amount(v, name) for v, name in (
        (credit_amount_cents, "credit_amount_cents"), (refund_amount_cents, "refund_amount_cents"), (offset_amount_cents, "offset_amount_cents")))
    if credit + refund + offset <= 0:
        raise ValidationError("Credit, refund or offset: at least one must be positive.", code="invalid_amount")

    computed = compute(invoice, items)
    requested = credit + refund + offset
    if abs(requested - computed.total_amount_cents) > 1:
        raise ValidationError(
            f"Credit + refund + offset ({requested}) must equal the items after coupons and taxes ({computed.total_amount_cents}).",
            code="does_not_match_item_amounts",
        )
    if requested > creditable_amount_cents(invoice):
        raise ValidationError(
            f"{requested} is more than what is left to credit on invoice {invoice.number} ({creditable_amount_cents(invoice)}).",
            code="total_amount_exceeds_invoice_amount",
        )
    if refund > refundable_amount_cents(invoice):
        raise field_error("refund_amount_cents", f"At most {refundable_amount_cents(invoice)} can be refunded (what was paid).", "higher_than_remaining_invoice_amount")
    if offset > invoice.total_due_amount_cents:
        raise field_error("offset_amount_cents", f"At most {invoice.total_due_amount_cents} can be offset (what is due).", "higher_than_remaining_invoice_amount")

    now = now or timezone.now()
    sequence = take_next(f"credit_note:{invoice.pk}")[0]
    note = CreditNote.objects.create(
        invoice=invoice, customer=invoice.customer, sequential_id=sequence, number=f"{invoice.number}-CN{sequence:03d}",
        issuing_date=now.astimezone(invoice.customer.tzinfo).date(), reason=reason, description=description or "",
        currency=invoice.currency, status=CreditNote.Status.FINALIZED,
        credit_status=CreditNote.CreditStatus.AVAILABLE if credit else None,
        refund_status=CreditNote.RefundStatus.PENDING if refund else None,
        sub_total_excluding_taxes_amount_cents=computed.sub_total_excluding_taxes_amount_cents,
        coupons_adjustment_amount_cents=computed.coupons_adjustment_amount_cents,
        taxes_amount_cents=computed.taxes_amount_cents,
        taxes_rate=_effective_rate(computed),
        total_amount_cents=requested,
        credit_amount_cents=credit, balance_amount_cents=credit, refund_amount_cents=refund, offset_amount_cents=offset,
        metadata=metadata or {},
    )
    CreditNoteItem.objects.bulk_create(
        CreditNoteItem(credit_note=note, fee=fee, amount_cents=amount, precise_amount_cents=Decimal(amount)) for fee, amount in computed.items
    )
    if offset:
        invoice.credit_notes_offset_amount_cents += offset
        invoice.save(update_fields=["credit_notes_offset_amount_cents", "updated_at"])
    audit_log.record("credit_note.created", actor, invoice=invoice, obj=note, before=None, after=snapshot(note))
    outbox.record("credit_note.created", note)
    queue_after_commit(note)
    return note


def compute(invoice: Invoice, items) -> Computed:
    """Check the items against each fee's creditable amount; derive coupon adjustment and taxes like the invoice did."""
    if not items:
        raise field_error("items", "Add at least one fee to credit.", "invalid_items")
    fees = {str(fee.pk): fee for fee in invoice.fees.prefetch_related("applied_taxes")}
    credited = fee_credited_amounts(invoice)
    checked, adjustment, taxes, seen = [], Decimal(0), Decimal(0), set()
    for item in items:
        fee = fees.get(str(item.get("fee_id") or item.get("fee") and item["fee"].pk))
        if fee is None:
            raise field_error("items", "A fee is not on this invoice.", "fee_not_found")
        if fee.pk in seen:
            raise field_error("items", f"{fee.display_name} is listed twice.", "invalid_items")
        seen.add(fee.pk)
        amount = _amount(item.get("amount_cents"), "amount_cents")
        if amount == 0:
            continue
        left = fee.amount_cents - credited.get(fee.pk, 0)
        if amount > left:
            raise field_error("items", f"{fee.display_name}: at most {left} is left to credit.", "higher_than_remaining_fee_amount")
        share = Decimal(amount) * fee.precise_coupons_amount_cents / Decimal(fee.amount_cents)
        adjustment += share
        taxes += sum(((Decimal(amount) - share) * t.tax_rate / HUNDRED for t in fee.applied_taxes.all()), Decimal(0))
        checked.append((fee, amount))
    if not checked:
        raise field_error("items", "Add at least one fee with an amount.", "invalid_items")
    items_total = sum(amount for _, amount in checked)
    return Computed(checked, items_total - round_cents(adjustment), round_cents(adjustment), round_cents(taxes))


def fee_credited_amounts(invoice: Invoice) -> dict:
    # Voided notes still count: voiding gives up the unused balance, not what was already credited.
    rows = CreditNoteItem.objects.filter(fee__invoice=invoice)
    return {row["fee_id"]: row["total"] for row in rows.values("fee_id").annotate(total=Sum("amount_cents"))}


def creditable_amount_cents(invoice: Invoice) -> int:
    """What is left to credit: the invoice's amount including taxes, less earlier credit notes (voided ones too)."""
    done = invoice.credit_notes.aggregate(s=Sum("total_amount_cents"))["s"] or 0
    return max(invoice.sub_total_including_taxes_amount_cents - done, 0)


def refundable_amount_cents(invoice: Invoice) -> int:
    done = invoice.credit_notes.aggregate(s=Sum("refund_amount_cents"))["s"] or 0
    return max(invoice.total_paid_amount_cents - done, 0)


def items_for_amount(invoice: Invoice, total_cents: int) -> list[dict]:
    """Items crediting `total_cents` (taxes included) of the invoice, pro rata to each fee's creditable amount.

    Used when voiding with a credit note, where the operator gives amounts, not items.
    Each fee takes the same fraction of what is left of it; the last fee absorbs the
    rounding so the computed total lands within the 1-cent tolerance.
    """
    fees = list(invoice.fees.prefetch_related("applied_taxes").order_by("position", "created_at"))
    credited = fee_credited_amounts(invoice)
    left = [(fee, fee.amount_cents - credited.get(fee.pk, 0)) for fee in fees]
    left = [(fee, amount) for fee, amount in left if amount > 0]
    full = compute(invoice, [{"fee_id": fee.pk, "amount_cents": amount} for fee, amount in left]) if left else None
    if full is None or full.total_amount_cents <= 0:
        raise ValidationError("Nothing is left to credit on this invoice.", code="total_amount_exceeds_invoice_amount")
    ratio = Decimal(total_cents) / Decimal(full.total_amount_cents)
    items = [{"fee_id": fee.pk, "amount_cents": min(round_cents(Decimal(amount) * ratio), amount)} for fee, amount in left]
    # One correction step on the largest item: converts the remaining gap back to a pre-tax amount.
    largest = max(range(len(items)), key=lambda i: (left[i][1], -i))
    gap = total_cents - compute(invoice, items).total_amount_cents
    if gap:
        fee, amount = left[largest]
        gross_per_cent = Decimal(full.total_amount_cents) / Decimal(sum(a for _, a in left))
        items[largest]["amount_cents"] = max(0, min(amount, items[largest]["amount_cents"] + round_cents(Decimal(gap) / gross_per_cent)))
    return [item for item in items if item["amount_cents"] > 0]


def void_credit_note(credit_note_id, actor: Actor, *, now=None) -> CreditNote:
    """Give up a credit note's unused balance (Lago's PUT /credit_notes/:id/void); what was consumed stays consumed.

    Upstream mode: handed to the CREDIT_NOTE_VOID delegate (Lago voids it, the mirror takes its answer).
    """
    if (upstream := delegation.delegated(delegation.CREDIT_NOTE_VOID)) is not None:
        return delegation.hand_over(upstream, credit_note_id, actor, now=now)
    with transaction.atomic():
        note = CreditNote.objects.select_for_update().select_related("invoice").filter(pk=credit_note_id).first()
        if note is None:
            raise ValidationError("That credit note does not exist.", code="credit_note_not_found")
        if note.credit_status != CreditNote.CreditStatus.AVAILABLE or note.balance_amount_cents <= 0:
            raise ValidationError(f"Credit note {note.number} has no balance left to void.", code="no_voidable_amount")
        before = snapshot(note)
        note.credit_status = CreditNote.CreditStatus.VOIDED
        note.balance_amount_cents = 0
        note.voided_at = now or timezone.now()
        note.save(update_fields=["credit_status", "balance_amount_cents", "voided_at", "updated_at"])
        audit_log.record("credit_note.voided", actor, invoice=note.invoice, obj=note, before=before, after=snapshot(note))
        return note


def _amount(value, field) -> int:
    try:
        number = Decimal(str(value if value not in (None, "") else 0))
    except Exception:
        raise field_error(field, f"{value!r} is not a number.", "invalid_number")
    if number < 0 or number != number.to_integral_value():
        raise field_error(field, "Must be a whole, non-negative number of minor units.", "invalid_value")
    return int(number)


def _effective_rate(computed: Computed) -> Decimal:
    if computed.sub_total_excluding_taxes_amount_cents <= 0:
        return Decimal(0)
    return (Decimal(computed.taxes_amount_cents) * HUNDRED / Decimal(computed.sub_total_excluding_taxes_amount_cents)).quantize(Decimal("0.001"))


def snapshot(note: CreditNote) -> dict:
    return {
        "number": note.number,
        "reason": note.reason,
        "currency": note.currency,
        "total_amount_cents": note.total_amount_cents,
        "credit_amount_cents": note.credit_amount_cents,
        "refund_amount_cents": note.refund_amount_cents,
        "offset_amount_cents": note.offset_amount_cents,
        "taxes_amount_cents": note.taxes_amount_cents,
        "balance_amount_cents": note.balance_amount_cents,
        "credit_status": note.credit_status,
        "items": [{"fee_id": str(i.fee_id), "amount_cents": i.amount_cents} for i in note.items.all()],
    }
