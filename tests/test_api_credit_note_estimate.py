"""POST /credit_notes/estimate: credit_notes.services' amounts for these items, nothing written."""
import pytest
from lago_python_client.client import Client
from lago_python_client.models.credit_note import CreditNoteEstimate, Item, Items

from api.models import ApiKey
from audit.models import AuditLogEntry
from credit_notes.models import CreditNote, CreditNoteItem
from credit_notes.services import create_credit_note
from sequences.models import Sequence
from webhooks.models import WebhookEvent

from . import credit_factories as c
from . import factories as f
from .api_support import assert_error
from .lago_spec import assert_conforms

pytestmark = pytest.mark.django_db


def finalized():
    vat = f.tax(code="vat-20", rate="20")
    customer = f.customer(f.billing_entity(), external_id="hooli")
    return c.finalized(customer, fees=[(1, 10000), (1, 5000)], taxes=[vat])


def counts():
    return (CreditNote.objects.count(), CreditNoteItem.objects.count(), AuditLogEntry.objects.count(),
            WebhookEvent.objects.count(), sorted(Sequence.objects.values_list("key", "last_value")))


def body(invoice, *amounts):
    fees = list(invoice.fees.order_by("position", "created_at"))
    return {"credit_note": {"invoice_id": str(invoice.pk),
                            "items": [{"fee_id": str(fee.pk), "amount_cents": a} for fee, a in zip(fees, amounts)]}}


def test_estimate_matches_what_the_credit_note_would_be(api, actor):
    invoice = finalized()
    before = counts()
    response = api.post("credit_notes/estimate", body(invoice, 1000, 500))
    assert response.status_code == 200, response.content
    estimate = response.json()["estimated_credit_note"]
    assert counts() == before
    assert estimate["lago_invoice_id"] == str(invoice.pk) and estimate["invoice_number"] == invoice.number
    assert estimate["sub_total_excluding_taxes_amount_cents"] == 1500 and estimate["taxes_amount_cents"] == 300
    assert estimate["taxes_rate"] == 20.0 and estimate["coupons_adjustment_amount_cents"] == 0
    assert estimate["max_creditable_amount_cents"] == 1800 and estimate["max_refundable_amount_cents"] == 0  # nothing paid
    assert estimate["max_offsettable_amount_cents"] == 1800
    assert [i["amount_cents"] for i in estimate["items"]] == [1000, 500]
    assert estimate["applied_taxes"] == [{"lago_tax_id": estimate["applied_taxes"][0]["lago_tax_id"], "tax_name": "VAT 20%",
                                          "tax_code": "vat-20", "tax_rate": 20.0, "tax_description": "",
                                          "base_amount_cents": 1500, "amount_cents": 300, "amount_currency": "USD"}]
    # The credit note issued for the same items has the same amounts.
    fees = list(invoice.fees.order_by("position", "created_at"))
    note = create_credit_note(invoice.pk, actor, reason="other", credit_amount_cents=1800,
                              items=[{"fee_id": fees[0].pk, "amount_cents": 1000}, {"fee_id": fees[1].pk, "amount_cents": 500}])
    assert (note.sub_total_excluding_taxes_amount_cents, note.taxes_amount_cents, note.total_amount_cents) == (1500, 300, 1800)
    # What that note credited is no longer creditable.
    again = api.post("credit_notes/estimate", body(invoice, 9000)).json()["estimated_credit_note"]
    assert again["max_creditable_amount_cents"] == 10800
    assert_error(api.post("credit_notes/estimate", body(invoice, 9001)), 422,
                 error_details={"items": ["higher_than_remaining_fee_amount"]})


def test_errors_write_nothing(api):
    invoice = finalized()
    before = counts()
    assert_error(api.post("credit_notes/estimate", {"credit_note": {"invoice_id": "nope", "items": []}}), 404, "invoice_not_found")
    assert_error(api.post("credit_notes/estimate", {"nope": {}}), 400)
    assert_error(api.post("credit_notes/estimate", body(invoice)), 422, error_details={"items": ["invalid_items"]})
    assert_error(api.post("credit_notes/estimate", {"credit_note": {"invoice_id": str(invoice.pk), "items": [{"amount_cents": 1}]}}),
                 422, error_details={"items.0.fee_id": ["value_is_mandatory"]})
    draft = f.invoice(invoice.customer, fees=[(1, 100)])
    assert_error(api.post("credit_notes/estimate", body(draft, 10)), 422, error_details={"base": ["invalid_invoice_status"]})
    assert counts() == before


def test_lago_client_round_trip(live_server, transactional_db):
    invoice = finalized()
    fee = invoice.fees.order_by("position", "created_at").first()
    _, raw = ApiKey.issue("lago-client")
    before = counts()
    lago = Client(api_key=raw, api_url=live_server.url)
    estimate = lago.credit_notes.estimate(CreditNoteEstimate(
        invoice_id=str(invoice.pk), items=Items(__root__=[Item(fee_id=str(fee.pk), amount_cents=1000)])))
    assert estimate.sub_total_excluding_taxes_amount_cents == 1000 and estimate.taxes_amount_cents == 200
    assert estimate.max_creditable_amount_cents == 1200 and estimate.items.__root__[0].lago_fee_id == str(fee.pk)
    assert counts() == before


@pytest.mark.lago_spec
def test_conforms_to_lagos_spec(api):
    invoice = finalized()
    assert_conforms("POST", "/credit_notes/estimate", api.post("credit_notes/estimate", body(invoice, 1000)), status=200)
    assert_conforms("POST", "/credit_notes/estimate", api.post("credit_notes/estimate", body(invoice, 10**9)), status=422)
    assert_conforms("POST", "/credit_notes/estimate", api.post("credit_notes/estimate", {"x": 1}), status=400)
