"""Two drafts competing for one coupon or one wallet balance: whichever finalizes first consumes it, once."""
import threading

import pytest
from django.db import connection

from coupons.models import Credit
from invoices.transitions.finalization import FINALIZED, finalize_invoice, finalize_invoices
from invoices.models import Invoice
from wallets.models import Wallet, WalletTransaction

from . import credit_factories as c
from . import factories as f

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def race(*jobs):
    """Run each job in its own thread and connection, all released at once; return the errors."""
    start = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            start.wait()
            job()
        except Exception as exc:  # surfaced by the caller's assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def finalizer(pk):
    def job():
        assert finalize_invoice(pk, c.SYSTEM).result == FINALIZED
    return job


@pytest.mark.parametrize("round_", range(3))
def test_one_coupon_two_drafts(round_):
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=1000, frequency="once"))
    drafts = [f.invoice(cust, fees=[(1, 1000)]).pk for _ in range(2)]

    assert race(*(finalizer(pk) for pk in drafts)) == []

    invoices = list(Invoice.objects.filter(pk__in=drafts))
    assert sorted(i.coupons_amount_cents for i in invoices) == [0, 1000]
    assert sorted(i.total_amount_cents for i in invoices) == [0, 1000]
    assert Credit.objects.filter(applied_coupon=applied).count() == 1
    applied.refresh_from_db()
    assert applied.status == "terminated"


@pytest.mark.parametrize("round_", range(3))
def test_one_wallet_balance_two_drafts(round_):
    cust = f.customer()
    c.wallet(cust, granted_cents=1000)
    drafts = [f.invoice(cust, fees=[(1, 800)]).pk for _ in range(2)]

    assert race(*(finalizer(pk) for pk in drafts)) == []

    invoices = list(Invoice.objects.filter(pk__in=drafts))
    assert sorted(i.prepaid_credit_amount_cents for i in invoices) == [200, 800]
    assert sum(WalletTransaction.objects.filter(transaction_type="outbound").values_list("amount_cents", flat=True)) == 1000
    assert Wallet.objects.get(customer=cust).balance_cents == 0


def test_batches_over_the_same_customers_in_opposite_orders_do_not_deadlock():
    a, b = f.customer(), f.customer()
    for cust in (a, b):
        c.give(cust, c.coupon(amount_cents=500, frequency="once"))
        c.wallet(cust, granted_cents=300)
    a1, a2, b1, b2 = (f.invoice(cust, fees=[(1, 1000)]).pk for cust in (a, a, b, b))

    def batch(ids):
        def job():
            from django.db import transaction

            with transaction.atomic():
                assert {o.result for o in finalize_invoices(ids, c.SYSTEM)} == {FINALIZED}
        return job

    assert race(batch([a1, b1]), batch([b2, a2])) == []

    for cust in (a, b):
        invoices = Invoice.objects.filter(customer=cust)
        assert sum(i.coupons_amount_cents for i in invoices) == 500
        assert sum(i.prepaid_credit_amount_cents for i in invoices) == 300
