"""The invoice list and page an operator works in: filters, a constant number of queries, fee edits
through the inline (recomputed and audited), and finalized invoices read-only."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice

from . import factories as f
from .admin_helpers import change_form_data, messages_of

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:invoices_invoice_changelist")


def change_url(invoice):
    return reverse("admin:invoices_invoice_change", args=[invoice.pk])


def listed(response) -> set:
    return {invoice.pk for invoice in response.context["cl"].result_list}


@pytest.fixture
def mix():
    """A draft, a finalized, a paid and an overdue invoice of two customers."""
    entity = f.billing_entity()
    acme = f.customer(entity, external_id="acme-42", name="Acme Corp")
    globex = f.customer(entity, external_id="globex-7", name="Globex", currency="EUR")
    draft = f.invoice(acme, fees=[(1, 1000)])
    finalized, paid, overdue = (f.invoice(globex, fees=[(2, 500)]) for _ in range(3))
    for invoice in (finalized, paid, overdue):
        finalize_invoice(invoice.pk, Actor.system())
    Invoice.objects.filter(pk=paid.pk).update(payment_status="succeeded")
    Invoice.objects.filter(pk=overdue.pk).update(payment_overdue=True)
    return {"draft": draft, "finalized": finalized, "paid": paid, "overdue": overdue}


def test_status_filter_lists_draft_first_and_filters(operator_client, mix):
    response = operator_client.get(LIST_URL, {"status": "draft"})
    assert response.status_code == 200
    assert listed(response) == {mix["draft"].pk}
    status_filter = next(spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "status")
    assert status_filter.lookup_choices[0][0] == "draft"
    assert listed(operator_client.get(LIST_URL, {"status": "finalized"})) == {mix["finalized"].pk, mix["paid"].pk, mix["overdue"].pk}


@pytest.mark.parametrize("ui_status", ["draft", "finalized", "paid", "overdue"])
def test_ui_status_filter_matches_the_derived_status(operator_client, mix, ui_status):
    response = operator_client.get(LIST_URL, {"ui_status": ui_status})
    assert listed(response) == {mix[ui_status].pk}
    assert all(invoice.ui_status == ui_status for invoice in response.context["cl"].result_list)


def test_search_by_customer_external_id_name_and_number(operator_client, mix):
    assert listed(operator_client.get(LIST_URL, {"q": "acme-42"})) == {mix["draft"].pk}
    assert listed(operator_client.get(LIST_URL, {"q": "Globex"})) == {mix["finalized"].pk, mix["paid"].pk, mix["overdue"].pk}
    mix["paid"].refresh_from_db()
    assert listed(operator_client.get(LIST_URL, {"q": mix["paid"].number})) == {mix["paid"].pk}


def test_list_shows_badge_and_amounts_in_the_currency_decimals(operator_client):
    jpy = f.customer(currency="JPY", name="Sakura")
    f.invoice(jpy, fees=[(3, 1234)])
    kwd = f.customer(currency="KWD", name="Gulf")
    f.invoice(kwd, fees=[(1, 12345)])
    content = operator_client.get(LIST_URL).content.decode()
    assert "3,702 JPY" in content
    assert "12.345 KWD" in content
    assert 'class="ui-status ui-status-draft"' in content


def test_list_runs_a_constant_number_of_queries(operator_client, django_assert_max_num_queries):
    entity = f.billing_entity()

    def make(n):
        for i in range(n):
            f.invoice(f.customer(entity), fees=[(1, 100 + i)])

    make(5)
    with CaptureQueriesContext(connection) as five:
        assert operator_client.get(LIST_URL).status_code == 200
    make(25)
    with django_assert_max_num_queries(len(five)):
        response = operator_client.get(LIST_URL)
    assert len(response.context["cl"].result_list) == 30


def test_invoice_page_shows_customer_period_and_totals(operator_client):
    customer = f.customer(external_id="hooli-9", name="Hooli", timezone="Asia/Tokyo")
    invoice = f.invoice(customer, fees=[(2, 1050)], taxes=[f.tax(rate="10")])
    content = operator_client.get(change_url(invoice)).content.decode()
    assert "Hooli" in content and "hooli-9" in content
    assert "2026-10-01 → 2026-11-01 (Asia/Tokyo)" in content  # the period in the customer's time zone
    assert "21.00 USD" in content and "2.10 USD" in content and "23.10 USD" in content


def test_editing_a_fee_in_the_inline_recomputes_totals_and_is_audited(operator_client, operator):
    invoice = f.invoice(fees=[(1, 1000)], taxes=[f.tax(rate="20")])
    fee = invoice.fees.get()
    page = operator_client.get(change_url(invoice))
    data = change_form_data(page)
    data.update({"fees-0-invoice_display_name": "API calls", "fees-0-adjustment": "total_units", "fees-0-units": "2.5"})

    response = operator_client.post(change_url(invoice), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    fee.refresh_from_db()
    invoice.refresh_from_db()
    assert (fee.invoice_display_name, fee.units, fee.amount_cents) == ("API calls", Decimal("2.5"), 2500)
    assert (invoice.fees_amount_cents, invoice.taxes_amount_cents, invoice.total_amount_cents) == (2500, 500, 3000)
    entry = AuditLogEntry.objects.get(action="fee.updated")
    assert entry.user == operator and entry.source == "admin" and entry.invoice_id == invoice.pk
    assert entry.before["amount_cents"] == 1000 and entry.after["amount_cents"] == 2500


def test_total_amount_is_typed_in_major_units(operator_client):
    customer = f.customer(currency="KWD")
    invoice = f.invoice(customer, fees=[(1, 1000)])
    data = change_form_data(operator_client.get(change_url(invoice)))
    data.update({"fees-0-adjustment": "total_amount", "fees-0-amount": "12.345"})
    assert operator_client.post(change_url(invoice), data).status_code == 302
    invoice.refresh_from_db()
    assert invoice.fees_amount_cents == 12345 and invoice.fees.get().adjustment == "total_amount"


def test_adding_and_removing_fees_go_through_the_audited_services(operator_client):
    invoice = f.invoice(fees=[(1, 1000), (1, 200)])
    first, second = invoice.fees.all()
    data = change_form_data(operator_client.get(change_url(invoice)))
    data.update({
        "fees-1-DELETE": "on",
        "fees-TOTAL_FORMS": "3",
        "fees-2-invoice_display_name": "Setup", "fees-2-adjustment": "total_units", "fees-2-units": "3",
        "fees-2-unit_price": "1.50", "fees-2-invoice": str(invoice.pk),
    })
    assert operator_client.post(change_url(invoice), data).status_code == 302
    invoice.refresh_from_db()
    assert sorted(invoice.fees.values_list("invoice_display_name", "amount_cents")) == [(first.invoice_display_name, 1000), ("Setup", 450)]
    assert invoice.fees_amount_cents == 1450
    assert sorted(AuditLogEntry.objects.values_list("action", flat=True)) == ["fee.created", "fee.deleted"]


def test_a_refused_edit_is_a_form_error_and_changes_nothing(operator_client):
    invoice = f.invoice(fees=[(1, 1000)])
    data = change_form_data(operator_client.get(change_url(invoice)))
    data.update({"fees-0-adjustment": "total_amount", "fees-0-amount": "12.345"})  # USD has two decimals

    response = operator_client.post(change_url(invoice), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "amount" in errors and "more decimals" in errors["amount"][0]
    invoice.refresh_from_db()
    assert invoice.fees_amount_cents == 1000 and not AuditLogEntry.objects.exists()


def test_changing_units_without_choosing_an_adjustment_is_refused(operator_client):
    invoice = f.invoice(fees=[(1, 1000)])
    data = change_form_data(operator_client.get(change_url(invoice)))
    data.update({"fees-0-adjustment": "none", "fees-0-units": "3"})
    response = operator_client.post(change_url(invoice), data)
    assert response.status_code == 200
    assert "Choose Total units or Total amount" in response.content.decode()
    assert invoice.fees.get().units == 1


def test_finalized_invoice_page_is_read_only(operator_client):
    invoice = f.invoice(fees=[(1, 1000)])
    finalize_invoice(invoice.pk, Actor.system())

    page = operator_client.get(change_url(invoice))

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    content = page.content.decode()
    assert 'name="_save"' not in content and 'name="fees-0-units"' not in content
    assert 'class="ui-status ui-status-finalized"' in content
    assert not page.context["inline_admin_formsets"][0].has_change_permission


def test_a_form_of_a_draft_finalized_meanwhile_saves_nothing(operator_client):
    invoice = f.invoice(fees=[(1, 1000)])
    data = change_form_data(operator_client.get(change_url(invoice)))
    finalize_invoice(invoice.pk, Actor.system())  # the worker was quicker
    data.update({"fees-0-adjustment": "total_units", "fees-0-units": "5"})

    response = operator_client.post(change_url(invoice), data, follow=True)

    invoice.refresh_from_db()
    assert messages_of(response) == [f"Invoice {invoice.number} is finalized now: its fees can no longer change and nothing was saved."]
    assert invoice.fees.get().units == 1 and invoice.fees_amount_cents == 1000
    assert not AuditLogEntry.objects.filter(action="fee.updated").exists()


def test_auditor_sees_a_draft_read_only(auditor_client):
    invoice = f.invoice(fees=[(1, 1000)])
    page = auditor_client.get(change_url(invoice))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert 'name="fees-0-units"' not in page.content.decode()
    data = change_form_data(page)
    data.update({"fees-TOTAL_FORMS": "1", "fees-INITIAL_FORMS": "1", "fees-0-id": str(invoice.fees.get().pk),
                 "fees-0-adjustment": "total_units", "fees-0-units": "5"})
    assert auditor_client.post(change_url(invoice), data).status_code == 403
    assert invoice.fees.get().units == 1


def test_saving_an_untouched_draft_writes_nothing(operator_client):
    invoice = f.invoice(fees=[(3, 333), (1.5, 1000)])
    before = list(invoice.fees.values_list("units", "amount_cents", "adjustment"))
    response = operator_client.post(change_url(invoice), change_form_data(operator_client.get(change_url(invoice))))
    assert response.status_code == 302
    assert list(invoice.fees.values_list("units", "amount_cents", "adjustment")) == before
    assert not AuditLogEntry.objects.exists()


@pytest.mark.parametrize("finalized", [False, True])
def test_invoice_page_queries_do_not_grow_with_the_fees(operator_client, django_assert_max_num_queries, finalized):
    few = f.invoice(fees=[(1, 100)] * 2, taxes=[f.tax()])
    many = f.invoice(fees=[(1, 100)] * 12, taxes=[f.tax()])
    for invoice in (few, many) if finalized else ():
        finalize_invoice(invoice.pk, Actor.system())
    with CaptureQueriesContext(connection) as baseline:
        operator_client.get(change_url(few))
    with django_assert_max_num_queries(len(baseline)):
        operator_client.get(change_url(many))
