"""Voiding a finalized invoice.

Contract:
    void_invoice(invoice_id, actor, *, generate_credit_note=False, credit_amount_cents=0, refund_amount_cents=0) -> Invoice
Row-locked; only finalized invoices (else InvoiceLocked with code "not_voidable"); gives back
coupons, credit-note balances and wallet credits it consumed (a top-up invoice's unpaid purchase
fails); records invoice.voided; audited.

This module is the only writer of finalized → voided (`Invoice.STATUS_TRANSITIONS`; `save()`
checks it, and on PostgreSQL so does the trigger); the overdue flag is cleared through
`invoices/transitions/overdue.py`. Like Lago since
July 2025, the payment status is not checked. With `generate_credit_note`, one credit
note for credit + refund is issued first (the invoice must still be finalized for it);
both amounts together are capped at what the customer was billed after credits, since
those credits are given back separately. Lago's second, voided "remainder" note is not made.

Upstream mode: `void_invoice` hands over to the VOID delegate (transitions/delegation.py;
upstream/operations.py: Lago's POST /invoices/{id}/void with the same options, its answer mirrored).
"""
from django.db import transaction
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from coupons import ledger as coupons_ledger
from core.errors import field_error
from credit_notes import ledger as credit_notes_ledger
from credit_notes import services as credit_notes
from wallets import ledger as wallets_ledger
from webhooks import outbox

from . import delegation, overdue
from ..models import Invoice, InvoiceLocked
from ..totals import lock_credit_customers


def void_invoice(invoice_id, actor: Actor, *, generate_credit_note=False, credit_amount_cents=0, refund_amount_cents=0, now=None) -> Invoice:
    if (upstream := delegation.delegated(delegation.VOID)) is not None:
        return delegation.hand_over(upstream, invoice_id, actor, generate_credit_note=generate_credit_note,
                                    credit_amount_cents=credit_amount_cents, refund_amount_cents=refund_amount_cents, now=now)
    now = now or timezone.now()
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",)).select_related("customer__billing_entity", "billing_entity")
            .filter(pk=invoice_id).first()
        )
        if invoice is None:
            raise Invoice.DoesNotExist(f"Invoice {invoice_id} does not exist.")
        if invoice.status != Invoice.Status.FINALIZED:
            raise InvoiceLocked(f"Invoice {invoice.number} is {invoice.status}: only finalized invoices can be voided.", code="not_voidable")
        lock_credit_customers([invoice])
        before = snapshot(invoice)

        note = None
        if generate_credit_note:
            note = _void_credit_note(invoice, actor, credit_amount_cents, refund_amount_cents, now, credit_notes)

        invoice.status = Invoice.Status.VOIDED
        invoice.voided_at = now
        cleared = overdue.clear(invoice)
        invoice.save(update_fields=["status", "voided_at", *cleared, "updated_at"])

        given_back = {
            "coupons": coupons_ledger.give_back(invoice),
            "credit_notes": credit_notes_ledger.give_back(invoice),
            "wallets": wallets_ledger.give_back(invoice, now=now),
            "failed_top_ups": wallets_ledger.fail_pending_top_up(invoice),
        }
        audit_log.record(
            "invoice.voided", actor, invoice=invoice, obj=invoice, before=before,
            after={**snapshot(invoice), "given_back": given_back, "credit_note": note.number if note else None},
        )
        outbox.record("invoice.voided", invoice)
        return invoice


def _void_credit_note(invoice, actor, credit_amount_cents, refund_amount_cents, now, credit_notes):
    credit = credit_notes._amount(credit_amount_cents, "credit_amount_cents")
    refund = credit_notes._amount(refund_amount_cents, "refund_amount_cents")
    if credit + refund <= 0:
        raise field_error("credit_amount", "Enter a credit or a refund amount for the credit note.", "invalid_amount")
    limit = min(credit_notes.creditable_amount_cents(invoice), invoice.total_amount_cents)
    if credit + refund > limit or refund > credit_notes.refundable_amount_cents(invoice):
        raise field_error(
            "credit_refund_amount",
            f"Credit + refund ({credit + refund}) exceeds what can be credited on {invoice.number} ({limit}), "
            f"or the refund exceeds what was paid ({credit_notes.refundable_amount_cents(invoice)}).",
            "total_amount_exceeds_invoice_amount",
        )
    items = credit_notes.items_for_amount(invoice, credit + refund)
    return credit_notes.create_locked(
        invoice, actor, reason="other", description=f"Issued when voiding invoice {invoice.number}.", items=items,
        credit_amount_cents=credit, refund_amount_cents=refund, now=now,
    )


def snapshot(invoice: Invoice) -> dict:
    return {
        "status": invoice.status,
        "number": invoice.number,
        "payment_status": invoice.payment_status,
        "payment_overdue": invoice.payment_overdue,
        "voided_at": invoice.voided_at.isoformat() if invoice.voided_at else None,
        "total_amount_cents": invoice.total_amount_cents,
        "total_due_amount_cents": invoice.total_due_amount_cents,
    }
