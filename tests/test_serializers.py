"""The invoice JSON satisfies the official lago-python-client's InvoiceResponse model."""
import pytest
from lago_python_client.models.invoice import InvoiceResponse

from audit.actors import Actor
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice
from invoices.serializers import serialize_invoice

from . import factories as f

pytestmark = pytest.mark.django_db


def test_finalized_invoice_parses_with_the_lago_client_model():
    vat = f.tax(rate="20")
    invoice = f.invoice(fees=[(2, 1000)], taxes=[vat])
    finalize_invoice(invoice.pk, Actor.system())
    invoice = Invoice.objects.get(pk=invoice.pk)

    data = serialize_invoice(invoice)
    parsed = InvoiceResponse.parse_obj(data)

    assert parsed.lago_id == str(invoice.pk)
    assert parsed.total_amount_cents == 2400
    assert parsed.total_due_amount_cents == 2400
    assert parsed.fees.__root__[0].units == "2.0"
    assert parsed.applied_taxes.__root__[0].amount_cents == 400
    assert parsed.customer.external_id == invoice.customer.external_id
