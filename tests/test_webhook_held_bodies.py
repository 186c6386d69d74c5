"""A finalization renders its invoice.created body from the objects it holds, not read back: byte for byte the same.

`invoices.serializers.webhook_invoices_held` (registered with `held=` in webhooks/payloads.py) serializes the
invoice finalization wrote; `webhook_invoices` reads it back. Both are rendered here inside the finalizing
transaction, for invoices rich in what a body shows: customer taxes and metadata, several taxes per fee, a
charge filter, a graduated charge, a coupon, a credit note and a wallet consumed, a one-off invoice, a batch of two.
A figure the database would round (units with more decimals than the column) is read back instead.
"""
import pytest
from django.db import transaction

from billing_run.billing import run_billing
from credit_notes.services import create_credit_note
from customers.models import CustomerMetadata
from invoices.models import Invoice
from invoices.serializers import webhook_invoices, webhook_invoices_held
from invoices.transitions.finalization import finalize_invoices
from invoices.transitions.one_off import create_one_off_invoice
from addons.models import AddOn
from webhooks import payloads
from webhooks.models import WebhookEvent

from . import billing_factories as b
from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db

TIERS = {"graduated_ranges": [
    {"from_value": 0, "to_value": 2, "per_unit_amount": "1.10", "flat_amount": "0"},
    {"from_value": 3, "to_value": None, "per_unit_amount": "0.35", "flat_amount": "1"},
]}


def read_back(invoice_id) -> dict:
    return webhook_invoices([str(invoice_id)])[str(invoice_id)]


def stored_body(invoice_id, webhook_type="invoice.created") -> str:
    return WebhookEvent.objects.get(object_id=str(invoice_id), webhook_type=webhook_type).payload


def rich_customer(taxes, *, credits=True):
    cust = f.customer(invoice_grace_period=3, legal_name="Rich Ltd", city="Lyon", timezone="Europe/Paris")
    cust.taxes.set(taxes)
    CustomerMetadata.objects.create(customer=cust, key="po", value="PO-7", display_in_invoice=True)
    CustomerMetadata.objects.create(customer=cust, key="team", value="ops")
    if credits:
        earlier = c.finalized(cust, fees=[(1, 10000)], taxes=taxes[:1])
        create_credit_note(earlier.pk, c.SYSTEM, reason="other", items=[{"fee_id": earlier.fees.get().pk, "amount_cents": 1000}],
                           credit_amount_cents=1200)
        c.give(cust, c.coupon(amount_cents=700))
        c.wallet(cust, granted_cents=900)
    return cust


def subscription_draft(cust, *, late_event=False, n=1):
    plan = b.plan(amount_cents=1999)
    calls = b.metric("count", code=f"calls-{cust.pk}-{n}")
    seats = b.metric("count", code=f"seats-{cust.pk}-{n}", filters={"tier": ["pro", "basic"]})
    b.charge(plan, calls, "standard", {"amount": "0.0125"})
    graduated = b.charge(plan, seats, "graduated", TIERS)
    b.charge_filter(graduated, {"tier": ["pro"]}, {"amount": "5"}, invoice_display_name="Pro seats")
    sub = b.subscription(cust, plan, started_at=b.utc(2026, 1, 1), name="Main")
    for day in (3, 4, 5):
        b.event(sub, calls.code, b.utc(2026, 1, day))
    for _ in range(4):
        b.event(sub, seats.code, b.utc(2026, 1, 7), {"tier": "pro"})
        b.event(sub, seats.code, b.utc(2026, 1, 8), {"tier": "basic"})
    run_billing(b.utc(2026, 2, 1, 1))
    if late_event:  # the usage watermark moves: the finalization prices the draft again, in memory
        b.event(sub, calls.code, b.utc(2026, 1, 30))
    return Invoice.objects.get(subscription=sub, status="draft")


