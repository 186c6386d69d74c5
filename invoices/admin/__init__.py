"""The invoice console (Django admin): `InvoiceAdmin` (`invoice`) and the views it wires in.

One wiring pattern: each extra-view module (`draft_tools`, `reversal`, `pdf_views`; `one_off` for the
customer admin) exposes `urls(model_admin)`, which the ModelAdmin's `get_urls()` concatenates; its views
are `view(model_admin, request, object_id)`, bound with `core.admin.bind` and guarded by
`core.admin.permission_required("invoices.<permission>")`. `api` is the runbook's JSON endpoint.
"""
from . import invoice  # noqa: F401  (registers InvoiceAdmin)
