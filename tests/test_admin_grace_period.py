"""Seed 003's warning, through the admin: shortening a grace period finalizes the drafts now due."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLogEntry
from invoices.models import Invoice

from . import factories as f
from .admin_helpers import change_form_data

pytestmark = pytest.mark.django_db(transaction=True)  # finalization is queued on commit


def draft_due_in(customer, days_left):
    """A draft whose deadline is `days_left` days away (its grace period started three days ago)."""
    return f.invoice(customer, fees=[(1, 1000)], grace_period_ends_at=timezone.now() + timedelta(days=days_left))


def test_shortening_a_customer_grace_period_in_the_admin_finalizes_due_drafts(admin_client, admin_user):
    entity = f.billing_entity(invoice_grace_period=5)
    customer = f.customer(entity, invoice_grace_period=5)
    draft = draft_due_in(customer, 2)  # five days, three already gone
    untouched = draft_due_in(f.customer(entity), 2)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(admin_client.get(url))
    data["invoice_grace_period"] = "2"

    confirmation = admin_client.post(url, data)  # first, what the change will do: nothing is saved yet

    assert confirmation.status_code == 200
    assert "1 draft will be finalized at once" in confirmation.content.decode()
    assert Invoice.objects.get(pk=draft.pk).status == "draft"
    customer.refresh_from_db()
    assert customer.invoice_grace_period == 5 and not AuditLogEntry.objects.filter(action="customer.grace_period_changed").exists()

    response = admin_client.post(url, {**data, "_confirm_grace_period": "yes"})

    assert response.status_code == 302
    draft.refresh_from_db()
    untouched.refresh_from_db()
    assert draft.status == "finalized" and draft.number.endswith("-001")
    assert untouched.status == "draft"
    change = AuditLogEntry.objects.get(action="customer.grace_period_changed")
    assert change.user == admin_user and change.source == "admin"
    assert AuditLogEntry.objects.filter(action="invoice.finalized", invoice=draft, actor_label="system").count() == 1


def test_shortening_the_billing_entity_grace_period_in_the_admin(admin_client):
    entity = f.billing_entity(invoice_grace_period=5)
    inheriting = f.customer(entity)
    overriding = f.customer(entity, invoice_grace_period=5)
    due, kept = draft_due_in(inheriting, 2), draft_due_in(overriding, 2)
    url = reverse("admin:customers_billingentity_change", args=[entity.pk])
    data = change_form_data(admin_client.get(url))
    data["invoice_grace_period"] = "2"

    confirmation = admin_client.post(url, data)
    assert "1 draft will be finalized at once" in confirmation.content.decode()
    assert admin_client.post(url, {**data, "_confirm_grace_period": "yes"}).status_code == 302

    assert Invoice.objects.get(pk=due.pk).status == "finalized"
    assert Invoice.objects.get(pk=kept.pk).status == "draft"  # the customer's own 5 days still hold
    assert AuditLogEntry.objects.filter(action="billing_entity.grace_period_changed").count() == 1


def test_a_change_that_finalizes_nothing_saves_without_asking(admin_client):
    entity = f.billing_entity(invoice_grace_period=5)
    customer = f.customer(entity, invoice_grace_period=5)
    draft = draft_due_in(customer, 4)  # shortening by 3 days leaves it one day
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = change_form_data(admin_client.get(url))
    data["invoice_grace_period"] = "2"

    assert admin_client.post(url, data).status_code == 302

    assert Invoice.objects.get(pk=draft.pk).status == "draft"
    customer.refresh_from_db()
    assert customer.invoice_grace_period == 2


def test_the_confirmation_counts_every_draft_it_will_finalize(admin_client):
    entity = f.billing_entity(invoice_grace_period=10)
    customers = [f.customer(entity) for _ in range(2)]
    for customer in customers:
        draft_due_in(customer, 1), draft_due_in(customer, 2)
    later = draft_due_in(customers[0], 9)  # still in the future after the change
    url = reverse("admin:customers_billingentity_change", args=[entity.pk])
    data = change_form_data(admin_client.get(url))
    data["invoice_grace_period"] = "7"

    confirmation = admin_client.post(url, data)

    content = confirmation.content.decode()
    assert "moves the deadline of 5 drafts" in content and "4 drafts will be finalized at once" in content
    assert content.count("<td>Draft · ") == 4
    assert Invoice.objects.drafts().count() == 5 and Invoice.objects.get(pk=later.pk).status == "draft"
