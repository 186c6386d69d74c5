"""Finalizing from the console: the invoice-page button and its confirmation page, the bulk action,
and who may do it (operator yes; auditor and outsider no)."""
import pytest
from django.urls import reverse

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Invoice

from . import factories as f
from .admin_helpers import messages_of

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:invoices_invoice_changelist")


def change_url(invoice):
    return reverse("admin:invoices_invoice_change", args=[invoice.pk])


def finalize_url(invoice):
    return reverse("admin:invoices_invoice_finalize", args=[invoice.pk])


def test_operator_sees_the_button_on_drafts_only(operator_client):
    draft = f.invoice(fees=[(1, 1000)])
    finalized = f.invoice(fees=[(1, 1000)])
    finalize_invoice(finalized.pk, Actor.system())
    assert finalize_url(draft) in operator_client.get(change_url(draft)).content.decode()
    assert finalize_url(finalized) not in operator_client.get(change_url(finalized)).content.decode()


def test_button_leads_to_a_confirmation_page_with_the_totals(operator_client):
    customer = f.customer(external_id="acme-1", name="Acme")
    invoice = f.invoice(customer, fees=[(3, 1000)], taxes=[f.tax(rate="20")])

    page = operator_client.get(finalize_url(invoice))

    assert page.status_code == 200
    content = page.content.decode()
    assert "Acme" in content and "acme-1" in content
    assert "30.00 USD" in content and "6.00 USD" in content and "36.00 USD" in content
    invoice.refresh_from_db()
    assert invoice.status == "draft"  # looking is not finalizing


def test_confirming_finalizes_audits_and_reports(operator_client, operator):
    invoice = f.invoice(fees=[(1, 1000)])

    response = operator_client.post(finalize_url(invoice), follow=True)

    invoice.refresh_from_db()
    assert invoice.status == "finalized" and invoice.number.endswith("-001-001")
    assert response.redirect_chain[-1][0] == change_url(invoice)
    assert messages_of(response) == [f"Invoice {invoice.number} was finalized."]
    assert 'class="ui-status ui-status-finalized"' in response.content.decode()
    entry = AuditLogEntry.objects.get(action="invoice.finalized")
    assert entry.user == operator and entry.source == "admin" and entry.invoice_id == invoice.pk
    assert entry.before["status"] == "draft" and entry.after["status"] == "finalized"


def test_confirming_an_already_finalized_invoice_is_a_clean_refusal(operator_client):
    invoice = f.invoice(fees=[(1, 1000)])
    finalize_invoice(invoice.pk, Actor.system())  # another operator was quicker
    invoice.refresh_from_db()

    response = operator_client.post(finalize_url(invoice), follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [f"Invoice {invoice.number} is finalized, not a draft: nothing was changed."]
    assert AuditLogEntry.objects.filter(action="invoice.finalized").count() == 1


def test_empty_invoice_of_a_skip_customer_is_closed_with_a_warning(operator_client):
    invoice = f.invoice(f.customer(finalize_zero_amount_invoice="skip"))
    page = operator_client.get(finalize_url(invoice))
    assert "closed without a number" in page.content.decode()

    response = operator_client.post(finalize_url(invoice), follow=True)

    invoice.refresh_from_db()
    assert invoice.status == "closed" and invoice.number.endswith("-DRAFT")
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]


def bulk(client, invoices, confirm):
    data = {"action": "finalize_selected", "_selected_action": [str(invoice.pk) for invoice in invoices]}
    if confirm:
        data["post"] = "yes"
    return client.post(LIST_URL, data, follow=confirm)


def test_bulk_action_asks_first_then_counts_each_outcome(operator_client):
    entity = f.billing_entity()
    drafts = [f.invoice(f.customer(entity), fees=[(1, 500)]) for _ in range(2)]
    empty = f.invoice(f.customer(entity, finalize_zero_amount_invoice="skip"))
    already = f.invoice(f.customer(entity), fees=[(1, 500)])
    finalize_invoice(already.pk, Actor.system())
    selected = drafts + [empty, already]

    confirmation = bulk(operator_client, selected, confirm=False)
    assert confirmation.status_code == 200
    content = confirmation.content.decode()
    assert "3 of the 4 selected invoices are drafts" in content
    # The empty draft is marked (the empty-invoice rule finalization applies), the others are not.
    assert "1 draft has no fees and will be" in content
    assert content.count("— closes as empty") == 1
    assert "-DRAFT<" not in content and f"Draft · {drafts[0].customer.name} ({drafts[0].customer.external_id})" in content
    assert Invoice.objects.drafts().count() == 3

    response = bulk(operator_client, selected, confirm=True)

    assert response.status_code == 200
    numbers = [Invoice.objects.get(pk=draft.pk).number for draft in drafts]
    [message] = messages_of(response)
    assert message.startswith("2 finalized, 1 closed as empty, 1 refused (not a draft). Finalized: ")
    assert all(number in message and not number.endswith("DRAFT") for number in numbers)  # each new number, named
    assert f"Closed as empty: {empty.customer.external_id} draft." in message
    assert sorted(Invoice.objects.values_list("status", flat=True)) == ["closed", "finalized", "finalized", "finalized"]
    assert AuditLogEntry.objects.filter(action="invoice.finalized", source="admin_bulk").count() == 2
    assert AuditLogEntry.objects.filter(action="invoice.closed").count() == 1


