"""/api/v1/fees: list with Lago's filters, find; every fee here is invoiced, so PUT and DELETE are 405 invoiced_fee."""
import pytest

from addons.models import AddOn
from invoices.models import Fee
from tests import factories
from tests.api_support import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def fees(api, settings):
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    entity = factories.billing_entity(code="acme", is_default=True)
    factories.customer(entity, external_id="hooli", currency="USD")
    factories.customer(entity, external_id="other", currency="USD")
    AddOn.objects.create(code="setup", name="Setup", amount_cents=50000, amount_currency="USD")
    one_off = api.post("invoices", {"invoice": {"external_customer_id": "hooli", "currency": "USD",
                                                "fees": [{"add_on_code": "setup", "units": 2}]}})
    assert one_off.status_code == 200, one_off.content
    wallet = api.post("wallets", {"wallet": {"external_customer_id": "other", "rate_amount": "1", "currency": "USD",
                                             "paid_credits": "10"}})
    assert wallet.status_code == 200, wallet.content
    return one_off.json()["invoice"]


def test_list_and_find(api, fees):
    listed = api.get("fees").json()
    assert listed["meta"]["total_count"] == 2
    by_customer = {f["external_customer_id"]: f for f in listed["fees"]}
    add_on, credit = by_customer["hooli"], by_customer["other"]
    assert (add_on["item"]["type"], add_on["item"]["code"], add_on["item"]["item_type"]) == ("add_on", "setup", "AddOn")
    assert (add_on["amount_cents"], add_on["units"], add_on["lago_invoice_id"]) == (100000, "2.0", fees["lago_id"])
    assert add_on["pay_in_advance"] is False and add_on["invoiceable"] is True
    assert add_on["sub_total_excluding_taxes_amount_cents"] == 100000 and add_on["payment_status"] == "pending"
    assert (credit["item"]["type"], credit["item"]["item_type"], credit["amount_cents"]) == ("credit", "WalletTransaction", 1000)

    assert [f["lago_id"] for f in api.get("fees", {"external_customer_id": "hooli"}).json()["fees"]] == [add_on["lago_id"]]
    assert [f["item"]["type"] for f in api.get("fees", {"fee_type": "credit"}).json()["fees"]] == ["credit"]
    assert api.get("fees", {"currency": "EUR"}).json()["meta"]["total_count"] == 0
    assert api.get("fees", {"created_at_from": "2000-01-01", "created_at_to": "2999-01-01T00:00:00Z"}).json()["meta"]["total_count"] == 2
    assert api.get("fees", {"event_transaction_id": "tx"}).json()["meta"]["total_count"] == 0
    assert_error(api.get("fees", {"fee_type": "nope"}), 422, error_details={"fee_type": ["value_is_invalid"]})
    assert_error(api.get("fees", {"payment_status": "nope"}), 422, error_details={"payment_status": ["value_is_invalid"]})
    assert_error(api.get("fees", {"created_at_from": "yesterday"}), 422, error_details={"created_at_from": ["invalid_date"]})

    found = api.get(f"fees/{add_on['lago_id']}").json()["fee"]
    assert found == add_on
    assert_error(api.get("fees/zzz"), 404, "fee_not_found")


def test_invoiced_fees_cannot_be_updated_or_deleted(api, fees):
    fee_id = fees["fees"][0]["lago_id"]
    assert_error(api.put(f"fees/{fee_id}", {"fee": {"payment_status": "succeeded"}}), 405, "invoiced_fee")
    assert_error(api.delete(f"fees/{fee_id}"), 405, "invoiced_fee")
    assert_error(api.put(f"fees/{fee_id}", {"nope": 1}), 400)
    assert_error(api.put(f"fees/{fee_id}", {"fee": {"payment_status": 3}}), 422)
    assert_error(api.put("fees/zzz", {"fee": {"payment_status": "succeeded"}}), 404, "fee_not_found")
    assert_error(api.delete("fees/zzz"), 404, "fee_not_found")
    assert Fee.objects.filter(pk=fee_id).exists()


@pytest.mark.lago_spec
def test_fee_answers_conform_to_lagos_spec(api, fees):
    from tests.lago_spec import assert_conforms

    fee_id = fees["fees"][0]["lago_id"]
    assert_conforms("GET", "/fees", api.get("fees"), status=200)
    assert_conforms("GET", "/fees/{lago_id}", api.get(f"fees/{fee_id}"), status=200)
    assert_conforms("GET", "/fees/{lago_id}", api.get("fees/zzz"), status=404)
    assert_conforms("PUT", "/fees/{lago_id}", api.put(f"fees/{fee_id}", {"fee": {"payment_status": "succeeded"}}), status=405)
    assert_conforms("DELETE", "/fees/{lago_id}", api.delete(f"fees/{fee_id}"), status=405)


@pytest.mark.django_db(transaction=True)
def test_fees_through_lago_python_client(live_server, settings):
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import Fee as LagoFee, Wallet as LagoWallet

    from api.models import ApiKey

    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    factories.customer(factories.billing_entity(code="acme", is_default=True), external_id="hooli", currency="USD")
    _, raw = ApiKey.issue("lago-client")
    lago = Client(api_key=raw, api_url=live_server.url)
    lago.wallets.create(LagoWallet(external_customer_id="hooli", rate_amount="1", currency="USD", paid_credits="10"))
    (fee,) = lago.fees.find_all({"external_customer_id": "hooli"})["fees"]
    assert fee.amount_cents == 1000 and fee.item.type == "credit"
    assert lago.fees.find(fee.lago_id).lago_id == fee.lago_id
    with pytest.raises(LagoApiError) as refused:
        lago.fees.update(LagoFee(payment_status="succeeded"), fee.lago_id)
    assert refused.value.status_code == 405 and refused.value.response["code"] == "invoiced_fee"
    with pytest.raises(LagoApiError) as refused:
        lago.fees.destroy(fee.lago_id)
    assert refused.value.status_code == 405
