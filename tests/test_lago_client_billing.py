"""The real lago-python-client drives usage billing end to end: metric, plan with a charge, customer,
subscription, events (single and batch, with a duplicate), the billing run, the invoice's charge fee."""
from datetime import datetime, timezone as dt_timezone

import pytest
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models import (
    BatchEvent,
    BillableMetric,
    Charge,
    Charges,
    Customer,
    CustomerBillingConfiguration,
    Event,
    Plan,
    Subscription,
)

from api.models import ApiKey
from invoices.tasks import finalize_due_invoices
from billing_run.billing import run_billing
from subscriptions.models import Subscription as SubscriptionRow
from tests import factories
from usage.models import Event as EventRow

pytestmark = pytest.mark.django_db(transaction=True)


def utc(*args):
    return datetime(*args, tzinfo=dt_timezone.utc)


@pytest.fixture
def lago(live_server, settings):
    # A PDF task run in-line (django-q sync mode) closes the connection under run_billing's server-side cursor.
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    factories.billing_entity(code="acme", name="Acme", is_default=True, finalize_zero_amount_invoice=False)
    _, raw = ApiKey.issue("lago-client")
    return Client(api_key=raw, api_url=live_server.url)


def catalogue(lago, *, amount_cents=0, grace=0):
    metric = lago.billable_metrics.create(BillableMetric(name="API calls", code="api_calls", aggregation_type="count_agg"))
    plan = lago.plans.create(Plan(
        name="Startup", code="startup", interval="monthly", amount_cents=amount_cents, amount_currency="USD", pay_in_advance=False,
        charges=Charges(__root__=[Charge(billable_metric_id=metric.lago_id, charge_model="standard", properties={"amount": "2"})]),
    ))
    lago.customers.create(Customer(external_id="hooli", name="Hooli", currency="USD",
                                   billing_configuration=CustomerBillingConfiguration(invoice_grace_period=grace)))
    subscription = lago.subscriptions.create(Subscription(
        external_customer_id="hooli", plan_code="startup", external_id="sub-seed", billing_time="calendar",
        subscription_at="2023-01-01T00:00:00Z"))
    return metric, plan, subscription


def event(tx, stamp):
    return Event(transaction_id=tx, external_subscription_id="sub-seed", code="api_calls", timestamp=stamp)


def test_usage_billed_through_the_client(lago):
    metric, plan, subscription = catalogue(lago, amount_cents=1000)
    assert metric.aggregation_type == "count_agg" and metric.filters.__root__ == []
    assert plan.charges.__root__[0].lago_billable_metric_id == metric.lago_id and plan.amount_cents == 1000
    assert subscription.status == "active" and subscription.plan_code == "startup"
    assert lago.billable_metrics.find("api_calls").code == "api_calls"
    assert [p.code for p in lago.plans.find_all()["plans"]] == ["startup"]
    assert lago.subscriptions.find("sub-seed").external_customer_id == "hooli"
    assert [s.external_id for s in lago.subscriptions.find_all({"external_customer_id": "hooli"})["subscriptions"]] == ["sub-seed"]

    created = lago.events.create(event("jan-11", 1673457300))
    assert created.timestamp == "2023-01-11T17:15:00.000Z" and created.lago_subscription_id == subscription.lago_id
    with pytest.raises(LagoApiError) as duplicate:
        lago.events.create(event("jan-11", 1673457400))
    assert duplicate.value.status_code == 422
    assert duplicate.value.response["error_details"] == {"transaction_id": ["value_already_exist"]}

    with pytest.raises(LagoApiError) as batch_with_duplicate:  # all or nothing, as Lago
        lago.events.batch_create(BatchEvent(events=[event("jan-12", 1673543700), event("jan-11", 1673457300)]))
    assert batch_with_duplicate.value.response["error_details"] == {"1": {"transaction_id": ["value_already_exist"]}}
    assert not EventRow.objects.filter(transaction_id="jan-12").exists()
    lago.events.batch_create(BatchEvent(events=[event("jan-12", 1673543700), event("jan-13", "1673630100.5")]))
    assert lago.events.find("jan-13").timestamp == "2023-01-13T17:15:00.500Z"
    assert EventRow.objects.count() == 3

    run_billing(utc(2023, 2, 1, 0, 5))  # grace 0: finalized at once
    listed = lago.invoices.find_all({"external_customer_id": "hooli"})["invoices"]
    january = next(i for i in listed if i.issuing_date and i.fees_amount_cents == 1600)
    assert january.status == "finalized" and january.invoice_type == "subscription"
    fees = {fee.item.type if fee.item else None: fee for fee in lago.invoices.find(january.lago_id).fees.__root__}
    assert (fees["charge"].units, fees["charge"].amount_cents) == ("3.0", 600)
    assert fees["subscription"].amount_cents == 1000
    # Lago names what a fee bills: the charge's billable metric, the subscription's plan.
    assert (fees["charge"].item.code, fees["charge"].item.item_type) == ("api_calls", "BillableMetric")
    assert fees["charge"].lago_charge_id is not None
    assert (fees["subscription"].item.code, fees["subscription"].external_subscription_id) == ("startup", "sub-seed")

    terminated = lago.subscriptions.destroy("sub-seed")
    assert terminated.status == "terminated" and terminated.terminated_at is not None
    assert SubscriptionRow.objects.get().status == "terminated"
    with pytest.raises(LagoApiError) as gone:
        lago.subscriptions.destroy("sub-seed")
    assert gone.value.status_code == 404 and gone.value.response["code"] == "subscription_not_found"


def test_seed_002_worked_example_through_the_api(lago):
    """Seed 002: period January 1-31, grace 3 days; the January 11 event is in, the February 2 one is not."""
    catalogue(lago, grace=3)
    run_billing(utc(2023, 2, 1, 0, 5))
    (draft,) = lago.invoices.find_all({"external_customer_id": "hooli", "statuses": ["draft"]})["invoices"]
    assert draft.fees_amount_cents == 0
    lago.events.create(event("jan-11", 1673457300))
    lago.events.create(event("feb-2", 1675354500))
    refreshed = lago.invoices.refresh(draft.lago_id)
    assert refreshed.status == "draft" and refreshed.fees_amount_cents == 200
    assert finalize_due_invoices(utc(2023, 2, 3, 23, 59)) == 0
    assert finalize_due_invoices(utc(2023, 2, 4)) == 1
    january = lago.invoices.find(draft.lago_id)
    assert january.status == "finalized" and january.total_amount_cents == 200
    run_billing(utc(2023, 3, 1, 0, 5))
    february = [i for i in lago.invoices.find_all({"external_customer_id": "hooli", "statuses": ["draft"]})["invoices"]]
    assert [i.fees_amount_cents for i in february] == [200]  # the February 2 event
