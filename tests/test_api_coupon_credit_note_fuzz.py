"""Coupons, applied coupons and credit notes: no value of any type gives a 500, and a refusal writes nothing."""
import pytest

from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon, Coupon
from credit_notes.models import CreditNote

from . import credit_factories as c
from . import factories as f
from .test_api_errors import WEIRD

pytestmark = pytest.mark.django_db

MORE = WEIRD + [2**62, 2**40, "1e400", "NaN", 150, 0.00001, "usd", "2030-01-01T00:00:00Z"]


def counts():
    return Coupon.objects.count(), AppliedCoupon.objects.count(), CreditNote.objects.count(), AuditLogEntry.objects.count()


def check(response, field, value):
    assert response.status_code in (200, 400, 404, 422), (field, value, response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    return response.status_code == 200


def test_coupons_and_applied_coupons(api):
    f.customer(external_id="hooli")
    base = {"name": "Ten", "code": "ten", "coupon_type": "percentage", "percentage_rate": 10, "frequency": "recurring",
            "frequency_duration": 2, "expiration": "no_expiration", "reusable": True, "amount_cents": None, "amount_currency": None,
            "expiration_at": None, "description": "d"}
    for field in base:
        for value in MORE:
            before = counts()
            if check(api.post("coupons", {"coupon": {**base, field: value, "code": f"c{len(before)}-{Coupon.objects.count()}"}}), field, value):
                assert Coupon.objects.count() == before[0] + 1
            else:
                assert counts() == before
    assert api.post("coupons", {"coupon": base}).status_code == 200
    applied = {"external_customer_id": "hooli", "coupon_code": "ten", "amount_cents": None, "amount_currency": None,
               "percentage_rate": 12.5, "frequency": "forever", "frequency_duration": None}
    for field in applied:
        for value in MORE:
            before = counts()
            if not check(api.post("applied_coupons", {"applied_coupon": {**applied, field: value}}), field, value):
                assert counts() == before
    for value in MORE:
        check(api.put("coupons/ten", {"coupon": {"frequency_duration": value}}), "update", value)


def test_credit_notes(api):
    inv = c.finalized(f.customer(external_id="hooli"), fees=[(1, 10000)], taxes=[f.tax(rate="20")])
    fee = inv.fees.get()
    base = {"invoice_id": str(inv.pk), "reason": "other", "description": "d", "credit_amount_cents": 12,
            "refund_amount_cents": 0, "offset_amount_cents": 0, "items": [{"fee_id": str(fee.pk), "amount_cents": 10}],
            "metadata": {"k": "v"}}
    for field in base:
        for value in MORE + [[{"fee_id": str(fee.pk), "amount_cents": v}] for v in MORE] + [[{"fee_id": v, "amount_cents": 10}] for v in MORE]:
            before = counts()
            if not check(api.post("credit_notes", {"credit_note": {**base, field: value}}), field, value):
                assert counts() == before
