"""The grace period: when a subscription draft is finalized by itself.

Deadline rule (README "Billing periods and the grace period"): a draft's
`grace_period_ends_at` is local midnight, in the customer's time zone, at the start of
(billing date + grace days), the billing date being the local day the period ended
(period Jan 1-31, grace 3 -> billed Feb 1, due Feb 4 00:00 local).

    grace_period_changed(*, actor, customer=None, billing_entity=None, previous_days=None, now=None) -> None
Called in the transaction that saved a new grace period on a customer or a billing entity
(admin and API alike): moves the deadlines of the affected drafts by the change in effective
days, and queues, on commit, the finalization of those whose new deadline has passed.
Writes the audit entry for the setting change (finalization writes one per invoice).

    plan_grace_period_change(*, customer=None, billing_entity=None, previous_days=None, now=None, lock=False) -> GracePlan
The same rule without writing: which drafts move and which would be due at once. The admin asks it
before saving (its confirmation step names the count); grace_period_changed applies it.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from audit import log as audit_log

from .models import Invoice


def deadline(customer, billing_date: date, days: int) -> datetime:
    return datetime.combine(billing_date + timedelta(days=days), time.min, tzinfo=customer.tzinfo)


@dataclass
class GracePlan:
    old_days: int
    new_days: int
    moved: list = field(default_factory=list)  # drafts, their grace_period_ends_at set to the new deadline (unsaved)
    due: list = field(default_factory=list)  # pks of the moved drafts whose new deadline has passed: finalized at once


def plan_grace_period_change(*, customer=None, billing_entity=None, previous_days=None, now=None, lock=False) -> GracePlan:
    """`customer` or `billing_entity` carries the new value (saved or not); `previous_days` the stored one."""
    if (customer is None) == (billing_entity is None):
        raise ValueError("Pass a customer or a billing entity.")
    now = now or timezone.now()
    if customer is not None:
        old = previous_days if previous_days is not None else customer.billing_entity.invoice_grace_period
        new = customer.effective_grace_period
        drafts = Invoice.objects.filter(customer=customer)
    else:
        old, new = previous_days or 0, billing_entity.invoice_grace_period
        # Customers with their own value keep their deadlines.
        drafts = Invoice.objects.filter(customer__billing_entity=billing_entity, customer__invoice_grace_period__isnull=True)
    plan = GracePlan(old, new)
    if new == old:
        return plan
    drafts = drafts.drafts().filter(grace_period_ends_at__isnull=False).select_related("customer__billing_entity")
    for invoice in (drafts.select_for_update(of=("self",)) if lock else drafts):
        tz = invoice.customer.tzinfo
        local = invoice.grace_period_ends_at.astimezone(tz)
        invoice.grace_period_ends_at = datetime.combine(local.date() + timedelta(days=new - old), local.time(), tzinfo=tz)
        plan.moved.append(invoice)
    plan.due = [invoice.pk for invoice in plan.moved if invoice.grace_period_ends_at <= now]
    return plan


def grace_period_changed(*, actor, customer=None, billing_entity=None, previous_days=None, now=None) -> None:
    if (customer is None) == (billing_entity is None):
        raise ValueError("Pass a customer or a billing entity.")
    now = now or timezone.now()
    plan = plan_grace_period_change(customer=customer, billing_entity=billing_entity, previous_days=previous_days,
                                    now=now, lock=True)
    old, new, moved, due = plan.old_days, plan.new_days, plan.moved, plan.due
    if moved:
        Invoice.objects.bulk_update(moved, ["grace_period_ends_at"])
    if customer is not None:
        obj, action, field_value = customer, "customer.grace_period_changed", customer.invoice_grace_period
    else:
        obj, action, field_value = billing_entity, "billing_entity.grace_period_changed", new
    audit_log.record(
        action, actor, obj=obj,
        before={"invoice_grace_period": previous_days, "effective_days": old},
        after={"invoice_grace_period": field_value, "effective_days": new, "drafts_moved": len(moved),
               "drafts_now_due": [str(pk) for pk in due]},
    )
    if due:
        transaction.on_commit(lambda: _queue_finalization(due))


def _queue_finalization(invoice_ids) -> None:
    from django_q.tasks import async_task

    async_task("invoices.tasks.finalize_invoice_ids", [str(pk) for pk in invoice_ids])
