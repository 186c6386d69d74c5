"""/api/v1/wallets and /wallet_transactions through wallets.top_ups and wallets.lifecycle (the admin's services)."""
import pytest

from audit.models import AuditLogEntry
from invoices.models import Invoice
from wallets.models import Wallet, WalletTransaction
from tests import factories
from tests.api_support import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    return factories.customer(external_id="hooli", currency="USD")


def _wallet(api, **extra):
    body = {"wallet": {"external_customer_id": "hooli", "rate_amount": "1.0", "currency": "USD", "name": "Prepaid", **extra}}
    response = api.post("wallets", body)
    assert response.status_code == 200, response.content
    return response.json()["wallet"]


def test_create_with_granted_and_paid_credits(api, customer):
    wallet = _wallet(api, granted_credits="10.5", paid_credits="20")
    assert (wallet["external_customer_id"], wallet["currency"], wallet["status"], wallet["rate_amount"]) == ("hooli", "USD", "active", "1.0")
    # Granted credits at once; paid ones wait for the credit invoice's payment.
    assert wallet["balance_cents"] == 1050 and wallet["credits_balance"] == "10.5" and wallet["consumed_credits"] == "0.0"
    row = Wallet.objects.get(pk=wallet["lago_id"])
    credit_invoice = Invoice.objects.get(customer=customer, invoice_type="credit")
    assert credit_invoice.status == "finalized" and credit_invoice.total_amount_cents == 2000
    assert WalletTransaction.objects.get(wallet=row, transaction_status="purchased").status == "pending"
    assert AuditLogEntry.objects.filter(action="wallet.created", source="api", object_id=wallet["lago_id"]).exists()


def test_wallet_errors(api, customer):
    _wallet(api)
    assert_error(api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "1", "currency": "USD"}}),
                 422, error_details={"currency": ["wallet_already_exists"]})
    assert_error(api.post("wallets", {"wallet": {"external_customer_id": "nobody", "rate_amount": "1", "currency": "USD"}}),
                 422, error_details={"customer": ["customer_not_found"]})
    assert_error(api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "2", "currency": "EUR"}}),
                 422, error_details={"rate_amount": ["value_is_invalid"]})
    assert_error(api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "1", "currency": "EUR"}}),
                 422, error_details={"currency": ["currencies_does_not_match"]})
    assert_error(api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "1"}}),
                 422, error_details={"currency": ["value_is_mandatory"]})
    assert_error(api.get("wallets/zzz"), 404, "wallet_not_found")
    assert Wallet.objects.count() == 1


def test_list_find_update_terminate(api, customer):
    other = factories.customer(external_id="other", currency="USD")
    wallet = _wallet(api)
    api.post("wallets", {"wallet": {"external_customer_id": "other", "rate_amount": "1", "currency": "USD"}})
    listed = api.get("wallets", {"external_customer_id": "hooli"}).json()
    assert [w["lago_id"] for w in listed["wallets"]] == [wallet["lago_id"]] and listed["meta"]["total_count"] == 1
    assert api.get("wallets").json()["meta"]["total_count"] == 2 and other.wallets.count() == 1
    assert api.get(f"wallets/{wallet['lago_id']}").json()["wallet"]["name"] == "Prepaid"

    renamed = api.put(f"wallets/{wallet['lago_id']}", {"wallet": {"name": "Credits"}})
    assert renamed.status_code == 200 and renamed.json()["wallet"]["name"] == "Credits"
    assert_error(api.put(f"wallets/{wallet['lago_id']}", {"wallet": {"expiration_at": "2030-01-01T00:00:00Z"}}),
                 422, error_details={"expiration_at": ["value_is_invalid"]})

    terminated = api.delete(f"wallets/{wallet['lago_id']}").json()["wallet"]
    assert terminated["status"] == "terminated" and terminated["terminated_at"] is not None
    assert AuditLogEntry.objects.filter(action="wallet.terminated", object_id=wallet["lago_id"]).exists()
    assert api.delete(f"wallets/{wallet['lago_id']}").json()["wallet"]["status"] == "terminated"  # idempotent
    assert_error(api.post("wallet_transactions", {"wallet_transaction": {"wallet_id": wallet["lago_id"], "granted_credits": "1"}}),
                 422, error_details={"wallet_id": ["wallet_is_terminated"]})


