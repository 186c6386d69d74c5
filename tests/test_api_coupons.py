"""/api/v1/coupons and /api/v1/applied_coupons: Lago's shapes and errors, writes audited, refusals write nothing."""
import pytest

from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon, Coupon, Credit
from invoices.transitions.finalization import finalize_invoice
from tests import credit_factories as c
from tests import factories
from tests.api_support import assert_error

pytestmark = pytest.mark.django_db

FIXED = {"coupon": {"name": "Welcome", "code": "welcome", "coupon_type": "fixed_amount", "amount_cents": 1000,
                    "amount_currency": "usd", "frequency": "once", "expiration": "no_expiration", "reusable": False}}


def test_coupon_crud_by_code(api):
    created = api.post("coupons", FIXED)
    assert created.status_code == 200, created.content
    body = created.json()["coupon"]
    assert (body["code"], body["coupon_type"], body["amount_cents"], body["amount_currency"], body["reusable"]) == (
        "welcome", "fixed_amount", 1000, "USD", False)
    assert body["terminated_at"] is None and body["limited_plans"] is False and body["expiration"] == "no_expiration"
    assert AuditLogEntry.objects.filter(action="coupon.created", source="api", object_id=body["lago_id"]).exists()

    percent = api.post("coupons", {"coupon": {"name": "Ten", "code": "ten", "coupon_type": "percentage", "percentage_rate": 12.5,
                                              "frequency": "recurring", "frequency_duration": 3, "expiration": "time_limit",
                                              "expiration_at": "2030-01-01T00:00:00Z"}})
    assert percent.status_code == 200, percent.content
    assert percent.json()["coupon"]["percentage_rate"] == 12.5 and percent.json()["coupon"]["expiration_at"] == "2030-01-01T00:00:00Z"
    assert str(Coupon.objects.get(code="ten").percentage_rate) == "12.5000"

    listed = api.get("coupons", {"per_page": 1}).json()
    assert len(listed["coupons"]) == 1 and listed["meta"]["total_count"] == 2 and listed["meta"]["next_page"] == 2

    updated = api.put("coupons/welcome", {"coupon": {"name": "Welcome!", "amount_cents": 1500}})
    assert updated.json()["coupon"]["name"] == "Welcome!" and updated.json()["coupon"]["amount_cents"] == 1500
    entry = AuditLogEntry.objects.get(action="coupon.updated")
    assert entry.before == {"name": "Welcome", "amount_cents": 1000} and entry.after == {"name": "Welcome!", "amount_cents": 1500}
    assert api.get("coupons/welcome").json()["coupon"]["name"] == "Welcome!"

    deleted = api.delete("coupons/welcome")
    assert deleted.status_code == 200 and deleted.json()["coupon"]["terminated_at"]
    assert Coupon.objects.filter(code="welcome").exists()  # kept, only terminated
    assert_error(api.get("coupons/welcome"), 404, "coupon_not_found")
    assert_error(api.delete("coupons/welcome"), 404, "coupon_not_found")
    assert api.get("coupons").json()["meta"]["total_count"] == 1


