"""Readiness checks before finalizing (issue 11 part 3): each of the runbook's failure causes is detected on a
draft (and absent on a clean one), shown on the draft page and the confirmation pages, counted on the dashboard.
They are warnings: finalization itself does not change."""
import itertools

import pytest
from django.contrib import admin
from django.urls import reverse

from customers.models import Customer
from plans.models import BillableMetric
from invoices.dashboard import close_dashboard
from invoices.models import Invoice
from invoices.readiness import readiness_problems, with_problems
from invoices.transitions.finalization import finalize_invoice
from audit.actors import Actor

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db


def codes(invoice):
    return [problem.code for problem in readiness_problems(invoice)]


def subscription_draft(*, status="active", event_codes=(), plan_currency="USD", customer=None):
    customer = customer or f.customer()
    metric = BillableMetric.objects.filter(code="api-calls").first() or b.metric(code="api-calls")
    plan = b.plan(currency=plan_currency)
    b.charge(plan, metric)
    kwargs = {"terminated_at": b.utc(2026, 10, 20)} if status == "terminated" else {}
    sub = b.subscription(customer, plan, status=status, **kwargs)
    for code in event_codes:
        b.event(sub, code, b.utc(2026, 10, 15))
    return f.invoice(customer, fees=[(1, 1000)], subscription=sub, currency=plan_currency)


def test_a_clean_draft_has_no_problem():
    draft = subscription_draft(event_codes=["api-calls"])
    assert codes(draft) == []
    assert codes(f.invoice(fees=[(1, 500)])) == []


def test_missing_tax_id_required_by_the_billing_entity():
    entity = f.billing_entity(requires_customer_tax_id=True)
    without = f.invoice(f.customer(entity), fees=[(1, 100)])
    with_id = f.invoice(f.customer(entity, tax_identification_number="FR123"), fees=[(1, 100)])
    elsewhere = f.invoice(f.customer(), fees=[(1, 100)])
    assert codes(without) == ["missing_tax_id"]
    assert codes(with_id) == [] and codes(elsewhere) == []
    assert without.customer.lacks_required_tax_id() and not with_id.customer.lacks_required_tax_id()


def test_subscription_no_longer_active():
    draft = subscription_draft(status="terminated")
    assert codes(draft) == ["subscription_not_active"]
    assert "terminated" in readiness_problems(draft)[0].message


def test_events_for_metric_codes_the_plan_does_not_charge():
    draft = subscription_draft(event_codes=["api-calls", "storage-gb"])
    assert codes(draft) == ["unknown_metric_events"]
    assert "storage-gb" in readiness_problems(draft)[0].message


def test_events_outside_the_period_do_not_count():
    draft = subscription_draft()
    b.event(draft.subscription, "storage-gb", b.utc(2026, 11, 15))
    assert codes(draft) == []


def test_currency_conflicts():
    customer_in_eur = f.customer(currency="EUR")
    assert codes(f.invoice(customer_in_eur, fees=[(1, 100)], currency="USD")) == ["currency_mismatch"]
    # The plan in another currency than the invoice.
    draft = subscription_draft(customer=f.customer(currency=""))
    draft.subscription.plan.currency = "EUR"
    draft.subscription.plan.save()
    problems = readiness_problems(draft)
    assert [p.code for p in problems] == ["currency_mismatch"] and "EUR" in problems[0].message


def test_an_empty_draft_the_policy_will_close():
    skip = f.customer(finalize_zero_amount_invoice=Customer.FinalizeZeroAmount.SKIP)
    assert codes(f.invoice(skip)) == ["closes_empty"]
    assert codes(f.invoice(f.customer(finalize_zero_amount_invoice=Customer.FinalizeZeroAmount.FINALIZE))) == []


@pytest.mark.parametrize("entity_flag,setting", list(itertools.product([True, False], Customer.FinalizeZeroAmount.values)))
def test_empty_invoice_policy_method_and_queryset_agree(entity_flag, setting):
    customer = f.customer(f.billing_entity(finalize_zero_amount_invoice=entity_flag), finalize_zero_amount_invoice=setting)
    empty, full = f.invoice(customer), f.invoice(customer, fees=[(1, 100)])
    closing = set(Invoice.objects.closing_as_empty().values_list("pk", flat=True))
    assert (empty.pk in closing) == (not customer.finalizes_empty_invoices())
    assert full.pk not in closing
    assert Customer.objects.filter(Customer.finalizes_empty_invoices_q(), pk=customer.pk).exists() == customer.finalizes_empty_invoices()
    # ... and finalization does what they predicted.
    assert finalize_invoice(empty.pk, Actor.system()).result == ("closed" if empty.pk in closing else "finalized")


def test_finalized_invoices_have_no_readiness_problems():
    invoice = f.invoice(f.customer(currency="EUR"), fees=[(1, 100)], currency="USD")
    finalize_invoice(invoice.pk, Actor.system())  # a warning, not a block
    invoice.refresh_from_db()
    assert invoice.status == "finalized" and codes(invoice) == []


def test_the_batched_form_agrees_with_the_single_one():
    drafts = [
        f.invoice(fees=[(1, 100)]),
        f.invoice(f.customer(f.billing_entity(requires_customer_tax_id=True)), fees=[(1, 100)]),
        subscription_draft(status="terminated"),
        f.invoice(f.customer(finalize_zero_amount_invoice="skip")),
    ]
    flagged = set(with_problems(Invoice.objects.all()).values_list("pk", flat=True))
    assert flagged == {d.pk for d in drafts if codes(d)}
    assert len(flagged) == 3


def test_shown_on_the_draft_page_and_the_confirmation_pages(operator_client):
    draft = f.invoice(f.customer(f.billing_entity(requires_customer_tax_id=True)), fees=[(1, 100)])
    clean = f.invoice(fees=[(1, 100)])

    page = operator_client.get(reverse("admin:invoices_invoice_change", args=[draft.pk])).content.decode()
    assert "readiness-missing_tax_id" in page and "tax identification number" in page
    assert "readiness-problems" not in operator_client.get(reverse("admin:invoices_invoice_change", args=[clean.pk])).content.decode()

    confirmation = operator_client.get(reverse("admin:invoices_invoice_finalize", args=[draft.pk])).content.decode()
    assert "readiness-missing_tax_id" in confirmation

    bulk = operator_client.post(reverse("admin:invoices_invoice_changelist"), {
        "action": "finalize_selected", admin.helpers.ACTION_CHECKBOX_NAME: [str(draft.pk), str(clean.pk)],
    }).content.decode()
    assert "readiness-missing_tax_id" in bulk and "1 of the selected drafts have readiness problems" in bulk
    assert Invoice.objects.drafts().count() == 2  # a confirmation page finalizes nothing


def test_counted_on_the_dashboard_with_a_link_to_the_list(operator_client):
    f.invoice(f.customer(f.billing_entity(requires_customer_tax_id=True)), fees=[(1, 100)])
    f.invoice(f.customer(finalize_zero_amount_invoice="skip"))
    f.invoice(fees=[(1, 100)])
    dashboard = close_dashboard()
    assert dashboard["readiness"]["count"] == 2
    assert dashboard["closes_empty"]["count"] == 1
    listed = operator_client.get(dashboard["readiness"]["url"])
    assert listed.status_code == 200 and listed.context["cl"].result_count == 2
    assert operator_client.get(dashboard["closes_empty"]["url"]).context["cl"].result_count == 1
    assert operator_client.get(reverse("admin:invoices_invoice_changelist") + "?readiness=missing_tax_id").context["cl"].result_count == 1