def test_a_rich_subscription_invoice_held_body_equals_the_read_back():
    vat, local = f.tax(code="vat", rate="20"), f.tax(code="local", rate="8.5")
    cust = rich_customer([vat, local])
    draft = subscription_draft(cust)
    with transaction.atomic():
        outcome = finalize_invoices([draft.pk], c.SYSTEM)[0]
        assert outcome.result == "finalized"
        invoice = outcome.invoice
        # The credits were all consumed, and the body shows the taxes, filters and metadata.
        assert (invoice.coupons_amount_cents, invoice.credit_notes_amount_cents, invoice.prepaid_credit_amount_cents) == (700, 1200, 900)
        expected = read_back(draft.pk)
        assert len(expected["fees"]) == 4 and len(expected["applied_taxes"]) == 2 and len(expected["customer"]["metadata"]) == 2
        assert any(fee["item"]["filters"] == {"tier": ["pro"]} for fee in expected["fees"])
        assert webhook_invoices_held([invoice]) == {str(draft.pk): expected}
        assert stored_body(draft.pk) == payloads.body("invoice.created", "invoice", expected)


def test_a_draft_priced_again_at_finalization_held_body_equals_the_read_back():
    vat, local = f.tax(code="vat", rate="20"), f.tax(code="local", rate="8.5")
    draft = subscription_draft(rich_customer([vat, local], credits=False), late_event=True)
    before = draft.fees_amount_cents
    with transaction.atomic():
        invoice = finalize_invoices([draft.pk], c.SYSTEM)[0].invoice
        assert invoice.fees_amount_cents > before  # the late event was priced
        expected = read_back(draft.pk)
        assert webhook_invoices_held([invoice]) == {str(draft.pk): expected}
        assert stored_body(draft.pk) == payloads.body("invoice.created", "invoice", expected)


def test_a_batch_of_two_customers_held_bodies_equal_the_read_back():
    vat, local = f.tax(code="vat", rate="20"), f.tax(code="local", rate="8.5")
    rich = rich_customer([vat, local])
    first = subscription_draft(rich)
    second = subscription_draft(rich_customer([local], credits=False))
    third = subscription_draft(rich, n=2)  # a second draft of the first customer: what the first left of its credits
    with transaction.atomic():
        outcomes = finalize_invoices([first.pk, second.pk, third.pk], c.SYSTEM)
        assert [o.result for o in outcomes] == ["finalized"] * 3
        for draft in (first, second, third):
            assert stored_body(draft.pk) == payloads.body("invoice.created", "invoice", read_back(draft.pk))


def one_off(cust, units):
    AddOn.objects.get_or_create(code="setup", defaults={"name": "Setup", "amount_cents": 1000, "amount_currency": "USD"})
    AddOn.objects.get_or_create(code="support", defaults={"name": "Support", "amount_cents": 333, "amount_currency": "USD",
                                                          "description": "Support hours"})
    return create_one_off_invoice(cust, fees=[
        {"add_on_code": "setup", "units": units},
        {"add_on_code": "support", "units": "3", "tax_codes": ["vat", "local"], "description": "March"},
    ], actor=c.SYSTEM)


def test_a_one_off_invoice_held_body_equals_the_read_back():
    vat, local = f.tax(code="vat", rate="20"), f.tax(code="local", rate="8.5")
    cust = rich_customer([vat], credits=False)
    with transaction.atomic():
        invoice = one_off(cust, "2.5")
        expected = read_back(invoice.pk)
        assert [len(fee["applied_taxes"]) for fee in expected["fees"]] == [1, 2]
        assert webhook_invoices_held([invoice]) == {str(invoice.pk): expected}
        assert stored_body(invoice.pk, "invoice.one_off_created") == payloads.body("invoice.one_off_created", "invoice", expected)


def test_units_the_column_would_round_are_read_back():
    vat, _ = f.tax(code="vat", rate="20"), f.tax(code="local", rate="8.5")
    cust = rich_customer([vat], credits=False)
    with transaction.atomic():
        invoice = one_off(cust, "1.123456789012345")  # 15 decimals; the column keeps 10
        expected = read_back(invoice.pk)
        assert expected["fees"][0]["units"] == "1.123456789"
        assert webhook_invoices_held([invoice])[str(invoice.pk)]["fees"][0]["units"] == "1.123456789012345"
        assert stored_body(invoice.pk, "invoice.one_off_created") == payloads.body("invoice.one_off_created", "invoice", expected)
