"""One-off invoices from add-ons (seed 004).

Contract (implemented by the one-off invoices issue):
    create_one_off_invoice(customer, *, fees: list[dict], actor, currency=None, now=None) -> Invoice
`fees` items: {"add_on": AddOn | "add_on_code": str, "units"?, "unit_amount_cents"?, "description"?,
"invoice_display_name"?, "from_datetime"?, "to_datetime"?, "tax_codes"?}. One transaction; raises
django ValidationError (with a message dict keyed by field / error code) and writes nothing on bad input.
Finalizes through invoices.finalization.finalize_invoices; records invoice.one_off_created.
"""


def create_one_off_invoice(customer, *, fees, actor, currency=None, now=None):
    raise NotImplementedError("One-off invoices arrive with the one-off invoices issue.")
