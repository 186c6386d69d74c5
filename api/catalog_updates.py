"""Updates and deletes the API makes to subscriptions, billable metrics and plans (issue 10), as Lago does them.

Each is one transaction with its audit entry (actor = the API key); a refusal rolls everything back.

- update_subscription: name; ending_at (the billing run terminates the subscription then; null renews
  forever); subscription_at only while the subscription has not started (Lago's pending ones), else ignored.
- update_billable_metric: while no plan charges it, every field; once charged, only name and description
  (Lago's BillableMetrics::UpdateService).
- delete_billable_metric: soft delete of the metric and of the charges on it (Lago discards both), and
  the drafts billing it are refreshed so they stop billing it.
- delete_plan: Lago's Plans::DestroyService: active subscriptions are terminated now and their final
  period billed (before the charges go), the plan's drafts are finalized, then the plan and its charges
  are soft deleted. Invoices already issued keep their fees.
"""
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import log as audit_log
from invoices.models import Invoice
from plans.models import BillableMetric, Charge, Plan
from subscriptions.models import Subscription

from . import errors
from .catalog import _snapshot
from .services import _apply, _full_clean

METRIC_FIELDS_WHEN_CHARGED = {"name", "description"}


# --- subscriptions ---------------------------------------------------------------------------

def update_subscription(subscription: Subscription, values: dict, actor, *, now=None) -> Subscription:
    """`values`: name, ending_at (aware or None), subscription_at (aware)."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().select_related("plan", "customer").get(pk=subscription.pk)
        changes = {}
        if "name" in values:
            changes["name"] = values["name"] or ""
        starts = subscription.started_at
        if values.get("subscription_at") is not None and subscription.started_at > now and not subscription.invoices.exists():
            changes["started_at"] = starts = values["subscription_at"]
        if "ending_at" in values:
            ending_at = values["ending_at"]
            if ending_at is not None and ending_at <= max(now, starts):
                raise errors.validation_error({"ending_at": "invalid_date"})
            changes["ending_at"] = ending_at
        before, after = _apply(subscription, changes)
        if after:
            _full_clean(subscription)
            subscription.save()
            audit_log.record("subscription.updated", actor, obj=subscription, before=_snapshot(before), after=_snapshot(after))
    return subscription


# --- billable metrics ------------------------------------------------------------------------

def update_billable_metric(metric: BillableMetric, values: dict, actor) -> BillableMetric:
    try:
        with transaction.atomic():
            metric = BillableMetric.objects.select_for_update().get(pk=metric.pk)
            if Charge.objects.filter(billable_metric=metric).exists():
                values = {k: v for k, v in values.items() if k in METRIC_FIELDS_WHEN_CHARGED}
            before, after = _apply(metric, values)
            if after:
                _full_clean(metric)
                metric.save()
                audit_log.record("billable_metric.updated", actor, obj=metric, before=_snapshot(before), after=_snapshot(after))
    except IntegrityError:
        raise errors.validation_error({"code": "value_already_exist"})
    return metric


def delete_billable_metric(metric: BillableMetric, actor, *, now=None) -> BillableMetric:
    from invoices.transitions.refresh import refresh_draft

    now = now or timezone.now()
    with transaction.atomic():
        metric = BillableMetric.objects.select_for_update().get(pk=metric.pk)
        charges = list(Charge.objects.filter(billable_metric=metric).select_related("plan"))
        drafts = list(Invoice.objects.filter(status=Invoice.Status.DRAFT, subscription__plan__in={c.plan_id for c in charges})
                      .values_list("pk", flat=True))
        metric.deleted_at = now
        metric.save(update_fields=["deleted_at", "updated_at"])
        Charge.objects.filter(pk__in=[c.pk for c in charges]).update(deleted_at=now, updated_at=now)
        audit_log.record("billable_metric.deleted", actor, obj=metric, before=None, after={
            "deleted_at": now.isoformat(), "charges": [{"id": str(c.pk), "plan_code": c.plan.code} for c in charges],
            "refreshed_drafts": [str(pk) for pk in drafts]})
        for pk in drafts:  # Lago refreshes them so they stop billing the metric
            refresh_draft(pk, actor, now=now)
    return metric


# --- plans -----------------------------------------------------------------------------------

def delete_plan(plan: Plan, actor, *, now=None) -> Plan:
    from invoices.transitions.finalization import finalize_invoices
    from billing_run.termination import bill_final_period, terminate_subscription

    now = now or timezone.now()
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        terminated = []
        for subscription in Subscription.objects.filter(plan=plan, status=Subscription.Status.ACTIVE).order_by("pk"):
            terminate_subscription(subscription, actor, at=now)
            bill_final_period(subscription.pk, now=now)  # while the charges exist (the after-commit task then finds it billed)
            terminated.append(subscription.external_id)
        drafts = list(Invoice.objects.filter(status=Invoice.Status.DRAFT, subscription__plan=plan).order_by("pk").values_list("pk", flat=True))
        outcomes = finalize_invoices(drafts, actor, now=now) if drafts else []
        charges = list(Charge.objects.filter(plan=plan).values_list("pk", flat=True))
        Charge.objects.filter(pk__in=charges).update(deleted_at=now, updated_at=now)
        plan.deleted_at = now
        plan.save(update_fields=["deleted_at", "updated_at"])
        audit_log.record("plan.deleted", actor, obj=plan, before=None, after={
            "deleted_at": now.isoformat(), "terminated_subscriptions": terminated,
            "finalized_drafts": {str(o.invoice_id): o.result for o in outcomes}, "charges": [str(pk) for pk in charges]})
    return plan
