"""Lago's shapes for issue 10's resources: wallets and wallet transactions, fees as /fees answers them,
activity logs (from our audit log).

Wallet amounts: our wallets count credits 1:1 in the currency (rate_amount "1.0"): `balance_cents` is the
stored balance, `credits_balance` the same amount in currency units, as a decimal string.
"""
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Max, Q, Sum

from core.money import currency_exponent, round_cents
from core.serialization import decimal_str, iso_datetime
from invoices.models import Fee
from invoices.serializers import serialize_fee
from wallets.models import Wallet, WalletTransaction

RATE_AMOUNT = "1.0"
PRIORITY = 50  # Lago's default priority of wallets and transactions


def credits(cents: int, currency: str) -> str:
    """Minor units as credits (rate 1): 1050 USD → "10.5"."""
    return decimal_str(Decimal(int(cents)).scaleb(-currency_exponent(currency)))


# --- wallets -----------------------------------------------------------------------------------

TX = WalletTransaction.TransactionType
KIND = WalletTransaction.TransactionStatus
SETTLED = WalletTransaction.Status.SETTLED


def with_consumption(queryset):
    """Annotate what invoices consumed (net of what voided invoices gave back) and when last."""
    invoiced = Q(transactions__transaction_type=TX.OUTBOUND, transactions__transaction_status=KIND.INVOICED,
                 transactions__status=SETTLED)
    given_back = Q(transactions__transaction_type=TX.INBOUND, transactions__transaction_status=KIND.VOIDED,
                   transactions__status=SETTLED)
    return queryset.annotate(
        consumed_cents=Sum("transactions__amount_cents", filter=invoiced, default=0),
        given_back_cents=Sum("transactions__amount_cents", filter=given_back, default=0),
        last_consumed_at=Max("transactions__created_at", filter=invoiced),
    )


def serialize_wallet(wallet: Wallet) -> dict:
    """`wallet` comes from with_consumption() with customer__billing_entity selected."""
    currency, balance = wallet.currency, wallet.balance_cents
    consumed = max(getattr(wallet, "consumed_cents", 0) - getattr(wallet, "given_back_cents", 0), 0)
    return {
        "lago_id": str(wallet.pk),
        "lago_customer_id": str(wallet.customer_id),
        "external_customer_id": wallet.customer.external_id,
        "billing_entity_code": wallet.customer.billing_entity.code,
        "status": wallet.status,
        "currency": currency,
        "name": wallet.name or None,
        "code": None,
        "priority": PRIORITY,
        "purchase_order_number": None,
        "rate_amount": RATE_AMOUNT,
        "credits_balance": credits(balance, currency),
        "balance_cents": balance,
        "balance": credits(balance, currency),  # deprecated in Lago, still required by its spec: the balance in currency units
        # Usage is not deducted from wallets before invoicing here: the ongoing balance is the balance.
        "credits_ongoing_balance": credits(balance, currency),
        "credits_ongoing_usage_balance": credits(0, currency),
        "ongoing_balance_cents": balance,
        "ongoing_usage_balance_cents": 0,
        "consumed_credits": credits(consumed, currency),
        "created_at": iso_datetime(wallet.created_at),
        "expiration_at": None,
        "last_balance_sync_at": None,
        "last_consumed_credit_at": iso_datetime(getattr(wallet, "last_consumed_at", None)),
        "terminated_at": iso_datetime(wallet.terminated_at),
        # Paid credits reach the balance only once their credit invoice is paid (wallets.top_ups).
        "invoice_requires_successful_payment": True,
        "paid_top_up_min_amount_cents": None,
        "paid_top_up_max_amount_cents": None,
        "recurring_transaction_rules": [],
        "applies_to": {"fee_types": [], "billable_metric_codes": []},
        "payment_method": {},
    }


def serialize_wallet_transaction(item: WalletTransaction, currency: str) -> dict:
    # Credits given back by a voided invoice name it as Lago's voided invoice; others name their invoice.
    given_back = item.transaction_type == TX.INBOUND and item.transaction_status == KIND.VOIDED
    amount = credits(item.amount_cents, currency)
    return {
        "lago_id": str(item.pk),
        "lago_wallet_id": str(item.wallet_id),
        "lago_invoice_id": None if given_back or not item.invoice_id else str(item.invoice_id),
        "lago_credit_note_id": None,
        "lago_voided_invoice_id": str(item.invoice_id) if given_back and item.invoice_id else None,
        "status": item.status,
        "source": "manual",
        "transaction_status": item.transaction_status,
        "transaction_type": item.transaction_type,
        "amount": amount,
        "credit_amount": amount,
        "remaining_amount_cents": None,
        "remaining_credit_amount": None,
        "priority": PRIORITY,
        "purchase_order_number": None,
        "settled_at": iso_datetime(item.settled_at),
        "failed_at": None,
        "created_at": iso_datetime(item.created_at),
        "invoice_requires_successful_payment": item.transaction_status == KIND.PURCHASED,
        "metadata": [],
        "name": None,
        "payment_method": {},
    }


