"""Refreshing a draft: re-aggregate usage within its billing period, keeping operator adjustments.

    refresh_draft(invoice_id, actor, *, now=None) -> Invoice
Locks the invoice; a non-draft is returned unchanged; a non-subscription invoice is refused
(ValidationError with code "feature_unavailable").

The operator's adjustments live on the fees themselves (seed 002): a fee whose
`adjustment` is total_units or total_amount keeps its figures (total units are
re-priced by the charge model), and an `invoice_display_name` set by the operator
stays; generated fees carry their name in `description`. Fees are matched to the
freshly computed ones by (subscription) or (charge, filter). Usage is aggregated by
event timestamp within [period_from, period_to]: a late event inside the period shows
up, an event after it is left for the next invoice.

Upstream mode: `refresh_draft` hands over to the REFRESH delegate (transitions/delegation.py;
upstream/operations.py: Lago's PUT /invoices/{id}/refresh, its answer mirrored).
"""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from audit import log as audit_log
from core.money import round_cents
from core.prepared import Prepared
from plans.models import Charge

from core.bulk import bulk_update
from . import delegation
from ..drafts import recompute_draft
from ..models import Fee, Invoice


def refresh_draft(invoice_id, actor, *, now=None) -> Invoice:
    if (upstream := delegation.delegated(delegation.REFRESH)) is not None:
        return delegation.hand_over(upstream, invoice_id, actor, now=now)
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("customer__billing_entity", "billing_entity", "subscription__plan")
            .filter(pk=invoice_id).first()
        )
        if invoice is None:
            raise ValidationError("That invoice does not exist.", code="invoice_not_found")
        if invoice.status != Invoice.Status.DRAFT:
            return invoice
        if invoice.subscription_id is None:
            raise ValidationError("Only subscription invoices can be refreshed.", code="feature_unavailable")
        before = _summary(invoice)
        refresh_locked(invoice)  # sets the usage watermark, saved with the totals
        recompute_draft(invoice)
        audit_log.record("invoice.refreshed", actor, invoice=invoice, obj=invoice, before=before, after=_summary(invoice))
        return invoice


def refresh_locked(invoice) -> None:
    """Recompute the fees of an already locked draft in place (called by finalization before totals).

    One-off and other non-subscription invoices have nothing to refresh.
    """
    refresh_locked_many([invoice])


def refresh_locked_many(invoices, fees_by_invoice: dict | None = None, *, skip_unchanged: bool = False,
                        repriced: set | None = None, charges: dict | None = None) -> set:
    """refresh_locked for a batch of locked invoices, with a handful of queries for the whole batch.

    `fees_by_invoice` (invoice pk -> fees) spares loading the fees again; they are updated in
    place. Returns the pks of invoices that gained or lost fees (their list must be reloaded).
    With `skip_unchanged` (finalization), a draft priced since the last change of its usage and
    of its pricing (`is_priced_and_unchanged`) is left as it is: re-pricing it would give the same fees.
    `repriced`, if given, receives the pks of the drafts that were priced again (their fees' figures
    are the computed ones, in memory); `charges` the charges the check read (`priced_and_unchanged`).
    """
    from plans.pricing import price
    from subscriptions.fees import compute_fees_many, fee_key
    from subscriptions.models import Subscription

    invoices = [i for i in invoices if i.subscription_id is not None and i.status == Invoice.Status.DRAFT]
    if not invoices:
        return set()
    missing = {i.subscription_id for i in invoices if not Invoice.subscription.is_cached(i)}
    if missing:
        loaded = Subscription.objects.select_related("plan").in_bulk(missing)
        for invoice in invoices:
            if invoice.subscription_id in loaded:
                invoice.subscription = loaded[invoice.subscription_id]
    if skip_unchanged:
        unchanged = priced_and_unchanged(invoices, charges)
        invoices = [i for i in invoices if i.pk not in unchanged]
        if not invoices:
            return set()
    if repriced is not None:
        repriced.update(i.pk for i in invoices)
    mark_priced(invoices)  # before the aggregation: an event committed after it moves the version again
    specs_by_invoice = compute_fees_many(invoices)
    if fees_by_invoice is None:
        fees_by_invoice = {}
        for fee in Fee.objects.filter(invoice_id__in=[i.pk for i in invoices]):
            fees_by_invoice.setdefault(fee.invoice_id, []).append(fee)
    updated, deleted, changed = [], [], set()
    for invoice in invoices:
        specs = {spec.key: spec for spec in specs_by_invoice[invoice.pk]}
        for fee in fees_by_invoice.get(invoice.pk, []):
            key = fee_key(fee)
            if key is None:
                continue
            spec = specs.pop(key, None)
            if fee.adjustment == Fee.Adjustment.TOTAL_AMOUNT:
                continue  # the operator's amount stands
            if fee.adjustment == Fee.Adjustment.TOTAL_UNITS:
                if fee.charge_id:
                    properties = fee.charge_filter.properties if fee.charge_filter_id else fee.charge.properties
                    result = price(fee.charge.charge_model, properties, fee.units, invoice.currency)
                    _set_figures(fee, fee.units, result.amount_cents, result.precise_amount_cents, 0)
                    updated.append(fee)
                continue
            if spec is None:
                if fee.invoice_display_name:  # renamed by the operator: kept, at zero
                    _set_figures(fee, Decimal(0), 0, Decimal(0), 0)
                    updated.append(fee)
                else:
                    deleted.append(fee.pk)
                    changed.add(invoice.pk)
                continue
            if _unchanged(fee, spec):
                continue
            _set_figures(fee, spec.units, spec.amount_cents, spec.precise_amount_cents, spec.events_count)
            fee.description = spec.description
            updated.append(fee)
        if specs:
            create_fees(invoice, list(specs.values()))
            changed.add(invoice.pk)
    if deleted:
        Fee.objects.filter(pk__in=deleted).delete()  # the invoice rows are locked and drafts
    bulk_update(updated, [
        "units", "amount_cents", "precise_amount_cents", "unit_amount_cents", "precise_unit_amount",
        "events_count", "description",
    ])
    return changed


