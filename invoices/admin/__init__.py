"""The invoice console (Django admin): `InvoiceAdmin` (`invoice`) and the views it wires in."""
from . import invoice  # noqa: F401  (registers InvoiceAdmin)
