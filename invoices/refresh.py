"""Refreshing a draft: re-aggregate usage within its billing period, keeping operator adjustments.

Contract (implemented by the subscriptions/grace-period issue):
    refresh_draft(invoice_id, actor, *, now=None) -> Invoice
Locks the invoice; a non-draft is returned unchanged; a non-subscription invoice is refused
(InvoiceLocked / ValidationError with code "feature_unavailable").
"""


def refresh_draft(invoice_id, actor, *, now=None):
    raise NotImplementedError("Refreshing drafts arrives with the grace-period issue.")


def refresh_locked(invoice) -> None:
    """Recompute the fees of an already locked draft in place (called by finalization before totals).

    One-off and other non-subscription invoices have nothing to refresh.
    """
    return None
