"""POST /invoices/preview: the invoice the billing run would issue, computed by it and rolled back."""
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon, Coupon, Credit
from customers.models import Customer
from invoices.models import Fee, FeeTax, Invoice, InvoiceTax
from sequences.models import Sequence
from subscriptions.models import Subscription
from billing_run.current_usage import current_period
from webhooks.models import WebhookDelivery, WebhookEvent

from . import billing_factories as b
from . import factories as f
from .api_support import assert_error
from .lago_spec import assert_conforms

pytestmark = pytest.mark.django_db

COUNTED = [Invoice, Fee, FeeTax, InvoiceTax, AuditLogEntry, WebhookEvent, WebhookDelivery, Sequence, Customer, Subscription,
           Coupon, AppliedCoupon, Credit]


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED} | {
        "sequence_values": sorted(Sequence.objects.values_list("key", "last_value")),
        "subscription_states": sorted(Subscription.objects.values_list("external_id", "status")),
    }


@pytest.fixture
def setup():
    entity = f.billing_entity(is_default=True, code="acme", document_number_prefix="ACM")
    entity.taxes.add(f.tax(code="vat-20", rate="20"))
    customer = f.customer(entity, external_id="hooli", currency="USD")
    plan = b.plan(code="startup", amount_cents=3100, currency="USD")
    b.charge(plan, b.metric("count", code="api_calls"), "standard", {"amount": "2"})
    sub = b.subscription(customer, plan, external_id="sub-1", started_at=timezone.now() - timedelta(days=400))
    period = current_period(sub)
    for n in range(3):
        b.event(sub, "api_calls", period.start + timedelta(seconds=n + 1))
    b.event(sub, "api_calls", period.start - timedelta(seconds=1))  # the previous period: not in this invoice
    # An invoice already issued, so counters and audit rows exist before the preview.
    f.invoice(customer, fees=[(1, 500)])
    return customer, plan, sub, period


def test_existing_subscription_previews_the_current_period_and_writes_nothing(api, setup):
    customer, plan, sub, period = setup
    before = counts()
    response = api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "subscriptions": {"external_ids": ["sub-1"]}})
    assert response.status_code == 200, response.content
    invoice = response.json()["invoice"]
    assert counts() == before
    assert not Invoice.objects.filter(pk=invoice["lago_id"]).exists()
    assert invoice["status"] == "draft" and invoice["number"] == "ACM-DRAFT" and "sequential_id" not in invoice
    assert invoice["invoice_type"] == "subscription" and invoice["currency"] == "USD"
    # 3 events x 2.00 = 600, plus the month's subscription fee 3100; VAT 20 %.
    by_kind = {fee["item"]["type"]: fee for fee in invoice["fees"]}
    assert by_kind["charge"]["units"] == "3.0" and by_kind["charge"]["amount_cents"] == 600
    assert by_kind["subscription"]["amount_cents"] == 3100
    assert invoice["fees_amount_cents"] == 3700 and invoice["taxes_amount_cents"] == 740 and invoice["total_amount_cents"] == 4440
    assert invoice["issuing_date"] == period.end.astimezone(customer.tzinfo).date().isoformat()
    assert invoice["customer"]["external_id"] == "hooli"
    assert api.get(f"invoices/{invoice['lago_id']}").status_code == 404


def test_new_subscription_with_coupon_and_inline_customer(api, setup):
    before = counts()
    response = api.post("invoices/preview", {
        "customer": {"name": "Newcomer", "currency": "usd"}, "plan_code": "startup", "billing_time": "anniversary",
        "subscription_at": "2027-03-10T00:00:00Z",
        "coupons": [{"code": "welcome", "coupon_type": "fixed_amount", "amount_cents": 1000, "amount_currency": "USD"}],
    })
    assert response.status_code == 200, response.content
    invoice = response.json()["invoice"]
    assert counts() == before and not Coupon.objects.filter(code="welcome").exists()
    # The first (anniversary) month: the full fee, less the coupon, then VAT.
    assert invoice["fees_amount_cents"] == 3100 and invoice["coupons_amount_cents"] == 1000
    assert invoice["sub_total_excluding_taxes_amount_cents"] == 2100 and invoice["taxes_amount_cents"] == 420
    assert invoice["issuing_date"] == "2027-04-10" and invoice["customer"]["name"] == "Newcomer"


