"""/api/v1/customers/{external_customer_id}/invoices|credit_notes|subscriptions|applied_coupons and the
applied coupon's DELETE (terminates through coupons.services)."""
import pytest

from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon
from tests import billing_factories as b
from tests import credit_factories as c
from tests import factories
from tests.api_support import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(api, settings):
    """hooli: a finalized invoice with a credit note, a subscription, an applied coupon; other: the same, unrelated."""
    settings.INVOICE_PDF_AFTER_FINALIZATION = False
    entity = factories.billing_entity(code="acme", is_default=True)
    made = {}
    for external_id in ("hooli", "other"):
        customer = factories.customer(entity, external_id=external_id, currency="USD")
        invoice = c.finalized(customer, fees=[(1, 10000)])
        fee = invoice.fees.first()
        note = api.post("credit_notes", {"credit_note": {"invoice_id": str(invoice.pk), "reason": "other",
                                                         "items": [{"fee_id": str(fee.pk), "amount_cents": 1000}],
                                                         "credit_amount_cents": 1000}})
        assert note.status_code == 200, note.content
        b.subscription(customer, b.plan(), external_id=f"sub-{external_id}")
        coupon = c.coupon(code=f"coupon-{external_id}", amount_cents=500)
        applied = api.post("applied_coupons", {"applied_coupon": {"external_customer_id": external_id, "coupon_code": coupon.code}})
        assert applied.status_code == 200, applied.content
        made[external_id] = {"invoice": invoice, "note": note.json()["credit_note"], "applied": applied.json()["applied_coupon"]}
    return made


def test_children_are_scoped_to_the_customer(api, world):
    hooli = world["hooli"]
    invoices = api.get("customers/hooli/invoices").json()
    assert [i["lago_id"] for i in invoices["invoices"]] == [str(hooli["invoice"].pk)] and invoices["meta"]["total_count"] == 1
    assert api.get("customers/hooli/invoices", {"status": "draft"}).json()["meta"]["total_count"] == 0
    # the path wins over a query string naming someone else
    assert api.get("customers/hooli/invoices", {"external_customer_id": "other"}).json()["invoices"][0]["customer"]["external_id"] == "hooli"
    notes = api.get("customers/hooli/credit_notes").json()
    assert [n["lago_id"] for n in notes["credit_notes"]] == [hooli["note"]["lago_id"]]
    subscriptions = api.get("customers/hooli/subscriptions").json()
    assert [s["external_id"] for s in subscriptions["subscriptions"]] == ["sub-hooli"]
    assert api.get("customers/hooli/subscriptions", {"status[]": "terminated"}).json()["meta"]["total_count"] == 0
    applied = api.get("customers/hooli/applied_coupons").json()
    assert [a["lago_id"] for a in applied["applied_coupons"]] == [hooli["applied"]["lago_id"]]
    for child in ("invoices", "credit_notes", "subscriptions", "applied_coupons"):
        assert_error(api.get(f"customers/nobody/{child}"), 404, "customer_not_found")
    assert_error(api.get("customers/hooli/invoices", {"status": "nope"}), 422)


def test_delete_applied_coupon_terminates_it(api, world):
    applied_id = world["hooli"]["applied"]["lago_id"]
    response = api.delete(f"customers/hooli/applied_coupons/{applied_id}")
    assert response.status_code == 200, response.content
    body = response.json()["applied_coupon"]
    assert body["status"] == "terminated" and body["terminated_at"] is not None
    assert AppliedCoupon.objects.get(pk=applied_id).status == "terminated"
    assert AuditLogEntry.objects.filter(action="applied_coupon.terminated", source="api", object_id=applied_id).exists()
    assert api.delete(f"customers/hooli/applied_coupons/{applied_id}").json()["applied_coupon"]["status"] == "terminated"
    # another customer's applied coupon, an unknown one, an unknown customer
    other_id = world["other"]["applied"]["lago_id"]
    assert_error(api.delete(f"customers/hooli/applied_coupons/{other_id}"), 404, "applied_coupon_not_found")
    assert_error(api.delete("customers/hooli/applied_coupons/zzz"), 404, "applied_coupon_not_found")
    assert_error(api.delete(f"customers/nobody/applied_coupons/{other_id}"), 404, "customer_not_found")
    assert AppliedCoupon.objects.get(pk=other_id).status == "active"


@pytest.mark.lago_spec
@pytest.mark.parametrize("operation", [  # (method, Lago's template), spelled out for tests/test_lago_conformance.py
    ("GET", "/customers/{external_customer_id}/invoices"),
    ("GET", "/customers/{external_customer_id}/credit_notes"),
    ("GET", "/customers/{external_customer_id}/subscriptions"),
    ("GET", "/customers/{external_customer_id}/applied_coupons"),
])
def test_children_lists_conform_to_lagos_spec(api, world, operation):
    from tests.lago_spec import assert_conforms

    method, template = operation
    child = template.rsplit("/", 1)[1]
    assert_conforms(method, template, api.get(f"customers/nobody/{child}"), status=404)
    assert_conforms(method, template, api.get(f"customers/hooli/{child}"), status=200)


@pytest.mark.lago_spec
def test_applied_coupon_delete_conforms_to_lagos_spec(api, world):
    from tests.lago_spec import assert_conforms

    applied_id = world["hooli"]["applied"]["lago_id"]
    assert_conforms("DELETE", "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
                    api.delete(f"customers/hooli/applied_coupons/{applied_id}"), status=200)
    assert_conforms("DELETE", "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}",
                    api.delete("customers/hooli/applied_coupons/zzz"), status=404)
