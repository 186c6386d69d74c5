"""Many drafts at once (bulk_create), for the bulk finalize job's tests: thousands in a second or two."""
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

from invoices.models import Fee, Invoice

from . import factories as f


def drafts_in_bulk(count, cust=None, *, unit_amount_cents=1000, empty=False) -> list[Invoice]:
    """`count` drafts of one customer, each with one fee (none when `empty`); totals are left to finalization."""
    cust = cust or f.customer()
    invoices = Invoice.objects.bulk_create([
        Invoice(customer=cust, billing_entity=cust.billing_entity, currency=cust.currency,
                number=f"{cust.billing_entity.document_number_prefix}-DRAFT",
                period_from=datetime(2026, 10, 1, tzinfo=dt_timezone.utc),
                period_to=datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt_timezone.utc))
        for _ in range(count)
    ], batch_size=500)
    if not empty:
        Fee.objects.bulk_create([
            Fee(invoice=invoice, kind=Fee.Kind.CHARGE, units=Decimal(1), unit_amount_cents=unit_amount_cents,
                precise_unit_amount=Decimal(unit_amount_cents), amount_cents=unit_amount_cents,
                invoice_display_name="Seat")
            for invoice in invoices
        ], batch_size=500)
    return invoices
