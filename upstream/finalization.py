"""Finalizing through Lago: what every door reaches in upstream mode (invoices.transitions.finalization delegates here).

For each invoice, inside the caller's transaction: lock the mirror row (SELECT … FOR UPDATE, held
across the call, so two operators never both ask Lago), check it is still a draft, PUT
/invoices/{id}/finalize, mirror what Lago answers (status, payment status, overdue flag, number,
amounts, fees and taxes), and audit it. A refusal, a timeout or a 5xx leaves the mirror a draft and
is audited as `invoice.finalize_refused` with Lago's message. Lago answers 404 invoice_not_found for
a non-draft (its finalize looks in the draft scope): the mirror is refreshed from GET and the outcome
is "already finalized".
"""
from dataclasses import dataclass

from django.utils import timezone

from audit import log as audit_log
from invoices.models import Invoice
from invoices.transitions.finalization import FINALIZED, LOCKED, NOT_DRAFT, NOT_FOUND, Outcome

from . import client
from .sync import mirror_answer

UPSTREAM_ERROR = "upstream_error"


@dataclass
class UpstreamOutcome(Outcome):
    """An Outcome whose message can carry what Lago said."""

    detail: str = ""

    @property
    def upstream_failed(self) -> bool:
        return self.result == UPSTREAM_ERROR

    @property
    def message(self) -> str:
        number = self.invoice.number if self.invoice else str(self.invoice_id)
        if self.result == UPSTREAM_ERROR:
            return self.detail
        if self.result == NOT_DRAFT and self.detail:
            return f"Invoice {number} is already {self.invoice.status} in Lago: {self.detail}"
        return super().message


def _snapshot(invoice: Invoice) -> dict:
    return {"status": invoice.status, "number": invoice.number, "payment_status": invoice.payment_status,
            "payment_overdue": invoice.payment_overdue, **{f: getattr(invoice, f) for f in Invoice.AMOUNT_FIELDS}}


def finalize_many(invoice_ids, actor, *, now=None, skip_locked: bool = False) -> list[Outcome]:
    return [finalize(pk, actor, skip_locked=skip_locked) for pk in invoice_ids]


def finalize(invoice_id, actor, *, skip_locked: bool = False) -> UpstreamOutcome:
    """Finalize one mirrored draft in Lago, inside the caller's transaction (the lock lasts until it commits)."""
    rows = Invoice.objects.select_related("customer__billing_entity", "billing_entity").filter(pk=invoice_id, mirror__isnull=False)
    invoice = rows.select_for_update(skip_locked=skip_locked, of=("self",)).first()
    if invoice is None:
        exists = Invoice.objects.filter(pk=invoice_id, mirror__isnull=False).exists()
        return UpstreamOutcome(invoice_id, LOCKED if exists else NOT_FOUND)
    if not invoice.is_draft:
        return UpstreamOutcome(invoice.pk, NOT_DRAFT, invoice)
    before = _snapshot(invoice)
    try:
        answer = client.invoice_action(invoice.pk, "finalize")
    except client.FAILURES as error:
        if getattr(error, "status_code", None) == 404 and client.error_code(error) == "invoice_not_found":
            return _already_finalized(invoice, actor, before)
        detail = client.describe(error)
        audit_log.record("invoice.finalize_refused", actor, invoice=invoice, obj=invoice, before=before,
                         after={"upstream_error": detail, "at": timezone.now().isoformat()})
        return UpstreamOutcome(invoice.pk, UPSTREAM_ERROR, invoice, detail=detail)
    mirror_answer(answer)
    invoice = rows.get()
    audit_log.record("invoice.finalized", actor, invoice=invoice, obj=invoice, before=before, after=_snapshot(invoice))
    return UpstreamOutcome(invoice.pk, FINALIZED, invoice)


def _already_finalized(invoice, actor, before) -> UpstreamOutcome:
    """Lago says no such draft: read it again; a non-draft is "already finalized", a missing one is refused."""
    try:
        mirror_answer(client.find_invoice(invoice.pk))
    except client.FAILURES as error:
        detail = f"Lago has no draft {invoice.pk} and could not be read again: {client.describe(error)}"
        audit_log.record("invoice.finalize_refused", actor, invoice=invoice, obj=invoice, before=before, after={"upstream_error": detail})
        return UpstreamOutcome(invoice.pk, UPSTREAM_ERROR, invoice, detail=detail)
    invoice = Invoice.objects.select_related("customer__billing_entity", "billing_entity").get(pk=invoice.pk)
    audit_log.record("invoice.finalize_refused", actor, invoice=invoice, obj=invoice, before=before,
                     after={**_snapshot(invoice), "upstream_error": "invoice_not_found (not a draft in Lago); mirror refreshed"})
    return UpstreamOutcome(invoice.pk, NOT_DRAFT, invoice, detail="the mirror was refreshed, nothing was finalized.")