REPRICED = {"count": 0}  # drafts re-priced from their events by finalization or refresh (tests and benches read it)


def mark_priced(invoices) -> None:
    """Stamp subscription drafts about to be priced with the usage watermark (saved with their totals)."""
    from django.utils import timezone

    from usage import watermark

    versions = watermark.versions(i.subscription.external_id for i in invoices)
    now = timezone.now()
    for invoice in invoices:
        invoice.priced_at = now
        invoice.priced_usage_version = versions[invoice.subscription.external_id]
    REPRICED["count"] += len(invoices)


def _with_metrics(charges):
    return charges.select_related("billable_metric")


_CHARGES_OF_PLAN = Prepared(lambda plan_id: _with_metrics(Charge.objects.filter(plan_id=plan_id)), Charge._meta.get_field("plan"))


def priced_and_unchanged(invoices, charges: dict | None = None) -> set:
    """The pks of drafts whose fees already are what a re-pricing would compute.

    A draft qualifies when it was priced (`priced_at`) at the current usage watermark of its
    subscription, and nothing the pricing reads changed since: the plan, the subscription, the
    customer (its time zone decides the period), the plan's charges and their metrics (a filter is
    edited through its charge, which bumps the charge). Taxes are not re-read by a refresh, and an
    operator's fee edit clears `priced_at`. One query for the watermarks, one for the charges;
    `charges`, if given, receives those charges ({pk: Charge}, with their billable metrics).
    """
    from plans.models import Charge
    from usage import watermark

    candidates = [
        i for i in invoices
        if i.priced_at is not None and i.priced_usage_version is not None
        and max(i.subscription.plan.updated_at, i.subscription.updated_at, i.customer.updated_at) <= i.priced_at
    ]
    if not candidates:
        return set()
    versions = watermark.versions(i.subscription.external_id for i in candidates)
    candidates = [i for i in candidates if versions[i.subscription.external_id] == i.priced_usage_version]
    if not candidates:
        return set()
    latest: dict = {}
    plan_ids = {i.subscription.plan_id for i in candidates}
    if len(plan_ids) == 1:  # one plan's (nearly always, finalizing one invoice): the statement compiled once
        read = _CHARGES_OF_PLAN.rows(*plan_ids)
    else:
        read = _with_metrics(Charge.objects.filter(plan_id__in=plan_ids))
    for charge in read:
        changed = max(charge.updated_at, charge.billable_metric.updated_at)
        latest[charge.plan_id] = max(latest.get(charge.plan_id, changed), changed)
        if charges is not None:
            charges[charge.pk] = charge
    return {i.pk for i in candidates if latest.get(i.subscription.plan_id, i.priced_at) <= i.priced_at}


def _unchanged(fee, spec) -> bool:
    # from/to follow from the invoice's stored period, which a refresh never moves.
    return (
        fee.units == spec.units and fee.amount_cents == spec.amount_cents and fee.events_count == spec.events_count
        and fee.precise_amount_cents == spec.precise_amount_cents and fee.description == spec.description
    )


def create_fees(invoice, specs) -> list[Fee]:
    """Store computed fees on a locked draft, with the customer's applicable taxes."""
    from ..models import FeeTax

    position = invoice.fees.count()
    fees = []
    for offset, spec in enumerate(specs):
        fee = Fee(
            invoice=invoice, kind=spec.kind, description=spec.description, subscription_id=invoice.subscription_id,
            charge=spec.charge, charge_filter=spec.charge_filter, from_datetime=spec.from_datetime,
            to_datetime=spec.to_datetime, position=position + offset,
        )
        _set_figures(fee, spec.units, spec.amount_cents, spec.precise_amount_cents, spec.events_count)
        fees.append(fee)
    Fee.objects.bulk_create(fees)
    taxes = invoice.customer.applicable_taxes()
    FeeTax.objects.bulk_create(
        FeeTax(fee=fee, tax=tax, tax_code=tax.code, tax_name=tax.name, tax_rate=tax.rate) for fee in fees for tax in taxes
    )
    return fees


def _set_figures(fee, units, amount_cents, precise_amount_cents, events_count) -> None:
    fee.units = units
    fee.amount_cents = amount_cents
    fee.precise_amount_cents = precise_amount_cents
    fee.precise_unit_amount = (Decimal(precise_amount_cents) / units) if units else Decimal(0)
    fee.unit_amount_cents = round_cents(fee.precise_unit_amount)
    fee.events_count = events_count


def _summary(invoice) -> dict:
    return {
        "fees_amount_cents": invoice.fees_amount_cents,
        "total_amount_cents": invoice.total_amount_cents,
        "fees": invoice.fees.count(),
    }
