"""Refresh, void, one-off invoices and credit notes through Lago, and fee edits refused: the delegates
every door reaches in upstream mode (invoices/transitions/delegation.py; registered in upstream/apps.py).

Each runs inside `delegation.hand_over`'s transaction, as finalization (upstream/finalization.py) does:
lock the row it changes (the invoice; for a one-off invoice its customer) with SELECT … FOR UPDATE,
held across the call to Lago; check what the local transition checks; call Lago through
lago-python-client (upstream/client.py); mirror what Lago answers through the mirror path; audit it
with the operator. A refusal, a timeout or a 5xx mirrors nothing, audits the attempt
(`<object>.<action>_refused`, Lago's message in `after`) and is returned as an UpstreamFailed, which
hand_over raises after the commit: the doors show its message, /api/v1 answers it 502.
"""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from lago_python_client.models import CreditNote as LagoCreditNote
from lago_python_client.models import Item, Items, OneOffInvoice
from lago_python_client.models.invoice import InvoiceFee, InvoiceFeesList

from audit import log as audit_log
from credit_notes.models import CreditNote
from credit_notes.services import snapshot as credit_note_snapshot
from customers.models import Customer
from invoices.models import Invoice, InvoiceLocked
from invoices.transitions.delegation import UpstreamFailed
from invoices.transitions.one_off import invalid
from invoices.transitions.voiding import snapshot as void_snapshot

from . import client, config
from .models import InvoiceMirror
from .sync import mirror_answer, mirror_credit_note


def _mirrors():
    return Invoice.objects.select_related("customer__billing_entity", "billing_entity").filter(mirror__isnull=False)


def _lock(invoice_id) -> Invoice | None:
    return _mirrors().select_for_update(of=("self",)).filter(pk=invoice_id).first()


def _summary(invoice: Invoice) -> dict:
    return {"status": invoice.status, "number": invoice.number, "payment_status": invoice.payment_status,
            **{field: getattr(invoice, field) for field in Invoice.AMOUNT_FIELDS}, "fees": invoice.fees.count()}


def _refused(action: str, what: str, actor, error, *, invoice=None, obj=None, before=None) -> UpstreamFailed:
    """Audit a call Lago refused (or never answered) and give the refusal hand_over raises after the commit."""
    detail = client.describe(error)
    audit_log.record(action, actor, invoice=invoice, obj=obj or invoice, before=before,
                     after={"upstream_error": detail, "at": timezone.now().isoformat()})
    return UpstreamFailed(what, detail)


# --- refresh ------------------------------------------------------------------------------------


def refresh(invoice_id, actor, *, now=None) -> Invoice | UpstreamFailed:
    """PUT /invoices/{id}/refresh on a mirrored draft; a non-draft is returned unchanged (as Lago and the local refresh)."""
    invoice = _lock(invoice_id)
    if invoice is None:
        raise ValidationError("That invoice does not exist.", code="invoice_not_found")
    if not invoice.is_draft:
        return invoice
    before = _summary(invoice)
    try:
        answer = client.invoice_action(invoice.pk, "refresh")
    except client.FAILURES as error:
        return _refused("invoice.refresh_refused", "refresh invoice", actor, error, invoice=invoice, before=before)
    mirror_answer(answer, flag_changes=False)  # the operator's own refresh is no "changed upstream since last sync"
    invoice = _mirrors().get(pk=invoice.pk)
    audit_log.record("invoice.refreshed", actor, invoice=invoice, obj=invoice, before=before, after=_summary(invoice))
    return invoice


# --- void ---------------------------------------------------------------------------------------


