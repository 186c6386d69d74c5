"""/wallets (create, list, find, update, DELETE = terminate) and /wallet_transactions (top-ups and voids),
/wallets/{lago_id}/wallet_transactions (the wallet's ledger).

Writes go through the admin's services: wallets.top_ups (create_wallet, top_up: a paid top-up issues and
finalizes the credit invoice, the balance grows when it is paid) and wallets.lifecycle (rename, void
credits, terminate). Credits are currency units at a fixed rate_amount of 1 (api/serializers_billing.py).
"""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from core.money import major_to_cents, validate_currency
from customers.models import Customer
from wallets.lifecycle import rename_wallet, terminate_wallet, void_credits
from wallets.models import Wallet, WalletTransaction
from wallets.top_ups import create_wallet, top_up

from .. import errors
from ..http import endpoint, ok, paginate, query_list, root
from ..parsing import parse
from ..requests_billing import WalletFields, WalletTransactionFields, WalletUpdateFields
from ..serializers_billing import serialize_wallet, serialize_wallet_transaction, with_consumption

CREDIT_FIELDS = ("paid_credits", "granted_credits", "voided_credits")


def _wallets():
    return with_consumption(Wallet.objects.select_related("customer__billing_entity"))


def _find(lago_id) -> Wallet:
    try:
        wallet = _wallets().filter(pk=lago_id).first()
    except ValidationError:  # not a uuid
        wallet = None
    if wallet is None:
        raise errors.not_found("wallet")
    return wallet


def _answer(wallet) -> dict:
    return ok({"wallet": serialize_wallet(_wallets().get(pk=wallet.pk))})


def _cents(values: dict, field: str, currency: str) -> int:
    """Credits (rate 1: currency units) as minor units; 422 `invalid_amount` for a negative or too precise value."""
    value = values.get(field)
    if value is None:
        return 0
    try:
        cents = major_to_cents(value, currency)
    except ValidationError:
        cents = -1
    if cents < 0 or cents >= 2**63:
        raise errors.validation_error({field: "invalid_amount"})
    return cents


def _refuse_unsupported(values: dict) -> None:
    if values.get("expiration_at") is not None:
        raise errors.validation_error({"expiration_at": "value_is_invalid"})
    if values.get("recurring_transaction_rules"):
        raise errors.validation_error({"recurring_transaction_rules": "value_is_invalid"})


def create(request):
    _, data = root(request, "wallet")
    values = parse(WalletFields, data).given()
    missing = {f: "value_is_mandatory" for f in ("rate_amount", "currency") if values.get(f) in (None, "")}
    if missing:
        raise errors.validation_error(missing)
    customer = Customer.objects.select_related("billing_entity").filter(
        external_id=values.get("external_customer_id") or "", deleted_at__isnull=True).first()
    if customer is None:  # Lago's Wallets::ValidateService
        raise errors.validation_error({"customer": "customer_not_found"})
    if values["rate_amount"] != Decimal(1):  # one credit is one unit of the currency here
        raise errors.validation_error({"rate_amount": "value_is_invalid"})
    if values.get("invoice_requires_successful_payment") is False:
        raise errors.validation_error({"invoice_requires_successful_payment": "value_is_invalid"})
    _refuse_unsupported(values)
    currency = values["currency"].upper()
    try:
        validate_currency(currency)
    except ValidationError:
        raise errors.validation_error({"currency": "value_is_invalid"})
    if customer.currency and customer.currency != currency:
        raise errors.validation_error({"currency": "currencies_does_not_match"})
    wallet = create_wallet(customer, request.actor, currency=currency, name=values.get("name") or "",
                           paid_cents=_cents(values, "paid_credits", currency),
                           granted_cents=_cents(values, "granted_credits", currency))
    return _answer(wallet)


def list_wallets(request):
    rows = _wallets().order_by("-created_at", "pk")
    if external_customer_id := request.GET.get("external_customer_id"):
        rows = rows.filter(customer__external_id=external_customer_id)
    if currency := request.GET.get("currency"):
        rows = rows.filter(currency=currency.upper())
    if codes := query_list(request, "billing_entity_codes"):
        rows = rows.filter(customer__billing_entity__code__in=codes)
    page, meta = paginate(request, rows)
    return ok({"wallets": [serialize_wallet(w) for w in page], "meta": meta})


def show(request, lago_id):
    return ok({"wallet": serialize_wallet(_find(lago_id))})


def update(request, lago_id):
    wallet = _find(lago_id)
    _, data = root(request, "wallet")
    values = parse(WalletUpdateFields, data).given()
    _refuse_unsupported(values)
    if "name" in values:
        wallet = rename_wallet(wallet.pk, values["name"] or "", request.actor)
    return _answer(wallet)


def terminate(request, lago_id):
    return _answer(terminate_wallet(_find(lago_id).pk, request.actor))


# --- wallet transactions ---------------------------------------------------------------------

def create_transactions(request):
    _, data = root(request, "wallet_transaction")
    values = parse(WalletTransactionFields, data).given()
    try:
        wallet = Wallet.objects.filter(pk=values.get("wallet_id") or None).first() if values.get("wallet_id") else None
    except ValidationError:
        wallet = None
    if wallet is None:
        raise errors.validation_error({"wallet_id": "wallet_not_found"})
    if wallet.status != Wallet.Status.ACTIVE:
        raise errors.validation_error({"wallet_id": "wallet_is_terminated"})
    paid, granted, voided = (_cents(values, field, wallet.currency) for field in CREDIT_FIELDS)
    created = []
    try:
        with transaction.atomic():  # all or nothing: a refused void leaves no top-up behind
            if paid or granted:
                made = top_up(wallet.pk, request.actor, paid_cents=paid, granted_cents=granted)
                # Lago's order: the purchase, then the grant.
                created += sorted(made, key=lambda t: t.transaction_status != WalletTransaction.TransactionStatus.PURCHASED)
            if voided:
                created.append(void_credits(wallet.pk, voided, request.actor))
    except ValidationError as exc:
        if getattr(exc, "code", None) == "wallet_not_active":  # terminated meanwhile
            raise errors.validation_error({"wallet_id": "wallet_is_terminated"})
        raise
    return ok({"wallet_transactions": [serialize_wallet_transaction(t, wallet.currency) for t in created]})


def list_transactions(request, lago_id):
    wallet = _find(lago_id)
    rows = WalletTransaction.objects.filter(wallet=wallet).order_by("-created_at", "pk")
    for name, choices in (("status", WalletTransaction.Status), ("transaction_status", WalletTransaction.TransactionStatus),
                          ("transaction_type", WalletTransaction.TransactionType)):
        if value := request.GET.get(name):
            if value not in choices.values:
                raise errors.validation_error({name: "value_is_invalid"})
            rows = rows.filter(**{name: value})
    page, meta = paginate(request, rows)
    return ok({"wallet_transactions": [serialize_wallet_transaction(t, wallet.currency) for t in page], "meta": meta})


collection = endpoint({"GET": list_wallets, "POST": create})
member = endpoint({"GET": show, "PUT": update, "DELETE": terminate})
transactions_collection = endpoint({"POST": create_transactions})
wallet_transactions = endpoint({"GET": list_transactions})
