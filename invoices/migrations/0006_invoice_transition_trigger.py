"""On PostgreSQL, a BEFORE UPDATE trigger on invoices_invoice refuses a status change outside the
transition table and any change of a frozen column once the invoice has left draft (a no-op elsewhere).

TRANSITIONS and FROZEN_COLUMNS are a snapshot of `Invoice.STATUS_TRANSITIONS` and of the columns of
`Invoice.FROZEN_FIELDS`; a test asserts they still agree with the model, so changing the model's table
means a new migration that installs the new trigger.
"""
from django.db import migrations

from invoices.db_guards import DROP_INVOICE_GUARD_SQL, invoice_guard_sql, on_postgresql

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


class Migration(migrations.Migration):

    dependencies = [
        ("invoices", "0005_merge"),
    ]

    operations = [
        migrations.RunPython(
            on_postgresql(invoice_guard_sql(TRANSITIONS, FROZEN_COLUMNS)),
            on_postgresql(DROP_INVOICE_GUARD_SQL),
            elidable=False,
        ),
    ]
