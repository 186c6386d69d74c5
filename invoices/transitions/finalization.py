"""Finalizing a draft invoice: the one transition every door calls.

This module is the only writer of draft → finalized and draft → closed (and of the payment
status finalization sets: succeeded for a zero total, else pending); see `Invoice.STATUS_TRANSITIONS`.

The admin action, the invoice-page button, the runbook's JSON endpoint, the
REST API and the grace-period worker all end up in `finalize_invoices`
(a one-off invoice, created and finalized in one transaction, in `finalize_new_drafts`). It
locks the invoice rows, re-checks that each is still a draft (so losing a race
is a clean "not a draft" outcome, never a second finalization), recomputes the
totals, numbers the invoice from a locked counter, writes the audit entry and
the webhook event in the same transaction, and queues the side effects (PDF,
delivery) with it: the worker sees them once it commits (invoices/side_effects.py).

Upstream mode: `finalize_invoices` hands the ids to the FINALIZE delegate (transitions/delegation.py;
upstream/finalization.py), which returns Outcomes whose `upstream_failed` marks a refusal by Lago.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from core.db import WithChildren, decimals_stored_exactly, lock_in_order, related_rows, seed_prefetched
from core.prepared import Prepared
from coupons import ledger as coupons_ledger
from customers.models import Customer, CustomerMetadata
from credit_notes import ledger as credit_notes_ledger
from wallets import ledger as wallets_ledger
from webhooks import outbox

from .. import side_effects
from . import delegation
from core.bulk import bulk_update
from ..models import Fee, InvalidTransition, Invoice
from ..numbering import assign_numbers
from ..serializers import with_number
from .refresh import refresh_locked_many
from ..totals import ConsumptionPlan, compute_totals, credit_look, lock_credit_holders, remember_loaded, save_computed

FINALIZED = "finalized"
CLOSED = "closed"
NOT_DRAFT = "not_draft"
NOT_FOUND = "not_found"
LOCKED = "locked"


@dataclass
class Outcome:
    invoice_id: object
    result: str  # finalized | closed | not_draft | not_found | locked
    invoice: Invoice | None = None

    @property
    def ok(self) -> bool:
        return self.result in (FINALIZED, CLOSED)

    @property
    def message(self) -> str:
        number = self.invoice.number if self.invoice else str(self.invoice_id)
        return {
            FINALIZED: f"Invoice {number} was finalized.",
            CLOSED: f"Invoice {self.invoice_id} had no fees and was closed without a number (empty-invoice policy).",
            NOT_DRAFT: f"Invoice {number} is {self.invoice.status if self.invoice else 'not a draft'}, not a draft: nothing was changed.",
            NOT_FOUND: f"Invoice {self.invoice_id} does not exist.",
            LOCKED: f"Invoice {number} is being finalized by someone else right now.",
        }[self.result]


def _delegated():
    """Upstream mode: Lago finalizes, this console mirrors (the FINALIZE hook, transitions/delegation.py)."""
    return delegation.delegated(delegation.FINALIZE)


def finalize_invoice(invoice_id, actor: Actor, *, now: datetime | None = None) -> Outcome:
    """Finalize one invoice in its own transaction."""
    with transaction.atomic():
        return finalize_invoices([invoice_id], actor, now=now)[0]


def finalize_invoices(invoice_ids, actor: Actor, *, now: datetime | None = None, skip_locked: bool = False) -> list[Outcome]:
    """Finalize a batch of invoices inside the caller's transaction; one Outcome per id, in order.

    With `skip_locked`, rows another transaction holds are reported as LOCKED
    instead of waited for (the worker's way of claiming work).
    """
    _require_transaction("finalize_invoices")
    if (upstream := _delegated()) is not None:
        return upstream(list(dict.fromkeys(invoice_ids)), actor, now=now, skip_locked=skip_locked)
    now = now or timezone.now()
    ids = list(dict.fromkeys(invoice_ids))
    if len(ids) == 1 and not skip_locked:  # one invoice (the admin button, the API): the statement compiled once
        rows = _LOCK_ONE.rows(ids[0])
    else:
        rows = lock_in_order(_to_finalize().filter(pk__in=ids), skip_locked=skip_locked, of=("self",))
    locked = {invoice.pk: invoice for invoice in rows}
    for invoice in locked.values():  # nearly always the customer's own: one join and one instance fewer per row
        if invoice.billing_entity_id == invoice.customer.billing_entity_id:
            invoice.billing_entity = invoice.customer.billing_entity
        _seed_known_empty(invoice)
    existing = set(locked)
    unlocked = [pk for pk in ids if pk not in locked]
    if skip_locked and unlocked:  # skipped rows exist (LOCKED); the others were never there (NOT_FOUND)
        existing.update(Invoice.objects.filter(pk__in=unlocked).values_list("pk", flat=True))
    return _finalize(ids, locked, existing, actor, now, new={})


def _to_finalize():
    """The invoices with what finalizing them reads: customer, billing entity, subscription, plan, the credit look,
    and whether the customer has taxes and metadata of its own (most have neither: `_seed_known_empty`)."""
    return credit_look(Invoice.objects.select_related("customer__billing_entity", "subscription__plan")).annotate(
        customer_has_taxes=Exists(Customer.taxes.through.objects.filter(customer_id=OuterRef("customer_id"))),
        customer_has_metadata=Exists(CustomerMetadata.objects.filter(customer_id=OuterRef("customer_id"))),
    )


def _seed_known_empty(invoice: Invoice) -> None:
    """The customer's taxes and metadata, where the lock statement found none: empty, as if prefetched, so the
    webhook body (and a re-pricing's taxes) need not read them."""
    if not invoice.customer_has_taxes:
        seed_prefetched(invoice.customer, "taxes", [])
    if not invoice.customer_has_metadata:
        seed_prefetched(invoice.customer, "metadata", [])


_LOCK_ONE = Prepared(lambda pk: lock_in_order(_to_finalize().filter(pk=pk), of=("self",)), Invoice._meta.pk)


@dataclass
class NewDraft:
    """A draft created by the very transaction that finalizes it (a one-off invoice).

    No other transaction can see it, so it is used as it is instead of being locked and read
    again: `invoice` with its customer and billing entity loaded, `fees` with their applied taxes
    prefetched. `audit(invoice) -> [AuditLogEntry]` gives the caller's own entries for the
    finalized invoice; they join the finalization's INSERT (one statement less while the
    number counters are held).
    """

    invoice: Invoice
    fees: list[Fee]
    audit: Callable[[Invoice], list] | None = None


def finalize_new_drafts(drafts: list[NewDraft], actor: Actor, *, now: datetime | None = None) -> list[Outcome]:
    """Finalize drafts this transaction created, inside it; one Outcome per draft, in order."""
    _require_transaction("finalize_new_drafts")
    new = {draft.invoice.pk: draft for draft in drafts}
    locked = {pk: draft.invoice for pk, draft in new.items()}
    return _finalize(list(new), locked, set(locked), actor, now or timezone.now(), new=new)


def _require_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name}() runs inside transaction.atomic().")


def _finalize(ids: list, locked: dict, existing: set, actor: Actor, now: datetime, *, new: dict) -> list[Outcome]:
    """The transition itself, on rows the caller locked (`locked`) or created (`new`: {pk: NewDraft})."""
    drafts = [locked[pk] for pk in ids if pk in locked and locked[pk].status == Invoice.Status.DRAFT]
    fees_by_invoice = _load_fees([invoice for invoice in drafts if invoice.pk not in new])
    fees_by_invoice.update((invoice.pk, remember_loaded(new[invoice.pk].fees)) for invoice in drafts if invoice.pk in new)
    # Lago refreshes a draft from current usage before finalizing it; one priced since its last
    # usage or pricing change would come out the same, so it is not re-aggregated (the usage watermark).
    repriced: set = set()
    charges: dict = {}  # the drafts' plans' charges, read by the check: the webhook bodies name their metrics
    changed = refresh_locked_many(drafts, fees_by_invoice, skip_unchanged=True, repriced=repriced, charges=charges)
    if changed:
        reloaded = _load_fees([invoice for invoice in drafts if invoice.pk in changed])
        for pk in changed:
            fees_by_invoice[pk] = reloaded.get(pk, [])
    held_credits = lock_credit_holders(drafts)  # coupons, credit notes, wallets: whichever finalizes first consumes
    finalized, closed, computed = [], [], []
    for invoice in drafts:
        fees = fees_by_invoice.get(invoice.pk, [])
        before = _snapshot(invoice)
        if not fees and not invoice.customer.finalizes_empty_invoices():
            invoice.status = Invoice.Status.CLOSED
            closed.append((invoice, before))
        else:
            invoice.status = Invoice.Status.FINALIZED
            finalized.append((invoice, before))
        totals = compute_totals(invoice, fees, held_credits.available_to(invoice))
        apply_plan(invoice, totals.plan)  # before the next invoice: another draft of this customer sees what is left
        computed.append((invoice, fees, totals))
        _set_dates_and_payment(invoice, now)

    # Everything that does not need the number is done first: the counters taken below stay locked
    # until commit, and the billing entity's counter is shared by all its finalizations.
    save_computed(computed, new_ids=new)
    stamped = timezone.now()
    for invoice, _, _ in computed:
        invoice.updated_at = stamped
    for invoice, _ in finalized:
        invoice.finalized_at = now
    # The bodies are rendered from the invoices as they will be saved (dates, totals, fees, taxes: held here,
    # not read back, unless a figure computed in memory is one the database would round: webhooks/payloads.py),
    # before the counters are taken; numbering then sets the number in them (`with_number`). A body read back
    # instead is read once the invoices are saved.
    for invoice, _ in finalized:
        fees = fees_by_invoice.get(invoice.pk, [])
        seed_prefetched(invoice, "fees", fees)
        for fee in fees:
            if fee.charge_id in charges:
                fee.charge = charges[fee.charge_id]
    events = [
        outbox.event(_created_webhook_type(i), i, held=(i.pk not in repriced and i.pk not in new) or _stored_exactly(i))
        for i, _ in finalized
    ]
    outbox.prepare(events)
    if finalized:
        side_effects.invoices_finalized([invoice.pk for invoice, _ in finalized])  # queued with this transaction (or after its commit)
    assign_numbers([invoice for invoice, _ in finalized], now)
    for event, (invoice, _) in zip(events, finalized):
        if event.rendered is not None:
            event.rendered = with_number(event.rendered, invoice)
    _save([invoice for invoice, _, _ in computed], stamped)
    outbox.record_many(events)

    audit_log.record_many(
        [audit_log.entry("invoice.finalized", actor, invoice=i, obj=i, before=b, after=_snapshot(i)) for i, b in finalized]
        + [audit_log.entry("invoice.closed", actor, invoice=i, obj=i, before=b, after=_snapshot(i)) for i, b in closed]
        + [extra for i, _ in finalized if i.pk in new and new[i.pk].audit for extra in new[i.pk].audit(i)]
    )

    results = {invoice.pk: Outcome(invoice.pk, FINALIZED, invoice) for invoice, _ in finalized}
    results.update({invoice.pk: Outcome(invoice.pk, CLOSED, invoice) for invoice, _ in closed})
    outcomes = []
    for pk in ids:
        if pk in results:
            outcomes.append(results[pk])
        elif pk in locked:
            outcomes.append(Outcome(pk, NOT_DRAFT, locked[pk]))
        elif pk in existing:
            outcomes.append(Outcome(pk, LOCKED))
        else:
            outcomes.append(Outcome(pk, NOT_FOUND))
    return outcomes


def _stored_exactly(invoice: Invoice) -> bool:
    """The figures computed in memory for `invoice` (a re-priced draft, a new one) read back from the database as they are."""
    fees = list(related_rows(invoice, "fees"))
    return decimals_stored_exactly(
        [invoice, *related_rows(invoice, "applied_taxes"), *fees, *(applied for fee in fees for applied in related_rows(fee, "applied_taxes"))]
    )


def _load_fees(invoices: list[Invoice]) -> dict:
    """Fees per invoice, in their order, with their applied taxes attached as if prefetched (one query keyed by invoice ids)."""
    by_invoice: dict = {}
    if not invoices:
        return by_invoice
    if len(invoices) == 1:
        rows = _FEES_OF_ONE.rows(invoices[0].pk)
    else:
        rows = FEES_WITH_TAXES.query(Fee.objects.filter(invoice_id__in=[invoice.pk for invoice in invoices]))
    fees = FEES_WITH_TAXES.assemble(rows, Fee.objects.db)
    for fee in fees:
        by_invoice.setdefault(fee.invoice_id, []).append(fee)
    for fees in by_invoice.values():
        remember_loaded(fees)
    return by_invoice


# A column nothing reads is left out (parsing timestamps is most of the load); the webhook body reads the others.
UNREAD_FEE_FIELDS = ["updated_at"]
FEES_WITH_TAXES = WithChildren(Fee, "applied_taxes", order_by=Fee._meta.ordering, defer=UNREAD_FEE_FIELDS)
_FEES_OF_ONE = Prepared(lambda invoice_id: FEES_WITH_TAXES.query(Fee.objects.filter(invoice_id=invoice_id)), Fee._meta.get_field("invoice"))


def apply_plan(invoice: Invoice, plan: ConsumptionPlan) -> None:
    """Record what `compute_totals` planned for a finalizing invoice, through each app's ledger."""
    if not plan:
        return
    coupons_ledger.apply(plan.coupons, invoice)
    credit_notes_ledger.apply(plan.credit_notes, invoice)
    wallets_ledger.apply(plan.wallets, invoice)


def _set_dates_and_payment(invoice: Invoice, now: datetime) -> None:
    """issuing_date = today in the customer's time zone; due date = + the applicable net payment term."""
    customer = invoice.customer
    invoice.issuing_date = now.astimezone(customer.tzinfo).date()
    invoice.net_payment_term = customer.applicable_net_payment_term
    invoice.payment_due_date = invoice.issuing_date + timedelta(days=invoice.net_payment_term)
    invoice.payment_status = Invoice.PaymentStatus.SUCCEEDED if invoice.total_amount_cents == 0 else Invoice.PaymentStatus.PENDING


FINALIZE_FIELDS = Invoice.AMOUNT_FIELDS + [
    "status", "number", "sequential_id", "billing_entity_sequential_id", "issuing_date", "payment_due_date",
    "net_payment_term", "payment_status", "finalized_at", "updated_at",
]


def _save(invoices, stamped: datetime | None = None) -> None:
    """Write the draft → finalized | closed transition of the batch in one checked statement per 500 rows.

    `save()`'s guard cannot see a bulk UPDATE, so the transition is checked here: in memory against
    `Invoice.STATUS_TRANSITIONS`, and in the WHERE clause (`status = 'draft'`), whose row count must be
    the batch's (the rows are locked and were drafts when read, so anything else is a bug: it rolls back).
    """
    stamped = stamped or timezone.now()  # the caller's, where it rendered the webhook bodies with it
    for invoice in invoices:
        Invoice.check_transition(Invoice.Status.DRAFT, invoice.status, invoice=invoice)
        invoice.updated_at = stamped
    written = bulk_update(invoices, FINALIZE_FIELDS, batch_size=500, where={"status": Invoice.Status.DRAFT})
    if written != len(invoices):
        raise InvalidTransition(
            f"Finalization expected {len(invoices)} drafts and wrote {written}: some invoices were no longer drafts."
        )
    for invoice in invoices:
        invoice.remember_stored()


def _created_webhook_type(invoice: Invoice) -> str:
    return "invoice.one_off_created" if invoice.invoice_type == Invoice.InvoiceType.ONE_OFF else "invoice.created"


def _snapshot(invoice: Invoice) -> dict:
    """What an auditor wants to see changed by finalization."""
    return {
        "status": invoice.status,
        "number": invoice.number,
        "payment_status": invoice.payment_status,
        "issuing_date": invoice.issuing_date.isoformat() if invoice.issuing_date else None,
        "payment_due_date": invoice.payment_due_date.isoformat() if invoice.payment_due_date else None,
        "currency": invoice.currency,
        **{field: getattr(invoice, field) for field in Invoice.AMOUNT_FIELDS},
    }
