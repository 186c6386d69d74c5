"""Customer metadata in the console: edited inline on the customer page; those flagged display_in_invoice
show on the invoice page and print on the invoice PDF (as Lago prints them)."""
import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from customers.models import CustomerMetadata
from invoices.pdf.render import invoice_context

from . import factories as f
from .admin_helpers import change_form_data

pytestmark = pytest.mark.django_db


def test_customer_page_edits_metadata_and_the_new_fields(admin_client):
    customer = f.customer(external_id="hooli", name="Hooli")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(admin_client.get(url))
    data.update({"firstname": "Gavin", "customer_type": "company", "shipping_city": "Oakland", "document_locale": "fr",
                 "payment_provider": "stripe", "metadata-TOTAL_FORMS": "1",
                 "metadata-0-key": "vat_note", "metadata-0-value": "reverse charge", "metadata-0-display_in_invoice": "on"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    customer.refresh_from_db()
    assert (customer.firstname, customer.customer_type, customer.shipping_city, customer.document_locale,
            customer.payment_provider) == ("Gavin", "company", "Oakland", "fr", "stripe")
    assert list(customer.metadata.values_list("key", "value", "display_in_invoice")) == [("vat_note", "reverse charge", True)]


def test_invoice_page_and_pdf_show_the_metadata_flagged_for_invoices(admin_client):
    customer = f.customer(external_id="hooli", name="Hooli")
    CustomerMetadata.objects.create(customer=customer, key="vat_note", value="reverse charge", display_in_invoice=True)
    CustomerMetadata.objects.create(customer=customer, key="crm_id", value="secret-42")
    invoice = f.invoice(customer, fees=[(1, 1000)])
    page = admin_client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk])).content.decode()
    assert "vat_note: reverse charge" in page and "secret-42" not in page
    html = render_to_string("invoices/pdf/invoice.html", invoice_context(invoice))
    assert "reverse charge" in html and "secret-42" not in html
