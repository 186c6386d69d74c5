"""The status an operator sees, derived from Lago's three fields (runbook: deriveInvoiceUiStatus)."""

UI_STATUSES = ["draft", "finalized", "paid", "overdue", "payment_failed", "pending", "failed", "voided", "closed"]

BADGE_COLOURS = {
    "draft": "#6b7280",
    "finalized": "#2563eb",
    "paid": "#15803d",
    "overdue": "#b91c1c",
    "payment_failed": "#c2410c",
    "pending": "#a16207",
    "failed": "#7f1d1d",
    "voided": "#374151",
    "closed": "#9ca3af",
}


def derive_invoice_ui_status(status: str, payment_status: str, payment_overdue: bool) -> str:
    if status != "finalized":
        return status
    if payment_status == "succeeded":
        return "paid"
    if payment_overdue:
        return "overdue"
    if payment_status == "failed":
        return "payment_failed"
    return "finalized"
