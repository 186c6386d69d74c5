"""The admin's one-off flow: lines -> preview -> create -> the invoice page; errors on the form; permission."""
import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from addons.models import AddOn
from audit.models import AuditLogEntry
from invoices.models import Invoice

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = User.objects.create_user("olivia", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_customer", "view_invoice", "add_invoice"]))
    client.force_login(user)
    return user


@pytest.fixture
def customer():
    cust = f.customer(name="Globex")
    cust.taxes.set([f.tax(rate="20")])
    return cust


@pytest.fixture
def setup_fee():
    return AddOn.objects.create(code="setup", name="Setup fee", amount_cents=50000, amount_currency="USD", description="Implementation")


def url(customer):
    return reverse("admin:customers_customer_one_off_invoice", args=[customer.pk])


def lines(*rows, extra=None):
    data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data.update({f"lines-{i}-{key}": value for key, value in row.items()})
    return {**data, **(extra or {})}


def test_preview_then_create_lands_on_the_finalized_invoice(client, operator, customer, setup_fee):
    data = lines(
        {"add_on": setup_fee.pk, "units": "1", "unit_price": "", "description": ""},
        {"add_on": setup_fee.pk, "units": "2.5", "unit_price": "3.33", "description": "Extra", "from_date": "2026-01-01", "to_date": "2026-01-31"},
    )

    preview = client.post(url(customer), {**data, "_preview": "Preview"})
    assert preview.status_code == 200
    page = preview.content.decode()
    # 500.00 + 8.33 (2.5 x 3.33 = 8.325 -> 8.33) = 508.33; VAT 20 % = 100.00 + 1.666 -> 101.67; total 610.00
    assert "508.33 USD" in page and "101.67 USD" in page and "610.00 USD" in page
    assert Invoice.objects.count() == 0
    digest = preview.context["digest"]

    response = client.post(url(customer), {**data, "previewed": digest, "_create": "Create"})

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:invoices_invoice_change", args=[invoice.pk])
    assert invoice.status == Invoice.Status.FINALIZED and invoice.invoice_type == "one_off"
    assert invoice.total_amount_cents == 61000
    fees = list(invoice.fees.order_by("position"))
    assert [fee.description for fee in fees] == ["Implementation", "Extra"]
    assert fees[1].from_datetime.isoformat() == "2026-01-01T00:00:00+00:00"
    assert fees[1].to_datetime.isoformat() == "2026-01-31T23:59:59+00:00"
    entry = AuditLogEntry.objects.get(action="invoice.one_off_created")
    assert entry.user == operator and entry.source == "admin" and len(entry.after["lines"]) == 2
    assert AuditLogEntry.objects.get(action="invoice.finalized").user == operator
    followed = client.get(response["Location"])
    assert f"One-off invoice {invoice.number} was created and finalized: 610.00 USD." in followed.content.decode()


def test_create_without_the_matching_preview_shows_the_preview_again(client, operator, customer, setup_fee):
    data = lines({"add_on": setup_fee.pk, "units": "1"})
    first = client.post(url(customer), {**data, "_preview": "Preview"})
    changed = lines({"add_on": setup_fee.pk, "units": "3"})

    response = client.post(url(customer), {**changed, "previewed": first.context["digest"], "_create": "Create"})

    assert response.status_code == 200
    assert "The lines changed since the preview" in response.content.decode()
    assert "1,800.00 USD" in response.content.decode()  # 3 x 500.00 + 20 %
    assert Invoice.objects.count() == 0


def test_service_errors_are_shown_on_the_line_and_nothing_is_created(client, operator, customer, setup_fee):
    data = lines(
        {"add_on": setup_fee.pk, "units": "1"},
        {"add_on": setup_fee.pk, "units": "-2", "from_date": "2026-02-01"},
    )
    response = client.post(url(customer), {**data, "_preview": "Preview"})

    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.forms[1].errors == {"units": ["Line 2: units must not be negative."]}
    assert Invoice.objects.count() == 0

    data = lines({"add_on": setup_fee.pk, "from_date": "2026-02-01"})
    response = client.post(url(customer), {**data, "_preview": "Preview"})
    assert "give both ends of the billing period" in response.context["formset"].forms[0].non_field_errors()[0]


def test_no_lines_and_too_many_decimals_are_refused(client, operator, customer, setup_fee):
    response = client.post(url(customer), {**lines({"units": "1"}), "_preview": "Preview"})
    assert response.context["formset"].non_form_errors() == ["Add at least one add-on line."]

    response = client.post(url(customer), {**lines({"add_on": setup_fee.pk, "unit_price": "1.234"}), "_preview": "Preview"})
    assert "more decimals than USD allows" in response.context["formset"].forms[0].errors["unit_price"][0]


def test_a_blank_customer_currency_can_be_chosen(client, operator, setup_fee):
    cust = f.customer(currency="")
    data = lines({"add_on": setup_fee.pk, "unit_price": "1200"}, extra={"currency": "JPY"})
    preview = client.post(url(cust), {**data, "_preview": "Preview"})
    assert "1,200 JPY" in preview.content.decode()

    client.post(url(cust), {**data, "previewed": preview.context["digest"], "_create": "Create"})
    cust.refresh_from_db()
    assert cust.currency == "JPY" and Invoice.objects.get().total_amount_cents == 1200


def test_the_customer_page_and_list_lead_to_the_form(client, operator, customer, setup_fee):
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert url(customer) in page

    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "create_one_off_invoice_action", "_selected_action": [str(customer.pk)]},
    )
    assert response.status_code == 302 and response["Location"] == url(customer)

    form = client.get(url(customer))
    assert form.status_code == 200 and "Setup fee (setup) — 500.00 USD" in form.content.decode()


def test_the_add_invoice_permission_is_required(client, customer, setup_fee):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "view_invoice"]))
    client.force_login(user)

    assert client.get(url(customer)).status_code == 403
    response = client.post(url(customer), {**lines({"add_on": setup_fee.pk}), "_create": "Create"})
    assert response.status_code == 403
    assert Invoice.objects.count() == 0
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert url(customer) not in page


def test_add_on_prices_are_entered_in_major_units(admin_client):
    vat = f.tax()
    response = admin_client.post(reverse("admin:addons_addon_add"), {
        "code": "setup", "name": "Setup fee", "invoice_display_name": "", "description": "", "amount": "500.25",
        "amount_currency": "usd", "taxes": [vat.pk],
    })
    assert response.status_code == 302
    item = AddOn.objects.get(code="setup")
    assert (item.amount_cents, item.amount_currency, list(item.taxes.all())) == (50025, "USD", [vat])
    assert "500.25 USD" in admin_client.get(reverse("admin:addons_addon_changelist")).content.decode()

    response = admin_client.post(reverse("admin:addons_addon_change", args=[item.pk]), {
        "code": "setup", "name": "Setup fee", "amount": "12.5", "amount_currency": "JPY",
    })
    assert "more decimals than JPY allows" in response.content.decode()
    item.refresh_from_db()
    assert item.amount_cents == 50025
