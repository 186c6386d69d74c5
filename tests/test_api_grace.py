"""Grace-period changes through the API (billing entity, organization, customer) and
PUT /invoices/{id}/refresh: they call invoices.grace_period / invoices.transitions.refresh.

"""
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import BillingEntity
from invoices.models import Invoice
from tests import billing_factories, factories
from tests.api_support import assert_error
from tests.test_api_billing_entities import SEED_003_BODY


def draft_started_days_ago(customer, days, grace):
    inv = factories.invoice(customer, fees=[(1, 1000)])
    created = timezone.now() - timedelta(days=days)
    Invoice.objects.filter(pk=inv.pk).update(created_at=created, grace_period_ends_at=created + timedelta(days=grace))
    return inv


@pytest.mark.django_db
def test_seed_003_organization_envelope_sets_the_grace_period(api):
    entity = factories.billing_entity(code="acme", is_default=True)
    response = api.put("billing_entities/acme", raw=SEED_003_BODY)
    assert response.status_code == 200, response.content
    assert response.json()["billing_entity"]["invoice_grace_period"] == 3
    entity.refresh_from_db()
    assert entity.invoice_grace_period == 3


@pytest.mark.django_db
def test_shortening_the_entity_grace_period_finalizes_what_is_now_due(api, django_capture_on_commit_callbacks):
    entity = factories.billing_entity(code="acme", is_default=True, invoice_grace_period=5)
    customer = factories.customer(entity)
    due = draft_started_days_ago(customer, days=3, grace=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put("billing_entities/acme", {"billing_entity": {"billing_configuration": {"invoice_grace_period": 2}}})
    assert response.status_code == 200, response.content
    due.refresh_from_db()
    assert due.status == "finalized"


@pytest.mark.django_db
def test_organization_put_changes_the_default_entity_grace_period(api):
    factories.billing_entity(code="acme", is_default=True, invoice_grace_period=1)
    response = api.put("organizations", {"organization": {"default_currency": "USD", "billing_configuration": {"invoice_grace_period": 4}}})
    assert response.status_code == 200, response.content
    assert BillingEntity.objects.get(code="acme").invoice_grace_period == 4


@pytest.mark.django_db
def test_customer_grace_period_change(api, django_capture_on_commit_callbacks):
    entity = factories.billing_entity(code="acme", is_default=True, invoice_grace_period=5)
    customer = factories.customer(entity, external_id="c1")
    due = draft_started_days_ago(customer, days=3, grace=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("customers", {"customer": {"external_id": "c1", "billing_configuration": {"invoice_grace_period": 1}}})
    assert response.status_code == 200, response.content
    assert response.json()["customer"]["billing_configuration"]["invoice_grace_period"] == 1
    due.refresh_from_db()
    assert due.status == "finalized"


@pytest.mark.django_db
def test_refresh(api):
    sub = billing_factories.subscription()
    draft = factories.invoice(sub.customer, fees=[(1, 100)], invoice_type="subscription", subscription=sub)
    response = api.put(f"invoices/{draft.pk}/refresh")
    assert response.status_code == 200, response.content
    assert response.json()["invoice"]["status"] == "draft"
    one_off = factories.invoice(fees=[(1, 100)], invoice_type="one_off")
    assert_error(api.put(f"invoices/{one_off.pk}/refresh"), 403, "feature_unavailable")
    assert_error(api.put("invoices/00000000-0000-0000-0000-000000000000/refresh"), 404, "invoice_not_found")
