"""The credit-note ledger: balances finalizing invoices may take, taking them, giving them back.

`invoices.totals.compute_totals` decides how much each balance gives (a `CreditNoteUse`)
from rows this module loaded under the finalization's locks; `apply` records it (a Credit
row, the balance decremented); voiding calls `give_back`. Nothing here imports `invoices`.
"""
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from coupons.models import Credit

from .models import CreditNote


@dataclass(frozen=True)
class CreditNoteUse:
    """What one credit note's balance pays of a finalizing invoice (after taxes)."""

    credit_note: CreditNote
    amount_cents: int


def _with_balance():
    return CreditNote.objects.filter(
        status=CreditNote.Status.FINALIZED, credit_status=CreditNote.CreditStatus.AVAILABLE, balance_amount_cents__gt=0,
    )


def any_available(outer: str = "pk") -> Exists:
    """Whether the customer at OuterRef(outer) has a note `lock_available` would return (to annotate customers, or invoices: outer="customer_id")."""
    return Exists(_with_balance().filter(customer_id=OuterRef(outer)))


def lock_available(customer_ids) -> dict:
    """{customer_id: [CreditNote]}: these customers' notes with a balance, row-locked, oldest first (one query)."""
    by_customer: dict = {}
    for note in _with_balance().select_for_update().filter(customer_id__in=customer_ids).order_by("created_at", "pk"):
        by_customer.setdefault(note.customer_id, []).append(note)
    return by_customer


def is_available(note: CreditNote) -> bool:
    return note.credit_status == CreditNote.CreditStatus.AVAILABLE and note.balance_amount_cents > 0


def apply(uses, invoice) -> None:
    """Record what a finalizing invoice takes from credit-note balances (rows updated in place for the batch)."""
    for use in uses:
        note = use.credit_note
        Credit.objects.create(invoice=invoice, credit_note=note, amount_cents=use.amount_cents, amount_currency=invoice.currency, before_taxes=False)
        note.balance_amount_cents -= use.amount_cents
        if note.balance_amount_cents == 0:
            note.credit_status = CreditNote.CreditStatus.CONSUMED
        note.save(update_fields=["balance_amount_cents", "credit_status", "updated_at"])


def give_back(invoice) -> list[dict]:
    """Give back to their credit notes the balances a voided invoice consumed (voided notes excepted)."""
    credits = list(Credit.objects.filter(invoice=invoice, credit_note__isnull=False).values_list("credit_note_id", "amount_cents"))
    if not credits:
        return []
    notes = {n.pk: n for n in CreditNote.objects.select_for_update().filter(pk__in={i for i, _ in credits}).order_by("pk")}
    given_back = []
    for note_id, amount in credits:
        note = notes[note_id]
        if note.credit_status == CreditNote.CreditStatus.VOIDED:
            continue
        note.balance_amount_cents = min(note.balance_amount_cents + amount, note.credit_amount_cents)
        note.credit_status = CreditNote.CreditStatus.AVAILABLE
        note.save(update_fields=["balance_amount_cents", "credit_status", "updated_at"])
        given_back.append({"credit_note": note.number, "amount_cents": amount})
    return given_back