def test_bulk_action_on_nothing_but_finalized_invoices_is_an_error_message_not_a_500(operator_client):
    invoice = f.invoice(fees=[(1, 500)])
    finalize_invoice(invoice.pk, Actor.system())
    response = bulk(operator_client, [invoice], confirm=True)
    assert response.status_code == 200
    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [("error", "0 finalized, 0 closed as empty, 1 refused (not a draft).")]


def test_auditor_can_read_but_not_finalize(auditor_client):
    invoice = f.invoice(fees=[(1, 1000)])
    page = auditor_client.get(change_url(invoice))
    assert page.status_code == 200
    assert finalize_url(invoice) not in page.content.decode()
    assert "finalize_selected" not in auditor_client.get(LIST_URL).content.decode()
    assert auditor_client.get(finalize_url(invoice)).status_code == 403
    assert auditor_client.post(finalize_url(invoice)).status_code == 403
    bulk(auditor_client, [invoice], confirm=True)
    invoice.refresh_from_db()
    assert invoice.status == "draft" and not AuditLogEntry.objects.exists()


def test_outsider_sees_no_invoices_and_cannot_finalize(client, outsider):
    client.force_login(outsider)
    invoice = f.invoice(fees=[(1, 1000)])
    assert client.get(LIST_URL).status_code == 403
    assert client.post(finalize_url(invoice)).status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == "draft"


def test_operator_has_the_action_and_the_roles_hold_the_right_permissions(operator_client, operator, auditor):
    f.invoice(fees=[(1, 1000)])
    assert "finalize_selected" in operator_client.get(LIST_URL).content.decode()
    assert operator.has_perms(["invoices.finalize_invoice", "invoices.add_invoice", "invoices.change_fee", "audit.view_auditlogentry"])
    assert not operator.has_perm("audit.export_auditlogentry")
    assert auditor.has_perms(["invoices.view_invoice", "invoices.view_fee", "customers.view_customer",
                              "audit.view_auditlogentry", "audit.export_auditlogentry"])
    assert not any(auditor.has_perm(p) for p in ["invoices.finalize_invoice", "invoices.change_invoice", "invoices.change_fee"])


def test_the_data_migration_creates_both_groups():
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    migration = importlib.import_module("accounts.migrations.0001_roles")
    Group.objects.filter(name__in=["Billing operators", "Auditors"]).delete()
    migration.create_groups(apps, None)
    assert Group.objects.get(name="Auditors").permissions.filter(codename="export_auditlogentry").exists()
    assert {"Billing operators", "Auditors"} <= set(Group.objects.values_list("name", flat=True))


def test_another_button_is_one_line_in_object_tools(operator_client, monkeypatch):
    """How the Refresh / Download PDF / Void buttons of later features plug in."""
    from invoices.admin.invoice import InvoiceAdmin, ObjectTool

    monkeypatch.setattr(InvoiceAdmin, "object_tools", InvoiceAdmin.object_tools + [
        ObjectTool("History again", "invoices_invoice_history", post=True),
        ObjectTool("Only for finalized", "invoices_invoice_history", condition=lambda invoice: not invoice.is_draft),
        ObjectTool("Needs a permission", "invoices_invoice_history", permission="invoices.delete_invoice"),
    ])
    invoice = f.invoice(fees=[(1, 1000)])
    content = operator_client.get(change_url(invoice)).content.decode()
    history = reverse("admin:invoices_invoice_history", args=[invoice.pk])
    assert f'<form method="post" action="{history}" class="invoice-tool-form">' in content
    assert "Finalize invoice" in content and "History again" in content
    assert "Only for finalized" not in content and "Needs a permission" not in content
