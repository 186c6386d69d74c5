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
"""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from audit import log as audit_log

from .models import Fee, Invoice


def refresh_draft(invoice_id, actor, *, now=None) -> Invoice:
    from .fee_edits import recompute_draft

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
        refresh_locked(invoice)
        recompute_draft(invoice)
        audit_log.record("invoice.refreshed", actor, invoice=invoice, obj=invoice, before=before, after=_summary(invoice))
        return invoice


def refresh_locked(invoice, *, charges=None) -> None:
    """Recompute the fees of an already locked draft in place (called by finalization before totals).

    One-off and other non-subscription invoices have nothing to refresh. `charges` lets a
    batch caller pass the plan's charges it already loaded.
    """
    if invoice.subscription_id is None or invoice.status != Invoice.Status.DRAFT:
        return
    from plans.pricing import price
    from subscriptions.fees import compute_fees, fee_key

    specs = {spec.key: spec for spec in compute_fees(invoice, charges)}
    updated, deleted = [], []
    for fee in list(invoice.fees.all()):
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
            continue
        _set_figures(fee, spec.units, spec.amount_cents, spec.precise_amount_cents, spec.events_count)
        fee.description = spec.description
        fee.from_datetime, fee.to_datetime = spec.from_datetime, spec.to_datetime
        updated.append(fee)
    if deleted:
        Fee.objects.filter(pk__in=deleted).delete()  # the invoice row is locked and a draft
    if updated:
        Fee.objects.bulk_update(updated, [
            "units", "amount_cents", "precise_amount_cents", "unit_amount_cents", "precise_unit_amount",
            "events_count", "description", "from_datetime", "to_datetime",
        ])
    if specs:
        create_fees(invoice, list(specs.values()))


def create_fees(invoice, specs) -> list[Fee]:
    """Store computed fees on a locked draft, with the customer's applicable taxes."""
    from .models import FeeTax

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
    fee.unit_amount_cents = int(fee.precise_unit_amount.to_integral_value(rounding="ROUND_HALF_UP"))
    fee.events_count = events_count


def _summary(invoice) -> dict:
    return {
        "fees_amount_cents": invoice.fees_amount_cents,
        "total_amount_cents": invoice.total_amount_cents,
        "fees": invoice.fees.count(),
    }
