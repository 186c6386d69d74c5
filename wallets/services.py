"""Wallets: creation, top-ups, payment of purchased top-ups, consumption at finalization, give-back on void.

Semantics (simpler than Lago, which adds rates, priorities and targeting):
- one active wallet per customer and currency, credits counted 1:1 in minor units;
- a *granted* top-up credits the balance at once (settled inbound transaction);
- a *paid* top-up creates a credit invoice (finalized at once) and a pending inbound
  transaction; `mark_top_up_paid` settles it and credits the balance;
- a finalizing subscription invoice consumes the balance after taxes and credit notes
  (outbound transaction); voiding that invoice gives it back (inbound, "voided").
Every balance change holds the customer's row lock, then the wallet's (the same
order finalization uses), and is written with the transaction that explains it.
"""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from billing_console.money import format_amount
from coupons.errors import field_error
from customers.models import Customer
from invoices import payments
from invoices.models import Fee, Invoice

from .models import Wallet, WalletTransaction

Type = WalletTransaction.TransactionType
Kind = WalletTransaction.TransactionStatus
Settlement = WalletTransaction.Status


def create_wallet(customer: Customer, actor: Actor, *, currency=None, name="", granted_cents=0, paid_cents=0, now=None) -> Wallet:
    currency = (currency or customer.currency or customer.billing_entity.default_currency).upper()
    with transaction.atomic():
        _lock_customer(customer.pk)
        if Wallet.objects.filter(customer=customer, currency=currency, status=Wallet.Status.ACTIVE).exists():
            raise field_error("currency", f"The customer already has an active {currency} wallet.", "wallet_already_exists")
        wallet = Wallet.objects.create(customer=customer, currency=currency, name=name)
        audit_log.record("wallet.created", actor, obj=wallet, before=None, after=snapshot(wallet))
        if granted_cents or paid_cents:
            top_up(wallet.pk, actor, granted_cents=granted_cents, paid_cents=paid_cents, now=now)
            wallet.refresh_from_db()
        return wallet


def top_up(wallet_id, actor: Actor, *, granted_cents=0, paid_cents=0, now=None) -> list[WalletTransaction]:
    """Add credits: granted ones to the balance now, paid ones through a credit invoice (balance when paid)."""
    granted, paid = _amount(granted_cents, "granted_cents"), _amount(paid_cents, "paid_cents")
    if granted + paid <= 0:
        raise ValidationError("Enter a paid or a granted amount.", code="invalid_amount")
    now = now or timezone.now()
    with transaction.atomic():
        customer_id = Wallet.objects.filter(pk=wallet_id).values_list("customer_id", flat=True).first()
        if customer_id is None:
            raise ValidationError("That wallet does not exist.", code="wallet_not_found")
        _lock_customer(customer_id)
        wallet = Wallet.objects.select_for_update().select_related("customer__billing_entity").get(pk=wallet_id)
        if wallet.status != Wallet.Status.ACTIVE:
            raise ValidationError("This wallet is terminated.", code="wallet_not_active")
        before = snapshot(wallet)
        created = []
        if granted:
            created.append(_credit(wallet, granted, Kind.GRANTED, invoice=None, now=now))
        if paid:
            invoice = _credit_invoice(wallet, paid, actor, now)
            created.append(WalletTransaction.objects.create(
                wallet=wallet, invoice=invoice, transaction_type=Type.INBOUND, transaction_status=Kind.PURCHASED,
                status=Settlement.PENDING, amount_cents=paid,
            ))
        wallet.refresh_from_db()
        audit_log.record("wallet.topped_up", actor, invoice=created[-1].invoice, obj=wallet, before=before,
                         after={**snapshot(wallet), "granted_cents": granted, "paid_cents": paid})
        return created


def mark_top_up_paid(invoice_id, actor: Actor, *, now=None) -> WalletTransaction:
    """The credit invoice of a paid top-up was paid: mark it succeeded (through invoices/payments.py) and credit the wallet."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice_id).first()
        if invoice is None or invoice.invoice_type != Invoice.InvoiceType.CREDIT or invoice.status != Invoice.Status.FINALIZED:
            raise ValidationError("Only a finalized wallet top-up invoice can be marked paid here.", code="invalid_invoice")
        _lock_customer(invoice.customer_id)
        pending = WalletTransaction.objects.select_for_update().filter(invoice=invoice, status=Settlement.PENDING, transaction_type=Type.INBOUND).first()
        if pending is None:
            raise ValidationError(f"Invoice {invoice.number} was already paid.", code="already_paid")
        wallet = Wallet.objects.select_for_update().get(pk=pending.wallet_id)
        before = snapshot(wallet)
        pending.status = Settlement.SETTLED
        pending.settled_at = now
        pending.save(update_fields=["status", "settled_at"])
        Wallet.objects.filter(pk=wallet.pk).update(balance_cents=F("balance_cents") + pending.amount_cents, updated_at=now)
        payments.record_payment(invoice)  # the invoice's payment status is written by invoices/payments.py
        wallet.refresh_from_db()
        audit_log.record("wallet.top_up_paid", actor, invoice=invoice, obj=wallet, before=before, after=snapshot(wallet))
        return pending


def _with_balance():
    return Wallet.objects.filter(status=Wallet.Status.ACTIVE, balance_cents__gt=0)


def customers_with_wallet_balance(customer_ids) -> set:
    """Which of these customers have prepaid credits left (lets a batch skip the others)."""
    return set(_with_balance().filter(customer_id__in=customer_ids).values_list("customer_id", flat=True))


def consume_prepaid_credits(invoice: Invoice) -> int:
    """Pay what is left of a finalizing subscription invoice from the customer's wallet in its currency."""
    if invoice.total_amount_cents <= 0:
        return 0
    wallet = (
        _with_balance().select_for_update()
        .filter(customer_id=invoice.customer_id, currency=invoice.currency)
        .order_by("created_at", "pk").first()
    )
    if wallet is None:
        return 0
    amount = min(wallet.balance_cents, invoice.total_amount_cents)
    now = timezone.now()
    WalletTransaction.objects.create(
        wallet=wallet, invoice=invoice, transaction_type=Type.OUTBOUND, transaction_status=Kind.INVOICED,
        status=Settlement.SETTLED, amount_cents=amount, settled_at=now,
    )
    Wallet.objects.filter(pk=wallet.pk).update(balance_cents=F("balance_cents") - amount, updated_at=now)
    return amount


