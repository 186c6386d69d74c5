"""Admin pages for plans, metrics, charges, subscriptions and the read-only event list."""
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from . import billing_factories as b
from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def test_pages_render_and_events_are_read_only(admin_client):
    plan = b.plan(amount_cents=100)
    ch = b.charge(plan, b.metric("count", code="calls", filters={"region": ["eu"]}))
    b.charge_filter(ch, {"region": ["eu"]}, {"amount": "2"})
    sub = b.subscription(f.customer(), plan)
    event = b.event(sub, "calls", b.utc(2026, 1, 2))
    for name in ["plans_plan", "plans_billablemetric", "plans_charge", "subscriptions_subscription", "usage_event"]:
        assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    assert admin_client.get(reverse("admin:plans_plan_change", args=[plan.pk])).status_code == 200
    assert admin_client.get(reverse("admin:plans_charge_change", args=[ch.pk])).status_code == 200
    assert admin_client.get(reverse("admin:subscriptions_subscription_change", args=[sub.pk])).status_code == 200
    assert admin_client.get(reverse("admin:usage_event_add")).status_code == 403
    page = admin_client.get(reverse("admin:usage_event_change", args=[event.pk])).content.decode()
    assert event.transaction_id in page and 'name="_save"' not in page


def test_charge_admin_refuses_bad_properties(admin_client):
    plan = b.plan()
    metric = b.metric("count", code="calls")
    response = admin_client.post(reverse("admin:plans_charge_add"), {
        "plan": plan.pk, "billable_metric": metric.pk, "charge_model": "graduated", "properties": '{"amount": "1"}',
        "position": 0, "filters-TOTAL_FORMS": 0, "filters-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200 and "graduated_ranges must list at least one tier" in response.content.decode()


def test_charge_list_runs_a_constant_number_of_queries(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:plans_charge_changelist")

    def queries_for_charges(count):
        plan = b.plan()
        for _ in range(count):
            b.charge(plan)
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = queries_for_charges(2)
    many = queries_for_charges(20)
    assert many == few