def test_coupon_validation_errors_write_nothing(api):
    assert api.post("coupons", FIXED).status_code == 200
    assert_error(api.post("coupons", FIXED), 422, "validation_errors", {"code": ["value_already_exist"]})
    body = assert_error(api.post("coupons", {"coupon": {"name": "X", "code": "x", "coupon_type": "fixed_amount"}}), 422)
    assert body["error_details"] == {"amount_cents": ["invalid_amount"]}
    body = assert_error(api.post("coupons", {"coupon": {"name": "X", "code": "x", "coupon_type": "percentage", "percentage_rate": 150}}), 422)
    assert "percentage_rate" in body["error_details"]
    assert_error(api.post("coupons", {"coupon": {"name": "X", "code": "x", "coupon_type": "percentage", "percentage_rate": "lots"}}),
                 422, error_details={"percentage_rate": ["value_is_invalid"]})
    assert_error(api.post("coupons", {"coupon": {"name": "X", "code": "x", "coupon_type": "percentage", "percentage_rate": 10,
                                                 "expiration": "time_limit", "expiration_at": "soon"}}),
                 422, error_details={"expiration_at": ["invalid_format"]})
    assert_error(api.post("coupons", {"coupon": {"name": "X", "code": "x", "amount_cents": "ten"}}), 422,
                 error_details={"amount_cents": ["value_is_invalid"]})
    assert_error(api.post("coupons", {"nope": {}}), 400)
    assert_error(api.put("coupons/welcome", {"coupon": {"frequency": "recurring"}}), 422,
                 error_details={"frequency_duration": ["invalid_value"]})
    assert_error(api.put("coupons/nope", {"coupon": {"name": "N"}}), 404, "coupon_not_found")
    assert Coupon.objects.count() == 1 and Coupon.objects.get().frequency == "once"
    assert AuditLogEntry.objects.filter(action__startswith="coupon.").count() == 1


def test_apply_a_coupon_to_a_customer_and_list_it(api):
    entity = factories.billing_entity()
    hooli = factories.customer(entity, external_id="hooli")
    api.post("coupons", {"coupon": {**FIXED["coupon"], "reusable": True}})
    response = api.post("applied_coupons", {"applied_coupon": {"external_customer_id": "hooli", "coupon_code": "welcome",
                                                               "amount_cents": 700, "amount_currency": "USD"}})
    assert response.status_code == 200, response.content
    body = response.json()["applied_coupon"]
    assert (body["coupon_code"], body["external_customer_id"], body["status"], body["amount_cents"], body["amount_cents_remaining"]) == (
        "welcome", "hooli", "active", 700, 700)
    assert body["frequency"] == "once" and body["credits"] == []
    assert AuditLogEntry.objects.filter(action="applied_coupon.created", source="api", object_id=body["lago_id"]).exists()

    # Consumed by the next finalized subscription invoice, visible in the list with its credit.
    invoice = factories.invoice(hooli, fees=[(1, 5000)])
    finalize_invoice(invoice.pk, c.SYSTEM)
    assert Credit.objects.get(invoice=invoice).amount_cents == 700
    other = factories.customer(entity, external_id="other")
    c.give(other, c.coupon(rate="10"))
    listed = api.get("applied_coupons", {"external_customer_id": "hooli"}).json()
    assert listed["meta"]["total_count"] == 1
    assert listed["applied_coupons"][0]["status"] == "terminated"
    assert listed["applied_coupons"][0]["credits"][0]["amount_cents"] == 700
    assert api.get("applied_coupons", {"status": "active"}).json()["meta"]["total_count"] == 1
    assert api.get("applied_coupons").json()["meta"]["total_count"] == 2
    assert_error(api.get("applied_coupons", {"status": "bogus"}), 422, error_details={"status": ["value_is_invalid"]})


def test_apply_errors(api):
    factories.customer(external_id="hooli")
    api.post("coupons", FIXED)  # not reusable
    api.post("coupons", {"coupon": {"name": "Old", "code": "old", "coupon_type": "percentage", "percentage_rate": 5,
                                    "expiration": "time_limit", "expiration_at": "2020-01-01T00:00:00Z"}})
    apply = lambda **kw: api.post("applied_coupons", {"applied_coupon": {"external_customer_id": "hooli", "coupon_code": "welcome", **kw}})
    assert_error(apply(external_customer_id="nobody"), 404, "customer_not_found")
    assert_error(apply(coupon_code="nope"), 404, "coupon_not_found")
    assert_error(apply(frequency="sometimes"), 422, error_details={"frequency": ["value_is_invalid"]})
    assert_error(apply(frequency="recurring"), 422, error_details={"frequency_duration": ["invalid_value"]})
    assert_error(apply(coupon_code="old"), 422, error_details={"coupon": ["coupon_is_expired"]})
    assert_error(api.post("applied_coupons", {"applied_coupon": {"coupon_code": "welcome"}}), 422,
                 error_details={"external_customer_id": ["value_is_mandatory"]})
    assert AppliedCoupon.objects.count() == 0
    assert apply().status_code == 200
    assert_error(apply(), 422, error_details={"coupon": ["coupon_is_not_reusable"]})
    api.delete("coupons/welcome")
    assert AppliedCoupon.objects.get().status == "terminated"  # terminating a coupon ends its applications
    assert_error(apply(), 404, "coupon_not_found")
    assert AppliedCoupon.objects.count() == 1