def recredit_prepaid_credits(invoice: Invoice, *, now=None) -> list[dict]:
    """Give a voided invoice's wallet payments back to their (still active) wallets."""
    outbound = list(WalletTransaction.objects.filter(invoice=invoice, transaction_type=Type.OUTBOUND, status=Settlement.SETTLED))
    given_back = []
    wallets = {w.pk: w for w in Wallet.objects.select_for_update().filter(pk__in={t.wallet_id for t in outbound}).order_by("pk")}
    for spent in outbound:
        wallet = wallets[spent.wallet_id]
        if wallet.status != Wallet.Status.ACTIVE:
            continue
        _credit(wallet, spent.amount_cents, Kind.VOIDED, invoice=invoice, now=now or timezone.now())
        given_back.append({"wallet_id": str(wallet.pk), "amount_cents": spent.amount_cents})
    return given_back


def fail_pending_top_up(invoice: Invoice) -> list[dict]:
    """A voided top-up invoice will never be paid: its pending purchase fails and credits nothing."""
    pending = WalletTransaction.objects.filter(invoice=invoice, transaction_type=Type.INBOUND, status=Settlement.PENDING)
    failed = [{"wallet_id": str(t.wallet_id), "amount_cents": t.amount_cents} for t in pending]
    pending.update(status=Settlement.FAILED)
    return failed


def _credit(wallet: Wallet, amount: int, kind: str, *, invoice, now) -> WalletTransaction:
    item = WalletTransaction.objects.create(
        wallet=wallet, invoice=invoice, transaction_type=Type.INBOUND, transaction_status=kind,
        status=Settlement.SETTLED, amount_cents=amount, settled_at=now,
    )
    Wallet.objects.filter(pk=wallet.pk).update(balance_cents=F("balance_cents") + amount, updated_at=now)
    return item


def _credit_invoice(wallet: Wallet, amount: int, actor: Actor, now) -> Invoice:
    """The invoice of a paid top-up: one credit fee, no taxes, finalized at once through the one transition."""
    from invoices.finalization import FINALIZED, finalize_invoices

    customer = wallet.customer
    invoice = Invoice.objects.create(customer=customer, billing_entity=customer.billing_entity, invoice_type=Invoice.InvoiceType.CREDIT, currency=wallet.currency)
    Fee.objects.create(
        invoice=invoice, kind=Fee.Kind.CREDIT, invoice_display_name=f"Prepaid credits ({wallet.name or 'wallet'})",
        units=Decimal(1), unit_amount_cents=amount, precise_unit_amount=Decimal(amount), amount_cents=amount, precise_amount_cents=Decimal(amount),
    )
    outcome = finalize_invoices([invoice.pk], actor, now=now)[0]
    if outcome.result != FINALIZED:  # pragma: no cover - a fresh draft with one fee always finalizes
        raise ValidationError(outcome.message, code="credit_invoice_not_finalized")
    return outcome.invoice


def _lock_customer(customer_id) -> None:
    # NO KEY UPDATE: serializes balance changes per customer without blocking inserts that reference it.
    list(Customer.objects.select_for_update(no_key=True).filter(pk=customer_id).values_list("pk", flat=True))


def _amount(value, field) -> int:
    try:
        number = Decimal(str(value if value not in (None, "") else 0))
    except Exception:
        raise field_error(field, f"{value!r} is not a number.", "invalid_number")
    if number < 0 or number != number.to_integral_value():
        raise field_error(field, "Must be a whole, non-negative number of minor units.", "invalid_value")
    return int(number)


def snapshot(wallet: Wallet) -> dict:
    return {
        "customer": wallet.customer.external_id,
        "currency": wallet.currency,
        "balance_cents": wallet.balance_cents,
        "balance": format_amount(wallet.balance_cents, wallet.currency),
        "status": wallet.status,
    }
