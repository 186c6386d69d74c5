"""A wallet's life after creation: renaming, voiding credits, termination (beside wallets.top_ups, which adds credits).

As Lago:
- voided credits leave the balance at once: a settled *outbound* transaction with transaction_status
  `voided` (Lago's VoidService), never more than the balance (`insufficient_credits`);
- terminating sets status `terminated` and `terminated_at`; the balance is kept as it was (Lago keeps it
  too) but nothing consumes it any more (wallets.ledger only takes from active wallets) and it takes no
  top-ups (`wallet_not_active`). Terminating a terminated wallet changes nothing.
Every change holds the customer's row lock, then the wallet's (the order finalization uses), with its audit entry.
"""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from core.errors import field_error

from .ledger import lock_customer
from .models import Wallet, WalletTransaction
from .top_ups import snapshot


def _locked(wallet_id) -> Wallet:
    customer_id = Wallet.objects.filter(pk=wallet_id).values_list("customer_id", flat=True).first()
    if customer_id is None:
        raise ValidationError("That wallet does not exist.", code="wallet_not_found")
    lock_customer(customer_id)
    return Wallet.objects.select_for_update().select_related("customer").get(pk=wallet_id)


def rename_wallet(wallet_id, name: str, actor: Actor) -> Wallet:
    with transaction.atomic():
        wallet = _locked(wallet_id)
        if wallet.name != name:
            before = {"name": wallet.name}
            wallet.name = name
            wallet.save(update_fields=["name", "updated_at"])
            audit_log.record("wallet.updated", actor, obj=wallet, before=before, after={"name": name})
        return wallet


def void_credits(wallet_id, amount_cents: int, actor: Actor, *, now=None) -> WalletTransaction:
    """Take `amount_cents` of credits off an active wallet's balance (no invoice, no refund)."""
    now = now or timezone.now()
    with transaction.atomic():
        wallet = _locked(wallet_id)
        if wallet.status != Wallet.Status.ACTIVE:
            raise ValidationError("This wallet is terminated.", code="wallet_not_active")
        if amount_cents <= 0:
            raise field_error("voided_credits", "Enter an amount to void.", "invalid_amount")
        if amount_cents > wallet.balance_cents:
            raise field_error("voided_credits", "The wallet does not hold that many credits.", "insufficient_credits")
        before = snapshot(wallet)
        item = WalletTransaction.objects.create(
            wallet=wallet, invoice=None, transaction_type=WalletTransaction.TransactionType.OUTBOUND,
            transaction_status=WalletTransaction.TransactionStatus.VOIDED, status=WalletTransaction.Status.SETTLED,
            amount_cents=amount_cents, settled_at=now,
        )
        Wallet.objects.filter(pk=wallet.pk).update(balance_cents=F("balance_cents") - amount_cents, updated_at=now)
        wallet.refresh_from_db()
        audit_log.record("wallet.credits_voided", actor, obj=wallet, before=before,
                         after={**snapshot(wallet), "voided_cents": amount_cents})
        return item


def terminate_wallet(wallet_id, actor: Actor, *, now=None) -> Wallet:
    with transaction.atomic():
        wallet = _locked(wallet_id)
        if wallet.status == Wallet.Status.TERMINATED:
            return wallet
        before = snapshot(wallet)
        wallet.status = Wallet.Status.TERMINATED
        wallet.terminated_at = now or timezone.now()
        wallet.save(update_fields=["status", "terminated_at", "updated_at"])
        audit_log.record("wallet.terminated", actor, obj=wallet, before=before, after=snapshot(wallet))
        return wallet