def test_termination_preview_bills_up_to_terminated_at(api, setup):
    customer, plan, sub, period = setup
    before = counts()
    end = period.start + timedelta(days=10)
    response = api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "subscriptions": {
        "external_ids": ["sub-1"], "terminated_at": end.isoformat()}})
    assert response.status_code == 200, response.content
    invoice = response.json()["invoice"]
    assert counts() == before
    sub.refresh_from_db()
    assert sub.status == "active" and sub.terminated_at is None
    subscription_fee = next(fee for fee in invoice["fees"] if fee["item"]["type"] == "subscription")
    assert 0 < subscription_fee["amount_cents"] < 3100  # prorated to the termination


def test_lago_client_sends_nulls_and_no_root(live_server, transactional_db):
    from lago_python_client.client import Client
    from lago_python_client.models import Customer as LagoCustomer
    from lago_python_client.models.invoice import InvoicePreview

    from api.models import ApiKey

    entity = f.billing_entity(is_default=True, code="acme", document_number_prefix="ACM")
    f.customer(entity, external_id="hooli", currency="USD")
    b.plan(code="startup", amount_cents=3100, currency="USD")
    _, raw = ApiKey.issue("lago-client")
    before = counts()
    lago = Client(api_key=raw, api_url=live_server.url)
    invoice = lago.invoices.preview(InvoicePreview(customer=LagoCustomer(external_id="hooli"), plan_code="startup"))
    assert invoice.fees_amount_cents > 0 and invoice.status == "draft" and invoice.currency == "USD"
    assert counts() == before


def test_errors_write_nothing(api, setup):
    euro = f.customer(Customer.objects.get(external_id="hooli").billing_entity, external_id="euro", currency="EUR")
    before = counts()
    assert_error(api.post("invoices/preview", {"customer": {"external_id": "nobody"}, "plan_code": "startup"}), 404, "customer_not_found")
    assert_error(api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "plan_code": "nope"}), 404, "plan_not_found")
    assert_error(api.post("invoices/preview", {"customer": {"external_id": "hooli"}}), 404, "subscription_not_found")
    assert_error(api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "subscriptions": {"external_ids": ["x"]}}),
                 404, "subscription_not_found")
    assert_error(api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "plan_code": "startup", "billing_time": "x"}),
                 422, error_details={"billing_time": ["value_is_invalid"]})
    assert_error(api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "plan_code": "startup",
                                               "subscription_at": "soon"}), 422, error_details={"subscription_at": ["invalid_date"]})
    assert_error(api.post("invoices/preview", {"customer": {"external_id": euro.external_id}, "plan_code": "startup"}), 422,
                 error_details={"currency": ["currencies_does_not_match"]})
    assert_error(api.post("invoices/preview", {"plan_code": "startup"}), 400)
    assert counts() == before


@pytest.mark.lago_spec
def test_conforms_to_lagos_spec(api, setup):
    answer = api.post("invoices/preview", {"customer": {"external_id": "hooli"}, "subscriptions": {"external_ids": ["sub-1"]}})
    assert_conforms("POST", "/invoices/preview", answer, status=200)
    answer = api.post("invoices/preview", {"customer": {"name": "New"}, "plan_code": "startup"})
    assert_conforms("POST", "/invoices/preview", answer, status=200)
    assert_conforms("POST", "/invoices/preview", api.post("invoices/preview", {
        "customer": {"external_id": "hooli"}, "plan_code": "nope"}), status=404)