def test_seed_002_add_credits_to_the_customers_wallet(api, customer):
    wallet = _wallet(api)
    response = api.post("wallet_transactions", {"wallet_transaction": {
        "wallet_id": wallet["lago_id"], "paid_credits": "50.00", "granted_credits": "5"}})
    assert response.status_code == 200, response.content
    paid, granted = response.json()["wallet_transactions"]
    assert (paid["transaction_status"], paid["status"], paid["amount"], paid["credit_amount"]) == ("purchased", "pending", "50.0", "50.0")
    assert paid["lago_invoice_id"] == str(Invoice.objects.get(invoice_type="credit").pk)
    assert (granted["transaction_status"], granted["status"], granted["amount"], granted["lago_invoice_id"]) == ("granted", "settled", "5.0", None)
    assert api.get(f"wallets/{wallet['lago_id']}").json()["wallet"]["balance_cents"] == 500

    voided = api.post("wallet_transactions", {"wallet_transaction": {"wallet_id": wallet["lago_id"], "voided_credits": "2"}})
    (item,) = voided.json()["wallet_transactions"]
    assert (item["transaction_type"], item["transaction_status"], item["amount"]) == ("outbound", "voided", "2.0")
    assert api.get(f"wallets/{wallet['lago_id']}").json()["wallet"]["credits_balance"] == "3.0"
    assert_error(api.post("wallet_transactions", {"wallet_transaction": {"wallet_id": wallet["lago_id"], "voided_credits": "4"}}),
                 422, error_details={"voided_credits": ["insufficient_credits"]})
    assert_error(api.post("wallet_transactions", {"wallet_transaction": {"wallet_id": wallet["lago_id"], "granted_credits": "-1"}}),
                 422, error_details={"granted_credits": ["invalid_amount"]})
    assert_error(api.post("wallet_transactions", {"wallet_transaction": {"wallet_id": wallet["lago_id"], "granted_credits": "0.001"}}),
                 422, error_details={"granted_credits": ["invalid_amount"]})
    # All or nothing: a refused void leaves no grant behind.
    assert_error(api.post("wallet_transactions", {"wallet_transaction": {
        "wallet_id": wallet["lago_id"], "granted_credits": "1", "voided_credits": "100"}}), 422)
    assert_error(api.post("wallet_transactions", {"wallet_transaction": {"wallet_id": "zzz", "granted_credits": "1"}}),
                 422, error_details={"wallet_id": ["wallet_not_found"]})

    ledger = api.get(f"wallets/{wallet['lago_id']}/wallet_transactions").json()
    assert ledger["meta"]["total_count"] == 3
    assert {t["transaction_status"] for t in ledger["wallet_transactions"]} == {"purchased", "granted", "voided"}
    pending = api.get(f"wallets/{wallet['lago_id']}/wallet_transactions", {"status": "pending"}).json()
    assert [t["transaction_status"] for t in pending["wallet_transactions"]] == ["purchased"]
    assert_error(api.get(f"wallets/{wallet['lago_id']}/wallet_transactions", {"status": "nope"}), 422)
    assert_error(api.get("wallets/zzz/wallet_transactions"), 404, "wallet_not_found")


