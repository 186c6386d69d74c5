"""On PostgreSQL, the invoice trigger lets the mirror path's UPDATEs of mirrored invoices through.

Lago, not this console, moves a mirrored invoice (e.g. a Lago `pending` → `finalized`, or amounts
corrected upstream): the mirror must record it. The bypass needs both the transaction-local setting
that only `upstream.mirror.mirror_writes()` sets and an InvoiceMirror row for the invoice, so
standalone rows keep the full guard whatever a session sets. Reversed, the plain trigger of
invoices 0006 comes back. A later invoices migration that installs a new trigger must pass the
same `bypass` (README "In front of a Lago server").
"""
from django.db import migrations

from invoices.db_guards import invoice_guard_sql, on_postgresql

TRANSITIONS = {
    "draft": ["closed", "deleted", "finalized"],
    "finalized": ["voided"],
}
FROZEN_COLUMNS = [
    "customer_id", "billing_entity_id", "invoice_type", "currency", "number", "sequential_id",
    "billing_entity_sequential_id", "issuing_date", "payment_due_date", "net_payment_term",
    "period_from", "period_to", "fees_amount_cents", "coupons_amount_cents",
    "progressive_billing_credit_amount_cents", "sub_total_excluding_taxes_amount_cents",
    "taxes_amount_cents", "sub_total_including_taxes_amount_cents", "credit_notes_amount_cents",
    "prepaid_credit_amount_cents", "total_amount_cents", "finalized_at",
]
MIRROR_BYPASS = (
    "current_setting('upstream.mirror_write', true) = 'on' "
    "AND EXISTS (SELECT 1 FROM upstream_invoicemirror m WHERE m.invoice_id = OLD.id)"
)


class Migration(migrations.Migration):

    dependencies = [
        ("upstream", "0001_initial"),
        ("invoices", "0006_invoice_transition_trigger"),
    ]

    operations = [
        migrations.RunPython(
            on_postgresql(invoice_guard_sql(TRANSITIONS, FROZEN_COLUMNS, bypass=MIRROR_BYPASS)),
            on_postgresql(invoice_guard_sql(TRANSITIONS, FROZEN_COLUMNS)),
            elidable=False,
        ),
    ]