def void(invoice_id, actor, *, generate_credit_note=False, credit_amount_cents=0, refund_amount_cents=0, now=None) -> Invoice | UpstreamFailed:
    """POST /invoices/{id}/void on a mirrored finalized invoice, with Lago's credit-note options; the notes it issues are mirrored."""
    invoice = _lock(invoice_id)
    if invoice is None:
        raise Invoice.DoesNotExist(f"Invoice {invoice_id} does not exist.")
    if invoice.status != Invoice.Status.FINALIZED:
        raise InvoiceLocked(f"Invoice {invoice.number} is {invoice.status}: only finalized invoices can be voided.", code="not_voidable")
    before = void_snapshot(invoice)
    options = {}
    if generate_credit_note:
        options = {"generate_credit_note": True, "credit_amount": credit_amount_cents or 0, "refund_amount": refund_amount_cents or 0}
    try:
        answer = client.invoice_action(invoice.pk, "void", body=options)
    except client.FAILURES as error:
        return _refused("invoice.void_refused", "void invoice", actor, error, invoice=invoice, before=before)
    mirror_answer(answer)
    notes = []
    if generate_credit_note:
        notes = _mirror_credit_notes_of(invoice)
    invoice = _mirrors().get(pk=invoice.pk)
    audit_log.record("invoice.voided", actor, invoice=invoice, obj=invoice, before=before,
                     after={**void_snapshot(invoice), "credit_notes": notes, "upstream": True})
    return invoice


def _mirror_credit_notes_of(invoice: Invoice) -> list[str]:
    """The credit notes Lago issued on `invoice` (GET /credit_notes?invoice_number=…), mirrored; their numbers.

    Lago has voided the invoice already: a failure here is not a refusal of the void, the next sync
    brings the notes (an empty list is recorded)."""
    try:
        notes = [note for page in client.pages("credit_notes", {"invoice_number": invoice.number}) for note in page]
    except client.FAILURES:
        return []
    notes = [note for note in notes if note.lago_invoice_id == str(invoice.pk)]
    for note in notes:
        mirror_credit_note(note)
    return [note.number for note in notes]


# --- one-off invoices ---------------------------------------------------------------------------


def one_off(customer, *, fees, actor, currency=None, now=None) -> Invoice | UpstreamFailed:
    """POST /invoices with add-on fees; the invoice Lago creates is mirrored under its lago_id.

    The customer row is locked across the call (the local transition locks it too: two one-off invoices
    of one customer are created one after the other). Lago checks the lines (add-on codes, currency,
    amounts) and computes taxes and totals; the console sends what the operator typed.
    """
    pk = customer.pk if isinstance(customer, Customer) else customer
    customer = Customer.objects.select_for_update(of=("self",)).filter(pk=pk, deleted_at__isnull=True).first()
    if customer is None:
        raise invalid("customer", "That customer does not exist.", "customer_not_found")
    if not fees:
        raise invalid("fees", "Add at least one add-on line.", "fees_not_found")
    lines = [_lago_fee(item) for item in fees]
    body = OneOffInvoice(external_customer_id=customer.external_id, currency=(currency or "").upper() or None,
                         fees=InvoiceFeesList(__root__=lines))
    try:
        answer = client.client().invoices.create(body, timeout=client.timeout())
    except client.FAILURES as error:
        return _refused("invoice.one_off_refused", "create invoice", actor, error, obj=customer,
                        before={"lines": [line.dict(exclude_none=True) for line in lines]})
    mirror_answer(answer)
    invoice = _mirrors().get(pk=answer.lago_id)
    audit_log.record("invoice.one_off_created", actor, invoice=invoice, obj=invoice, before=None, after={
        "currency": invoice.currency, "total_amount_cents": invoice.total_amount_cents,
        "lines": [line.dict(exclude_none=True) for line in lines], "upstream": True})
    return invoice


def _lago_fee(item: dict) -> InvoiceFee:
    add_on = item.get("add_on")
    code = add_on.code if add_on is not None else item.get("add_on_code")

    def moment(value):
        return value.isoformat() if hasattr(value, "isoformat") else value

    units = item.get("units")
    return InvoiceFee(  # the client's model types units as a float
        add_on_code=code, units=float(Decimal(str(units))) if units not in (None, "") else None,
        unit_amount_cents=item.get("unit_amount_cents"),
        description=item.get("description") or None, invoice_display_name=item.get("invoice_display_name") or None,
        from_datetime=moment(item.get("from_datetime")), to_datetime=moment(item.get("to_datetime")),
        tax_codes=list(item["tax_codes"]) if item.get("tax_codes") else None,
    )


# --- credit notes -------------------------------------------------------------------------------


