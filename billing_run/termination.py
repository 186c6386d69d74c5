"""Terminating a subscription (Lago's Subscriptions::TerminateService): the one place for it.

The subscription becomes `terminated` with its termination date, audited, in one transaction.
Its last period now ends at that date (subscriptions.periods clips it, prorated), so once
committed the final invoice is billed at once, as Lago bills a terminating subscription
right away, by the billing run's own `bill_period`: a later billing run finds it billed.
"""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from subscriptions.models import Subscription


def terminate_subscription(subscription: Subscription, actor: Actor, *, at=None) -> Subscription:
    """Terminate an active subscription at `at` (default now); ValidationError `not_active` otherwise."""
    at = at or timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().select_related("plan", "customer").get(pk=subscription.pk)
        if subscription.status != Subscription.Status.ACTIVE:
            raise ValidationError("Only an active subscription can be terminated.", code="not_active")
        subscription.status = Subscription.Status.TERMINATED
        subscription.terminated_at = max(at, subscription.started_at)
        subscription.full_clean()
        subscription.save(update_fields=["status", "terminated_at", "updated_at"])
        audit_log.record("subscription.terminated", actor, obj=subscription, before={"status": "active"},
                         after={"status": "terminated", "terminated_at": subscription.terminated_at.isoformat()})
        pk = subscription.pk
        transaction.on_commit(lambda: _queue_final_invoice(pk))
    return subscription


def terminate_ended_subscriptions(now=None, actor: Actor | None = None) -> int:
    """Terminate, at their ending_at, the active subscriptions whose ending_at has come (Lago's scheduled end).

    Run before each billing run (billing_run.tasks.run_billing, manage.py run_billing), so the run bills their final period."""
    now = now or timezone.now()
    actor = actor or Actor.system("task")
    ended = list(Subscription.objects.filter(status=Subscription.Status.ACTIVE, ending_at__lte=now).order_by("pk"))
    for subscription in ended:
        terminate_subscription(subscription, actor, at=subscription.ending_at)
    return len(ended)


def _queue_final_invoice(subscription_id) -> None:
    from django_q.tasks import async_task

    async_task("billing_run.termination.bill_final_period", str(subscription_id), task_name=f"terminate-{subscription_id}")


def bill_final_period(subscription_id, now=None) -> list[str]:
    """Bill what a terminated subscription has not been billed for yet, up to its termination."""
    from invoices.models import Invoice
    from subscriptions.periods import periods

    from .billing import bill_period

    now = now or timezone.now()
    subscription = Subscription.objects.select_related("plan", "customer__billing_entity").get(pk=subscription_id)
    if subscription.terminated_at is None:
        return []
    billed = set(Invoice.objects.filter(subscription=subscription).values_list("period_from", flat=True))
    actor = Actor.system("task")
    return [outcome for period in periods(subscription, until=subscription.terminated_at) if period.start not in billed
            for outcome in [bill_period(subscription, period, now=now, actor=actor)] if outcome]