@pytest.mark.lago_spec
def test_wallet_answers_conform_to_lagos_spec(api, customer):
    from tests.lago_spec import assert_conforms

    created = api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "1.0", "currency": "USD",
                                              "granted_credits": "10"}})
    body = assert_conforms("POST", "/wallets", created, status=200)
    lago_id = body["wallet"]["lago_id"]
    assert_conforms("POST", "/wallets", api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "1",
                                                                        "currency": "USD"}}), status=422)
    assert_conforms("GET", "/wallets", api.get("wallets", {"external_customer_id": "hooli"}), status=200)
    assert_conforms("GET", "/wallets/{lago_id}", api.get(f"wallets/{lago_id}"), status=200)
    assert_conforms("GET", "/wallets/{lago_id}", api.get("wallets/zzz"), status=404)
    assert_conforms("PUT", "/wallets/{lago_id}", api.put(f"wallets/{lago_id}", {"wallet": {"name": "X"}}), status=200)
    assert_conforms("POST", "/wallet_transactions", api.post("wallet_transactions", {"wallet_transaction": {
        "wallet_id": lago_id, "paid_credits": "5", "granted_credits": "1", "voided_credits": "2"}}), status=200)
    assert_conforms("GET", "/wallets/{lago_id}/wallet_transactions", api.get(f"wallets/{lago_id}/wallet_transactions"), status=200)
    assert_conforms("DELETE", "/wallets/{lago_id}", api.delete(f"wallets/{lago_id}"), status=200)


@pytest.mark.django_db(transaction=True)
def test_wallets_through_lago_python_client(live_server, settings):
    from lago_python_client.client import Client
    from lago_python_client.models import Wallet as LagoWallet, WalletTransaction as LagoTransaction

    from api.models import ApiKey

    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    factories.customer(external_id="hooli", currency="USD")
    _, raw = ApiKey.issue("lago-client")
    lago = Client(api_key=raw, api_url=live_server.url)
    wallet = lago.wallets.create(LagoWallet(external_customer_id="hooli", rate_amount="1.0", currency="USD", name="Prepaid",
                                            granted_credits="10"))
    assert wallet.balance_cents == 1000 and wallet.credits_balance == "10.0"
    assert lago.wallets.find(wallet.lago_id).name == "Prepaid"
    assert lago.wallets.update(LagoWallet(name="Credits"), wallet.lago_id).name == "Credits"
    assert [w.lago_id for w in lago.wallets.find_all({"external_customer_id": "hooli"})["wallets"]] == [wallet.lago_id]
    made = lago.wallet_transactions.create(LagoTransaction(wallet_id=wallet.lago_id, paid_credits="20", granted_credits="5"))
    assert [t.transaction_status for t in made["wallet_transactions"]] == ["purchased", "granted"]
    ledger = lago.wallet_transactions.find_all(wallet.lago_id)
    assert len(ledger["wallet_transactions"]) == 3 and ledger["meta"]["total_count"] == 3
    assert lago.wallets.destroy(wallet.lago_id).status == "terminated"


def test_answers_match_our_openapi_document(api, customer):
    from tests.test_api_openapi import validate

    created = api.post("wallets", {"wallet": {"external_customer_id": "hooli", "rate_amount": "1", "currency": "USD",
                                              "paid_credits": "3"}})
    lago_id = created.json()["wallet"]["lago_id"]
    tax = api.post("taxes", {"tax": {"name": "VAT", "code": "vat", "rate": "20"}})
    checks = [
        ("POST", "/wallets", created), ("GET", "/wallets", api.get("wallets")),
        ("GET", "/wallets/{lago_id}", api.get(f"wallets/{lago_id}")),
        ("POST", "/wallet_transactions", api.post("wallet_transactions", {"wallet_transaction": {"wallet_id": lago_id, "granted_credits": "1"}})),
        ("GET", "/wallets/{lago_id}/wallet_transactions", api.get(f"wallets/{lago_id}/wallet_transactions")),
        ("POST", "/taxes", tax), ("GET", "/taxes", api.get("taxes")), ("GET", "/taxes/{code}", api.get("taxes/zzz")),
        ("GET", "/fees", api.get("fees")), ("GET", "/activity_logs", api.get("activity_logs")),
        ("DELETE", "/wallets/{lago_id}", api.delete(f"wallets/{lago_id}")),
    ]
    for method, template, response in checks:
        validate(method, template, response)
