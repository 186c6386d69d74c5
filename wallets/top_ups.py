"""Wallets above invoices: creation, top-ups (with their credit invoices), payment of purchased top-ups.

Semantics (simpler than Lago, which adds rates, priorities and targeting):
- one active wallet per customer and currency, credits counted 1:1 in minor units;
- a *granted* top-up credits the balance at once (settled inbound transaction);
- a *paid* top-up creates a credit invoice (finalized at once through
  `invoices.transitions.finalization`) and a pending inbound transaction; `mark_top_up_paid`
  settles it and credits the balance.
Consumption by finalizing invoices and give-back on void are the ledger's
(`wallets.ledger`), which sits below invoices. Every balance change holds the
customer's row lock, then the wallet's (the same order finalization uses).
"""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from core.money import MinorUnitsError, format_amount, parse_minor_units
from core.errors import field_error
from customers.models import Customer
from invoices.transitions.finalization import FINALIZED, finalize_invoices
from invoices.transitions import payments
from invoices.models import Fee, Invoice

from .ledger import credit, lock_customer
from .models import Wallet, WalletTransaction

Type = WalletTransaction.TransactionType
Kind = WalletTransaction.TransactionStatus
Settlement = WalletTransaction.Status


def create_wallet(customer: Customer, actor: Actor, *, currency=None, name="", granted_cents=0, paid_cents=0, now=None) -> Wallet:
    currency = (currency or customer.currency or customer.billing_entity.default_currency).upper()
    with transaction.atomic():
        lock_customer(customer.pk)
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
        lock_customer(customer_id)
        wallet = Wallet.objects.select_for_update().select_related("customer__billing_entity").get(pk=wallet_id)
        if wallet.status != Wallet.Status.ACTIVE:
            raise ValidationError("This wallet is terminated.", code="wallet_not_active")
        before = snapshot(wallet)
        created = []
        if granted:
            created.append(credit(wallet, granted, Kind.GRANTED, invoice=None, now=now))
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
    """The credit invoice of a paid top-up was paid: mark it succeeded (through invoices/transitions/payments.py) and credit the wallet."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice_id).first()
        if invoice is None or invoice.invoice_type != Invoice.InvoiceType.CREDIT or invoice.status != Invoice.Status.FINALIZED:
            raise ValidationError("Only a finalized wallet top-up invoice can be marked paid here.", code="invalid_invoice")
        lock_customer(invoice.customer_id)
        pending = WalletTransaction.objects.select_for_update().filter(invoice=invoice, status=Settlement.PENDING, transaction_type=Type.INBOUND).first()
        if pending is None:
            raise ValidationError(f"Invoice {invoice.number} was already paid.", code="already_paid")
        wallet = Wallet.objects.select_for_update().get(pk=pending.wallet_id)
        before = snapshot(wallet)
        pending.status = Settlement.SETTLED
        pending.settled_at = now
        pending.save(update_fields=["status", "settled_at"])
        Wallet.objects.filter(pk=wallet.pk).update(balance_cents=F("balance_cents") + pending.amount_cents, updated_at=now)
        payments.record_payment(invoice)  # the invoice's payment status is written by invoices/transitions/payments.py
        wallet.refresh_from_db()
        audit_log.record("wallet.top_up_paid", actor, invoice=invoice, obj=wallet, before=before, after=snapshot(wallet))
        return pending


def _credit_invoice(wallet: Wallet, amount: int, actor: Actor, now) -> Invoice:
    """The invoice of a paid top-up: one credit fee, no taxes, finalized at once through the one transition."""
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


def _amount(value, field) -> int:
    try:
        return parse_minor_units(value if value not in (None, "") else 0)
    except MinorUnitsError as exc:
        if exc.reason == "not_a_number":
            raise field_error(field, f"{value!r} is not a number.", "invalid_number")
        raise field_error(field, "Must be a whole, non-negative number of minor units.", "invalid_value")


def snapshot(wallet: Wallet) -> dict:
    return {
        "customer": wallet.customer.external_id,
        "currency": wallet.currency,
        "balance_cents": wallet.balance_cents,
        "balance": format_amount(wallet.balance_cents, wallet.currency),
        "status": wallet.status,
    }
