"""Factories for coupons, wallets and credit notes (the reversible side of billing)."""
from decimal import Decimal

from audit.actors import Actor
from coupons.models import Coupon
from coupons.services import apply_coupon
from invoices.transitions.finalization import finalize_invoice
from wallets.top_ups import create_wallet

from . import factories as f

SYSTEM = Actor.system(source="command")


def coupon(code=None, *, amount_cents=None, currency="USD", rate=None, frequency="once", duration=None, **kwargs) -> Coupon:
    n = next(f._counter)
    fixed = rate is None
    return Coupon.objects.create(
        code=code or f"coupon-{n}", name=kwargs.pop("name", f"Coupon {n}"),
        coupon_type="fixed_amount" if fixed else "percentage",
        amount_cents=amount_cents if fixed else None, amount_currency=currency if fixed else "",
        percentage_rate=None if fixed else Decimal(str(rate)), frequency=frequency, frequency_duration=duration, **kwargs,
    )


def give(cust, cpn, **kwargs):
    return apply_coupon(cust, cpn, SYSTEM, **kwargs)


def wallet(cust, granted_cents=0, currency=None):
    return create_wallet(cust, SYSTEM, currency=currency, granted_cents=granted_cents)


def finalized(cust=None, fees=((1, 10000),), taxes=(), **kwargs):
    inv = f.invoice(cust, fees=fees, taxes=taxes, **kwargs)
    outcome = finalize_invoice(inv.pk, SYSTEM)
    assert outcome.result == "finalized", outcome.message
    inv.refresh_from_db()
    return inv
