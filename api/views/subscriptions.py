"""/subscriptions: create, find by external_id, list (external_customer_id, plan_code, status[] filters),
DELETE = terminate (Lago's semantics: status terminated, terminated_at now, the final invoice billed)."""
import uuid

from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer
from plans.models import Plan
from subscriptions.models import Subscription
from billing_run.termination import terminate_subscription

from .. import catalog, errors
from ..http import endpoint, ok, paginate, query_list, root
from ..parsing import parse
from ..requests import SubscriptionFields
from ..serializers import serialize_subscription



def _subscriptions():
    return Subscription.objects.select_related("plan", "customer")


def _find(external_id, status=None) -> Subscription:
    """As Lago: only the active subscription unless `?status=` names another."""
    subscription = _subscriptions().filter(external_id=external_id, status=status or Subscription.Status.ACTIVE).first()
    if subscription is None:
        raise errors.not_found("subscription")
    return subscription


def create(request):
    _, data = root(request, "subscription")
    values = parse(SubscriptionFields, data).given()
    missing = {f: "value_is_mandatory" for f in ("external_customer_id", "plan_code") if not (values.get(f) or "").strip()}
    if missing:
        raise errors.validation_error(missing)
    customer = Customer.objects.filter(external_id=values.pop("external_customer_id").strip(), deleted_at__isnull=True).first()
    if customer is None:
        raise errors.not_found("customer")
    plan = Plan.objects.filter(code=values.pop("plan_code").strip()).first()
    if plan is None:
        raise errors.not_found("plan")
    billing_time = values.pop("billing_time", None) or Subscription.BillingTime.CALENDAR
    if billing_time not in Subscription.BillingTime.values:
        raise errors.validation_error({"billing_time": "value_is_invalid"})
    started_at = values.pop("subscription_at", None) or timezone.now()
    external_id = (values.pop("external_id", None) or "").strip() or None
    existing = Subscription.objects.filter(external_id=external_id).select_related("plan", "customer").first() if external_id else None
    if existing is not None:
        # Lago answers the subscription it has when asked again for the same customer and plan.
        if existing.customer_id == customer.pk and existing.plan_id == plan.pk and existing.status == Subscription.Status.ACTIVE:
            return ok({"subscription": serialize_subscription(existing)})
        raise errors.validation_error({"external_id": "value_already_exist"})
    fields = {"started_at": started_at, "billing_time": billing_time, "name": values.get("name") or ""}
    fields["external_id"] = external_id or str(uuid.uuid4())  # as Lago, an id is made up when none is given
    subscription = catalog.create_subscription(customer, plan, fields, request.actor)
    return ok({"subscription": serialize_subscription(subscription)})


def list_subscriptions(request):
    rows = _subscriptions()
    statuses = query_list(request, "status") or [Subscription.Status.ACTIVE]
    if set(statuses) - set(Subscription.Status.values):
        raise errors.validation_error({"status": "value_is_invalid"})
    rows = rows.filter(status__in=statuses)
    if external_customer_id := request.GET.get("external_customer_id"):
        rows = rows.filter(customer__external_id=external_customer_id)
    if plan_code := request.GET.get("plan_code"):
        rows = rows.filter(plan__code=plan_code)
    if currency := request.GET.get("currency"):
        rows = rows.filter(plan__currency=currency.upper())
    if codes := query_list(request, "billing_entity_codes"):
        rows = rows.filter(customer__billing_entity__code__in=codes)
    page, meta = paginate(request, rows.order_by("-started_at", "-created_at"))
    return ok({"subscriptions": [serialize_subscription(s) for s in page], "meta": meta})


def show(request, external_id):
    return ok({"subscription": serialize_subscription(_find(external_id, request.GET.get("status")))})


def terminate(request, external_id):
    subscription = _find(external_id)
    try:
        subscription = terminate_subscription(subscription, request.actor)
    except ValidationError:  # terminated meanwhile by someone else
        raise errors.not_found("subscription")
    return ok({"subscription": serialize_subscription(subscription)})


collection = endpoint({"GET": list_subscriptions, "POST": create})
member = endpoint({"GET": show, "DELETE": terminate})
