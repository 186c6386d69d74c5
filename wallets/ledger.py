"""The wallet ledger: prepaid credits finalizing invoices may take, taking them, giving them back.

`invoices.totals.compute_totals` decides how much the wallet pays (a `WalletUse`) from
rows this module loaded under the finalization's locks; `apply` records it (an outbound
transaction, the balance decremented); voiding calls `give_back` and `fail_pending_top_up`.
Every balance change is written with the WalletTransaction that explains it, under the
customer's row lock, then the wallet's. Top-ups, which issue credit invoices, live above
invoices in `wallets.top_ups`; nothing here imports `invoices`.
"""
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from customers.models import Customer

from .models import Wallet, WalletTransaction

Type = WalletTransaction.TransactionType
Kind = WalletTransaction.TransactionStatus
Settlement = WalletTransaction.Status


@dataclass(frozen=True)
class WalletUse:
    """What one wallet pays of a finalizing invoice (after taxes and credit notes)."""

    wallet: Wallet
    amount_cents: int


def lock_customer(customer_id) -> None:
    # NO KEY UPDATE: serializes balance changes per customer without blocking inserts that reference it.
    list(Customer.objects.select_for_update(no_key=True).filter(pk=customer_id).values_list("pk", flat=True))


def _with_balance():
    return Wallet.objects.filter(status=Wallet.Status.ACTIVE, balance_cents__gt=0)


def any_available(outer: str = "pk") -> Exists:
    """Whether the customer at OuterRef(outer) has a wallet `lock_available` would return (to annotate customers, or invoices: outer="customer_id")."""
    return Exists(_with_balance().filter(customer_id=OuterRef(outer)))


def lock_available(customer_ids) -> dict:
    """{customer_id: [Wallet]}: these customers' active wallets with credits left, row-locked (one query)."""
    by_customer: dict = {}
    for wallet in _with_balance().select_for_update().filter(customer_id__in=customer_ids).order_by("created_at", "pk"):
        by_customer.setdefault(wallet.customer_id, []).append(wallet)
    return by_customer


def is_available(wallet: Wallet) -> bool:
    return wallet.status == Wallet.Status.ACTIVE and wallet.balance_cents > 0


def apply(uses, invoice, *, now=None) -> None:
    """Record what a finalizing invoice takes from wallets (rows updated in place for the batch)."""
    now = now or timezone.now()
    for use in uses:
        WalletTransaction.objects.create(
            wallet=use.wallet, invoice=invoice, transaction_type=Type.OUTBOUND, transaction_status=Kind.INVOICED,
            status=Settlement.SETTLED, amount_cents=use.amount_cents, settled_at=now,
        )
        Wallet.objects.filter(pk=use.wallet.pk).update(balance_cents=F("balance_cents") - use.amount_cents, updated_at=now)
        use.wallet.balance_cents -= use.amount_cents


def credit(wallet: Wallet, amount: int, kind: str, *, invoice, now) -> WalletTransaction:
    """Add settled credits to a locked wallet, with the inbound transaction that explains them."""
    item = WalletTransaction.objects.create(
        wallet=wallet, invoice=invoice, transaction_type=Type.INBOUND, transaction_status=kind,
        status=Settlement.SETTLED, amount_cents=amount, settled_at=now,
    )
    Wallet.objects.filter(pk=wallet.pk).update(balance_cents=F("balance_cents") + amount, updated_at=now)
    return item


def give_back(invoice, *, now=None) -> list[dict]:
    """Give a voided invoice's wallet payments back to their (still active) wallets."""
    outbound = list(WalletTransaction.objects.filter(invoice=invoice, transaction_type=Type.OUTBOUND, status=Settlement.SETTLED))
    given_back = []
    wallets = {w.pk: w for w in Wallet.objects.select_for_update().filter(pk__in={t.wallet_id for t in outbound}).order_by("pk")}
    for spent in outbound:
        wallet = wallets[spent.wallet_id]
        if wallet.status != Wallet.Status.ACTIVE:
            continue
        credit(wallet, spent.amount_cents, Kind.VOIDED, invoice=invoice, now=now or timezone.now())
        given_back.append({"wallet_id": str(wallet.pk), "amount_cents": spent.amount_cents})
    return given_back


def fail_pending_top_up(invoice) -> list[dict]:
    """A voided top-up invoice will never be paid: its pending purchase fails and credits nothing."""
    pending = WalletTransaction.objects.filter(invoice=invoice, transaction_type=Type.INBOUND, status=Settlement.PENDING)
    failed = [{"wallet_id": str(t.wallet_id), "amount_cents": t.amount_cents} for t in pending]
    pending.update(status=Settlement.FAILED)
    return failed
