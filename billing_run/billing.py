"""The billing run: one subscription invoice per (subscription, ended period), never two.

For each ended period without an invoice, in one transaction: lock the subscription row
(concurrent runs queue up), re-check, create the invoice with its fees aggregated from
events in the period, then apply the grace period: > 0 days -> a draft with its deadline
and an invoice.drafted webhook event; 0 -> finalized (or closed if empty) right here, by
the one transition. The unique constraint (subscription, period_from) is the backstop.
"""
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from audit import log as audit_log
from audit.actors import Actor
from invoices.drafts import recompute_draft
from invoices.grace_period import deadline
from invoices.models import Invoice
from invoices.transitions.finalization import finalize_invoices
from invoices.transitions.refresh import create_fees
from subscriptions.fees import compute_fees
from invoices.transitions.refresh import mark_priced
from subscriptions.models import Subscription
from subscriptions.periods import Period, periods
from webhooks import outbox


@dataclass
class RunResult:
    created: int = 0
    drafts: int = 0
    finalized: int = 0
    closed: int = 0
    subscriptions: int = 0  # subscriptions that got at least one invoice


def run_billing(now=None, *, actor: Actor | None = None, on_subscription=None) -> RunResult:
    """Bill every subscription's ended periods. Safe to re-run: billed periods are skipped."""
    now = now or timezone.now()
    actor = actor or Actor.system("task")
    result = RunResult()
    subscriptions = Subscription.objects.select_related("plan", "customer__billing_entity").order_by("pk")
    chunk = []
    for subscription in subscriptions.iterator(chunk_size=500):
        chunk.append(subscription)
        if len(chunk) == 500:
            _bill_chunk(chunk, now, actor, result, on_subscription)
            chunk = []
    _bill_chunk(chunk, now, actor, result, on_subscription)
    return result


def _bill_chunk(subscriptions, now, actor, result: RunResult, on_subscription) -> None:
    # Where each subscription's billing stands: one query per chunk. Periods are walked from the
    # end of the last billed one (a deleted draft is not billed again).
    last_billed = dict(
        Invoice.objects.filter(subscription__in=subscriptions).values("subscription_id")
        .annotate(last=Max("period_to")).values_list("subscription_id", "last")
    )
    for subscription in subscriptions:
        last = last_billed.get(subscription.pk)
        after = last + timedelta(microseconds=1) if last else None
        created_before = result.created
        for period in periods(subscription, until=now, after=after):
            outcome = bill_period(subscription, period, now=now, actor=actor)
            if outcome is not None:
                result.created += 1
                setattr(result, outcome, getattr(result, outcome) + 1)
        result.subscriptions += result.created > created_before
        if on_subscription:
            on_subscription(subscription)


def bill_period(subscription, period: Period, *, now, actor: Actor) -> str | None:
    """Create the invoice of one period; returns "drafts", "finalized", "closed" or None if it existed."""
    try:
        with transaction.atomic():
            list(Subscription.objects.select_for_update().filter(pk=subscription.pk).values_list("pk", flat=True))
            if Invoice.objects.filter(subscription=subscription, period_from=period.start).exists():
                return None
            return _create(subscription, period, now, actor)
    except IntegrityError:  # another run won the race past the lock (should not happen): nothing written
        return None


def _create(subscription, period: Period, now, actor) -> str:
    customer = subscription.customer
    invoice = Invoice.objects.create(
        customer=customer, billing_entity=customer.billing_entity, invoice_type=Invoice.InvoiceType.SUBSCRIPTION,
        currency=subscription.plan.currency, subscription=subscription,
        period_from=period.start, period_to=period.last_instant,
    )
    mark_priced([invoice])  # the watermark is read before the events are aggregated
    create_fees(invoice, compute_fees(invoice))
    grace = customer.effective_grace_period
    if grace > 0:
        billing_date = period.end.astimezone(customer.tzinfo).date()
        invoice.grace_period_ends_at = deadline(customer, billing_date, grace)
        invoice.save(update_fields=["grace_period_ends_at", "updated_at"])
        recompute_draft(invoice)
        audit_log.record("invoice.drafted", actor, invoice=invoice, obj=invoice, before=None, after={
            "period_from": period.start.isoformat(), "period_to": period.last_instant.isoformat(),
            "grace_period_ends_at": invoice.grace_period_ends_at.isoformat(), "fees_amount_cents": invoice.fees_amount_cents,
        })
        outbox.record("invoice.drafted", invoice)
        return "drafts"
    return finalize_invoices([invoice.pk], actor, now=now)[0].result
