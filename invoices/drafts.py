"""A draft's totals, saved: what every change to a draft's fees ends with."""
from .models import Invoice
from .totals import compute_totals, load_fees, save_computed


def recompute_draft(invoice: Invoice) -> None:
    """Recompute a locked draft's totals (no coupons or credits on drafts) and save them."""
    fees = load_fees(invoice)
    totals = compute_totals(invoice, fees)
    save_computed([(invoice, fees, totals)])
    # The usage watermark travels with the totals: set by a pricing (billing run, refresh), cleared by a fee edit.
    invoice.save(update_fields=Invoice.AMOUNT_FIELDS + ["priced_at", "priced_usage_version", "updated_at"])
