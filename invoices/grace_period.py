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
"""
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from audit import log as audit_log

from .models import Invoice


def deadline(customer, billing_date: date, days: int) -> datetime:
    return datetime.combine(billing_date + timedelta(days=days), time.min, tzinfo=customer.tzinfo)


def grace_period_changed(*, actor, customer=None, billing_entity=None, previous_days=None, now=None) -> None:
    if (customer is None) == (billing_entity is None):
        raise ValueError("Pass a customer or a billing entity.")
    now = now or timezone.now()
    if customer is not None:
        old = previous_days if previous_days is not None else customer.billing_entity.invoice_grace_period
        new = customer.effective_grace_period
        drafts = Invoice.objects.filter(customer=customer)
        obj, action, field_value = customer, "customer.grace_period_changed", customer.invoice_grace_period
    else:
        old, new = previous_days or 0, billing_entity.invoice_grace_period
        # Customers with their own value keep their deadlines.
        drafts = Invoice.objects.filter(customer__billing_entity=billing_entity, customer__invoice_grace_period__isnull=True)
        obj, action, field_value = billing_entity, "billing_entity.grace_period_changed", new
    drafts = drafts.drafts().filter(grace_period_ends_at__isnull=False)
    moved = []
    if new != old:
        for invoice in drafts.select_for_update(of=("self",)).select_related("customer__billing_entity"):
            tz = invoice.customer.tzinfo
            local = invoice.grace_period_ends_at.astimezone(tz)
            invoice.grace_period_ends_at = datetime.combine(local.date() + timedelta(days=new - old), local.time(), tzinfo=tz)
            moved.append(invoice)
        Invoice.objects.bulk_update(moved, ["grace_period_ends_at"])
    due = [invoice.pk for invoice in moved if invoice.grace_period_ends_at <= now]
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
