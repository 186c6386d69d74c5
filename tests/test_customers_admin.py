"""Customers, billing entities and taxes in the admin. (Changing a grace period is the grace-period
feature's to test: saving one calls invoices.grace_period.grace_period_changed in the same transaction.)"""
import pytest
from django.urls import reverse

from customers.models import Customer

from . import factories as f
from .admin_helpers import change_form_data

pytestmark = pytest.mark.django_db


def test_customer_list_and_page_show_the_effective_settings(admin_client):
    entity = f.billing_entity(invoice_grace_period=3)
    f.customer(entity, external_id="acme-1", name="Acme", timezone="Asia/Tokyo", invoice_grace_period=0)
    f.customer(entity, external_id="globex-2", name="Globex")
    response = admin_client.get(reverse("admin:customers_customer_changelist"))
    rows = {c.external_id: c for c in response.context["cl"].result_list}
    assert set(rows) == {"acme-1", "globex-2"}
    assert rows["acme-1"].effective_grace_period == 0 and rows["globex-2"].effective_grace_period == 3
    assert "Asia/Tokyo" in response.content.decode()


def test_saving_a_customer_without_touching_the_grace_period(admin_client):
    customer = f.customer(external_id="acme-1", name="Acme", invoice_grace_period=2)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(admin_client.get(url))
    data.update({"name": "Acme Corporation", "finalize_zero_amount_invoice": "skip", "net_payment_term": "30"})

    response = admin_client.post(url, data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.finalize_zero_amount_invoice, customer.net_payment_term, customer.invoice_grace_period) == (
        "Acme Corporation", "skip", 30, 2)


def test_a_customer_currency_is_fixed_once_set(admin_client):
    customer = f.customer(currency="EUR")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(admin_client.get(url))
    data["currency"] = "USD"
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "fixed once set" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).currency == "EUR"


def test_billing_entity_and_tax_pages_render(admin_client):
    entity = f.billing_entity()
    tax = f.tax()
    assert admin_client.get(reverse("admin:customers_billingentity_change", args=[entity.pk])).status_code == 200
    assert admin_client.get(reverse("admin:customers_tax_change", args=[tax.pk])).status_code == 200
    assert admin_client.get(reverse("admin:customers_billingentity_changelist")).status_code == 200


def test_the_admin_keeps_exactly_one_default_billing_entity(admin_client):
    from customers.models import BillingEntity

    default = BillingEntity.objects.get(is_default=True)  # created by migrate
    other = f.billing_entity(code="other")
    url = reverse("admin:customers_billingentity_change", args=[other.pk])
    data = change_form_data(admin_client.get(url))
    data["is_default"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "Another billing entity is already the default." in response.content.decode()

    url = reverse("admin:customers_billingentity_change", args=[default.pk])
    data = change_form_data(admin_client.get(url))
    data.pop("is_default", None)
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "There must be a default billing entity" in response.content.decode()
    assert list(BillingEntity.objects.filter(is_default=True)) == [default]