def credit_note(invoice_id, actor, *, reason, items, description="", credit_amount_cents=0, refund_amount_cents=0,
                offset_amount_cents=0, metadata=None, now=None) -> CreditNote | UpstreamFailed:
    """POST /credit_notes on a mirrored invoice; the note is mirrored under Lago's lago_id and the invoice read again.

    Lago checks what is creditable (its rules are the local ones: seed 006); the invoice row is locked
    across the call so a void or another note of the same invoice waits.
    """
    invoice = _lock(invoice_id)
    if invoice is None:
        raise ValidationError("That invoice does not exist.", code="invoice_not_found")
    body = LagoCreditNote(
        invoice_id=str(invoice.pk), reason=reason, description=description or None,
        credit_amount_cents=credit_amount_cents or 0, refund_amount_cents=refund_amount_cents or 0,
        offset_amount_cents=offset_amount_cents or 0, metadata=metadata or None,
        items=Items(__root__=[Item(fee_id=str(item.get("fee_id") or item["fee"].pk), amount_cents=item.get("amount_cents")) for item in items or []]),
    )
    before = {"invoice": invoice.number, "total_due_amount_cents": invoice.total_due_amount_cents, "items": [i.dict() for i in body.items.__root__]}
    try:
        answer = client.client().credit_notes.create(body, timeout=client.timeout())
    except client.FAILURES as error:
        return _refused("credit_note.refused", "create credit note", actor, error, invoice=invoice, before=before)
    mirror_credit_note(answer)
    try:  # the note changed the invoice in Lago (amounts credited, due); a failure leaves that to the next sync
        mirror_answer(client.find_invoice(invoice.pk))
    except client.FAILURES:
        pass
    note = CreditNote.objects.select_related("invoice", "customer").get(pk=answer.lago_id)
    audit_log.record("credit_note.created", actor, invoice=note.invoice, obj=note, before=before, after={
        "number": note.number, "total_amount_cents": note.total_amount_cents, "credit_amount_cents": note.credit_amount_cents,
        "refund_amount_cents": note.refund_amount_cents, "offset_amount_cents": note.offset_amount_cents, "upstream": True})
    return note


def void_credit_note(credit_note_id, actor, *, now=None) -> CreditNote | UpstreamFailed:
    """PUT /credit_notes/{id}/void on a mirrored note (its unused balance given up); Lago's answer is mirrored."""
    note = (CreditNote.objects.select_for_update(of=("self",)).select_related("invoice", "customer")
            .filter(pk=credit_note_id, invoice__mirror__isnull=False).first())
    if note is None:
        raise ValidationError("That credit note does not exist.", code="credit_note_not_found")
    before = credit_note_snapshot(note)
    try:
        answer = client.void_credit_note(note.pk)
    except client.FAILURES as error:
        return _refused("credit_note.void_refused", "void credit note", actor, error, invoice=note.invoice, obj=note, before=before)
    mirror_credit_note(answer)
    note.refresh_from_db()
    audit_log.record("credit_note.voided", actor, invoice=note.invoice, obj=note, before=before,
                     after={**credit_note_snapshot(note), "upstream": True})
    return note


# --- regenerate ---------------------------------------------------------------------------------


def refuse_regenerate(invoice_id) -> None:
    """The REGENERATE guard: Lago's REST API has no call to regenerate a voided invoice (its dashboard does it)."""
    if InvoiceMirror.objects.filter(pk=invoice_id).exists():
        raise InvoiceLocked(
            "Lago's REST API offers no call to regenerate a voided invoice (it is done in Lago's dashboard), and the "
            f"mirror is never changed alone: regenerate it in Lago ({config.invoice_url(invoice_id)}), then sync.",
            code="regenerate_in_upstream")


# --- fee edits ----------------------------------------------------------------------------------


def fee_edit_refusal(invoice: Invoice) -> str:
    """Why a mirror's fees are not edited here, for the fee form and the refusal."""
    return (f"Lago offers no REST call for adjusted fees (seed 002: they are made in Lago's dashboard), and the mirror "
            f"is never edited alone: adjust the fee in Lago ({config.invoice_url(invoice.pk)}), then sync.")


def refuse_fee_edit(invoice: Invoice) -> None:
    """The FEE_EDIT delegate: a mirror's fee edit is refused; a local draft (not a mirror) stays editable."""
    if InvoiceMirror.objects.filter(pk=invoice.pk).exists():
        raise InvoiceLocked(f"Invoice {invoice.number}: {fee_edit_refusal(invoice)}", code="fee_edit_in_upstream")