# --- fees --------------------------------------------------------------------------------------

ITEM_TYPES = {Fee.Kind.ADD_ON: "AddOn", Fee.Kind.CHARGE: "BillableMetric", Fee.Kind.SUBSCRIPTION: "Subscription",
              Fee.Kind.CREDIT: "WalletTransaction"}


def fee_queryset():
    return Fee.objects.select_related(
        "invoice__customer", "add_on", "charge__billable_metric", "subscription__plan",
    ).prefetch_related("applied_taxes", "invoice__wallet_transactions")


def serialize_api_fee(fee: Fee) -> dict:
    """The invoice's FeeResponse (invoices.serializers.serialize_fee) with what Lago's FeeObject adds on /fees."""
    data = serialize_fee(fee, fee.invoice)
    invoice = fee.invoice
    coupons = Decimal(fee.precise_coupons_amount_cents)
    item = dict(data["item"])
    item["item_type"] = ITEM_TYPES.get(fee.kind, item.get("item_type"))
    if fee.kind == Fee.Kind.CREDIT:  # a top-up's fee: Lago's item is the purchased wallet transaction
        purchase = next((t for t in invoice.wallet_transactions.all() if t.transaction_status == KIND.PURCHASED), None)
        item["lago_item_id"] = str(purchase.pk) if purchase else item.get("lago_item_id")
    if not item.get("lago_item_id"):  # a fee an operator added by hand bills nothing else: itself
        item["lago_item_id"] = str(fee.pk)
    data.update({
        "item": item,
        "lago_customer_id": str(invoice.customer_id),
        "external_customer_id": invoice.customer.external_id,
        "lago_charge_filter_id": str(fee.charge_filter_id) if fee.charge_filter_id else None,
        "pay_in_advance": False,
        "invoiceable": True,
        "self_billed": False,
        "total_aggregated_units": data["units"],
        "events_count": fee.events_count,
        "precise_coupons_amount_cents": decimal_str(coupons),
        "sub_total_excluding_taxes_amount_cents": fee.amount_cents - round_cents(coupons),
        "sub_total_excluding_taxes_precise_amount_cents": decimal_str(Decimal(fee.precise_amount_cents) - coupons),
        "taxes_precise_amount": decimal_str(Decimal(fee.taxes_amount_cents)),
        "precise_total_amount": decimal_str(Decimal(fee.precise_amount_cents) - coupons + fee.taxes_amount_cents),
        "event_transaction_id": None,
        "succeeded_at": None,
        "failed_at": None,
        "refunded_at": None,
    })
    return data


# --- activity logs -----------------------------------------------------------------------------

SOURCES = {"api": "api", "admin": "front", "admin_bulk": "front", "runbook": "front", "task": "system", "command": "system"}


def resource_type(entry) -> str:
    """Lago names resources by class (Invoice, Wallet, Customer…); ours by app label (invoices.invoice)."""
    label = entry.object_type or ("invoices.invoice" if entry.invoice_id else "")
    try:
        return apps.get_model(label).__name__
    except (LookupError, ValueError):
        return label or "System"


def _changes(before, after):
    if not isinstance(before, dict) and not isinstance(after, dict):
        return None
    before, after = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
    changes = {key: [before.get(key), after.get(key)] for key in {**before, **after} if before.get(key) != after.get(key)}
    return changes or None


def serialize_activity_log(entry, owners: dict) -> dict:
    """`owners` maps (object_type, object_id) to (external_customer_id, external_subscription_id): see activity_owners."""
    after = entry.after
    obj = after if isinstance(after, dict) or after is None else {"value": after}
    customer, subscription = owners.get((entry.object_type, entry.object_id)) or owners.get(("invoices.invoice", str(entry.invoice_id))) or (None, None)
    return {
        "activity_id": str(entry.pk),
        "activity_type": entry.action,
        "activity_source": SOURCES.get(entry.source, "system"),
        "activity_object": obj,
        "activity_object_changes": _changes(entry.before, after),
        "user_email": (entry.user.email or None) if entry.user_id else None,
        "resource_id": entry.object_id or (str(entry.invoice_id) if entry.invoice_id else str(entry.pk)),
        "resource_type": resource_type(entry),
        "external_customer_id": customer,
        "external_subscription_id": subscription,
        "organization_id": settings.ORGANIZATION_ID,
        "logged_at": iso_datetime(entry.created_at),
        "created_at": iso_datetime(entry.created_at),
    }
