"""Regenerating a corrected draft from a voided invoice (reference §10, seed 001 "Audit and reversibility").

The new invoice is an ordinary draft: same customer, type, currency and period, a
copy of every fee (with its adjustment and tax snapshots), linked through
`voided_invoice`. It is edited and finalized as usual and gets a new number
then; the coupons and credits the voided invoice gave back are consumed again
at that finalization. It has no grace-period deadline: an operator regenerated
it and finalizes it when it is right. One live regeneration per voided invoice.
"""
from django.core.exceptions import ValidationError
from django.db import transaction

from audit import log as audit_log
from audit.actors import Actor

from ..drafts import recompute_draft
from . import delegation
from ..models import Fee, FeeTax, Invoice, InvoiceLocked

COPIED_FEE_FIELDS = [
    "kind", "invoice_display_name", "description", "units", "unit_amount_cents", "precise_unit_amount", "amount_cents",
    "precise_amount_cents", "from_datetime", "to_datetime", "adjustment", "add_on_id", "position",
]


def regenerate_from_voided(invoice_id, actor: Actor) -> Invoice:
    if (guard := delegation.delegated(delegation.REGENERATE)) is not None:
        guard(invoice_id)  # upstream mode: a mirror is regenerated in Lago, never here alone
    with transaction.atomic():
        voided = Invoice.objects.select_for_update(of=("self",)).select_related("customer", "billing_entity").filter(pk=invoice_id).first()
        if voided is None:
            raise Invoice.DoesNotExist(f"Invoice {invoice_id} does not exist.")
        if voided.status != Invoice.Status.VOIDED:
            raise InvoiceLocked(f"Invoice {voided.number} is {voided.status}: only voided invoices can be regenerated.", code="not_regeneratable")
        live = voided.regenerated_invoices.exclude(status=Invoice.Status.VOIDED).first()
        if live is not None:
            raise ValidationError(f"Invoice {voided.number} was already regenerated as {live.number} ({live.status}).", code="already_regenerated")

        draft = Invoice.objects.create(
            customer=voided.customer, billing_entity=voided.billing_entity, invoice_type=voided.invoice_type, currency=voided.currency,
            period_from=voided.period_from, period_to=voided.period_to, metadata=voided.metadata, voided_invoice=voided,
        )
        for fee in voided.fees.prefetch_related("applied_taxes").order_by("position", "created_at"):
            copy = Fee.objects.create(invoice=draft, **{field: getattr(fee, field) for field in COPIED_FEE_FIELDS})
            FeeTax.objects.bulk_create(
                FeeTax(fee=copy, tax_id=t.tax_id, tax_code=t.tax_code, tax_name=t.tax_name, tax_rate=t.tax_rate) for t in fee.applied_taxes.all()
            )
        recompute_draft(draft)
        audit_log.record(
            "invoice.regenerated", actor, invoice=draft, obj=draft,
            before={"voided_invoice_id": str(voided.pk), "voided_invoice_number": voided.number},
            after={"status": draft.status, "fees": draft.fees.count(), "fees_amount_cents": draft.fees_amount_cents,
                   "total_amount_cents": draft.total_amount_cents},
        )
        return draft