# --- the real client against live_server ---------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_lago_client_coupons_and_applied_coupons(live_server):
    from lago_python_client.client import Client
    from lago_python_client.exceptions import LagoApiError
    from lago_python_client.models import AppliedCoupon as AppliedCouponInput
    from lago_python_client.models import Coupon as CouponInput

    from api.models import ApiKey

    _, raw = ApiKey.issue("lago-client")
    lago = Client(api_key=raw, api_url=live_server.url)
    factories.customer(external_id="hooli")
    coupon = lago.coupons.create(CouponInput(name="Ten", code="ten", coupon_type="percentage", percentage_rate=10.0,
                                             frequency="recurring", frequency_duration=2, expiration="no_expiration"))
    assert coupon.code == "ten" and coupon.percentage_rate == 10.0 and coupon.frequency_duration == 2
    assert lago.coupons.find("ten").name == "Ten"
    assert lago.coupons.update(CouponInput(name="Ten off"), "ten").name == "Ten off"
    assert [x.code for x in lago.coupons.find_all()["coupons"]] == ["ten"]

    applied = lago.applied_coupons.create(AppliedCouponInput(external_customer_id="hooli", coupon_code="ten", percentage_rate=15.0))
    assert applied.status == "active" and applied.percentage_rate == 15.0 and applied.frequency_duration_remaining == 2
    listed = lago.applied_coupons.find_all({"external_customer_id": "hooli", "status": "active"})
    assert [a.lago_id for a in listed["applied_coupons"]] == [applied.lago_id] and listed["meta"]["total_count"] == 1
    assert AuditLogEntry.objects.filter(action="applied_coupon.created", object_id=applied.lago_id, source="api").exists()

    with pytest.raises(LagoApiError) as err:
        lago.applied_coupons.create(AppliedCouponInput(external_customer_id="nobody", coupon_code="ten"))
    assert err.value.status_code == 404 and err.value.response["code"] == "customer_not_found"
    with pytest.raises(LagoApiError) as err:
        lago.coupons.create(CouponInput(name="Ten", code="ten", coupon_type="percentage", percentage_rate=10.0))
    assert err.value.status_code == 422 and err.value.response["error_details"] == {"code": ["value_already_exist"]}
    assert lago.coupons.destroy("ten").terminated_at
    with pytest.raises(LagoApiError) as err:
        lago.coupons.find("ten")
    assert err.value.status_code == 404 and err.value.response["code"] == "coupon_not_found"
    assert AppliedCoupon.objects.get(pk=applied.lago_id).status == "terminated"


def test_an_override_rate_the_column_cannot_hold_is_refused(api):
    factories.customer(external_id="hooli")
    api.post("coupons", {"coupon": {"name": "Ten", "code": "ten", "coupon_type": "percentage", "percentage_rate": 10}})
    for rate in (0.00001, 0, 101, "abc"):
        assert_error(api.post("applied_coupons", {"applied_coupon": {"external_customer_id": "hooli", "coupon_code": "ten",
                                                                     "percentage_rate": rate}}),
                     422, error_details={"percentage_rate": ["value_is_invalid"]})
    ok = api.post("applied_coupons", {"applied_coupon": {"external_customer_id": "hooli", "coupon_code": "ten", "percentage_rate": "12.3456"}})
    assert ok.json()["applied_coupon"]["percentage_rate"] == 12.3456
    assert AppliedCoupon.objects.count() == 1
