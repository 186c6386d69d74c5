"""The one hook by which a transition hands its work to an app above the invoices (upstream mode).

Each delegable transition names its hook (FINALIZE, REFRESH, VOID, ONE_OFF, CREDIT_NOTE, CREDIT_NOTE_VOID,
FEE_EDIT, REGENERATE) and,
first thing, asks `delegated(HOOK)`. An app registers `delegate_to(HOOK, fn, when=…)` from its
AppConfig.ready() (upstream/apps.py), so no import points up; while `when()` is false (standalone,
the default) `delegated` answers None and the transition runs as it always did.

A delegate takes the transition's own arguments and gives its own result (finalize: [Outcome];
refresh, void, one-off: the Invoice; credit note and its void: the CreditNote). Two are guards, not
replacements: FEE_EDIT and REGENERATE return None to let the local transition go on, or raise to refuse.
It may raise the transition's usual errors (nothing is written). When the upstream refuses, times
out or fails, it *returns* an `UpstreamFailed` after auditing the attempt: `hand_over` runs the
delegate in a transaction (held across the call, so the row lock it takes is too) and raises that
refusal only after the commit, so the audit entry of the refused attempt is kept. Every door shows
it as any other refusal (it is a ValidationError); /api/v1 answers it 502 `{"error": "<message>"}`.
"""
from typing import Callable

from django.core.exceptions import ValidationError
from django.db import transaction

FINALIZE = "finalize"  # finalization.finalize_invoices: fn(ids, actor, now=, skip_locked=) -> [Outcome]
REFRESH = "refresh"  # refresh.refresh_draft: fn(invoice_id, actor, now=) -> Invoice
VOID = "void"  # voiding.void_invoice: fn(invoice_id, actor, generate_credit_note=, credit_amount_cents=, refund_amount_cents=, now=) -> Invoice
ONE_OFF = "one_off"  # one_off.create_one_off_invoice: fn(customer, fees=, actor=, currency=, now=) -> Invoice
CREDIT_NOTE = "credit_note"  # credit_notes.services.create_credit_note: fn(invoice_id, actor, reason=, items=, …) -> CreditNote
CREDIT_NOTE_VOID = "credit_note_void"  # credit_notes.services.void_credit_note: fn(credit_note_id, actor, now=) -> CreditNote
FEE_EDIT = "fee_edit"  # fee_edits.lock_draft: fn(invoice) -> None, raising InvoiceLocked to refuse
REGENERATE = "regenerate"  # regeneration.regenerate_from_voided: fn(invoice_id) -> None, raising to refuse
HOOKS = (FINALIZE, REFRESH, VOID, ONE_OFF, CREDIT_NOTE, CREDIT_NOTE_VOID, FEE_EDIT, REGENERATE)

_delegates: dict[str, tuple[Callable, Callable[[], bool]]] = {}


class UpstreamFailed(ValidationError):
    """The upstream refused, timed out or failed: "Failed to <action>: <what the upstream said>"."""

    def __init__(self, action: str, detail: str):
        self.action, self.detail = action, detail
        self.text = f"Failed to {action}: {detail}"
        super().__init__(self.text, code="upstream_error")


def delegate_to(hook: str, fn: Callable, *, when: Callable[[], bool]) -> None:
    """Route the transition `hook` to `fn` while `when()`."""
    if hook not in HOOKS:
        raise ValueError(f"No transition hook {hook!r}: one of {', '.join(HOOKS)}.")
    _delegates[hook] = (fn, when)


def delegated(hook: str) -> Callable | None:
    """The delegate of `hook` if one is registered and on, else None (run the local transition)."""
    registered = _delegates.get(hook)
    return registered[0] if registered is not None and registered[1]() else None


def hand_over(fn: Callable, *args, **kwargs):
    """Run a delegate in its own transaction; an UpstreamFailed it returns is raised after the commit."""
    with transaction.atomic():
        result = fn(*args, **kwargs)
    if isinstance(result, UpstreamFailed):
        raise result
    return result
