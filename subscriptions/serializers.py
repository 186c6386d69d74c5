"""Lago's SubscriptionObject (the API's answers, and invoices' `subscriptions`)."""
from datetime import timedelta

from django.utils import timezone

from core.serialization import iso_datetime

from .models import Subscription
from .periods import local_midnight, next_boundary, previous_boundary


def current_billing_period(subscription: Subscription, now=None):
    """(start, end) of the period running at `now`, in the customer's time zone; None when the
    subscription has not started yet or is terminated."""
    now = now or timezone.now()
    if subscription.terminated_at is not None or subscription.started_at > now:
        return None
    tz = subscription.customer.tzinfo
    plan = subscription.plan
    anchor = subscription.started_at.astimezone(tz).date()
    start_day = max(previous_boundary(now.astimezone(tz).date(), plan.interval, subscription.billing_time, anchor), anchor)
    end_day = next_boundary(start_day, plan.interval, subscription.billing_time, anchor)
    return local_midnight(start_day, tz), local_midnight(end_day, tz)


def serialize_subscription(subscription: Subscription) -> dict:
    plan, customer = subscription.plan, subscription.customer
    period = current_billing_period(subscription)
    return {
        "lago_id": str(subscription.pk),
        "external_id": subscription.external_id,
        "lago_customer_id": str(customer.pk),
        "external_customer_id": customer.external_id,
        "billing_entity_code": customer.billing_entity.code,
        "name": subscription.name or None,
        "plan_code": plan.code,
        "plan_amount_cents": plan.amount_cents,
        "plan_amount_currency": plan.currency,
        "status": subscription.status,
        "billing_time": subscription.billing_time,
        "subscription_at": iso_datetime(subscription.started_at),
        "started_at": iso_datetime(subscription.started_at),
        "trial_ended_at": None,
        "terminated_at": iso_datetime(subscription.terminated_at),
        "canceled_at": None,
        "ending_at": iso_datetime(subscription.ending_at),
        "previous_plan_code": None,
        "next_plan_code": None,
        "downgrade_plan_date": None,
        "current_billing_period_started_at": iso_datetime(period[0]) if period else None,
        # Inclusive, as Lago: the last second of the period.
        "current_billing_period_ending_at": iso_datetime(period[1] - timedelta(seconds=1)) if period else None,
        # Termination bills the final period (billing_run/termination.py) and makes no credit note.
        "on_termination_credit_note": "skip",
        "on_termination_invoice": "generate",
        "created_at": iso_datetime(subscription.created_at),
    }
