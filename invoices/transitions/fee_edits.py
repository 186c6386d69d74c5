"""Editing the fees of a draft invoice (seed 002): display name, total units, total amount, add, remove.

Each edit locks the invoice, refuses anything but a draft, recomputes the
draft's totals and writes an audit entry with the fee's before/after values,
all in one transaction.

Upstream mode: `lock_draft` asks the FEE_EDIT delegate (transitions/delegation.py;
upstream/operations.py), which refuses every edit of a mirror: Lago has no REST call for adjusted
fees (seed 002), and a mirror is never edited alone.
"""
import copy
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from audit import log as audit_log
from audit.actors import Actor
from core.money import MinorUnitsError, parse_minor_units, round_cents, to_decimal
from core.serialization import plain_decimal

from . import delegation
from ..drafts import recompute_draft
from ..models import Fee, FeeTax, Invoice, InvoiceLocked

FEE_FIELDS = ["invoice_display_name", "units", "unit_amount_cents", "amount_cents", "adjustment"]


def lock_draft(invoice_id) -> Invoice:
    """The invoice row, locked; InvoiceLocked unless it is a draft."""
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer__billing_entity", "billing_entity").get(pk=invoice_id)
    if invoice.status != Invoice.Status.DRAFT:
        raise InvoiceLocked(f"Invoice {invoice.number} is {invoice.status}: only drafts can be edited.", code="invoice_not_draft")
    if (upstream := delegation.delegated(delegation.FEE_EDIT)) is not None:
        upstream(invoice)  # raises InvoiceLocked for a mirror
    invoice.priced_at = None  # an operator's edit: finalization re-prices (saved by recompute_draft)
    return invoice


def update_fee(fee_id, actor: Actor, *, invoice_display_name=None, adjustment=None, units=None, amount_cents=None) -> Fee:
    """Adjust one fee of a draft.

    adjustment="total_units": `units` replaces the unit count and the amount is
    re-priced from them (units x unit price; charges price through their model).
    adjustment="total_amount": `amount_cents` overrides the amount (and `units`, if given, the count).
    A display name alone changes nothing else.
    """
    with transaction.atomic():
        invoice_id = Fee.objects.filter(pk=fee_id).values_list("invoice_id", flat=True).first()
        if invoice_id is None:
            raise ValidationError("That fee does not exist.", code="fee_not_found")
        invoice = lock_draft(invoice_id)
        fee = Fee.objects.get(pk=fee_id)
        before = snapshot(fee)
        if invoice_display_name is not None:
            fee.invoice_display_name = invoice_display_name.strip()
        _apply_adjustment(fee, adjustment, units, amount_cents)
        fee.save()
        recompute_draft(invoice)
        fee.refresh_from_db(fields=["taxes_amount_cents"])  # the recompute wrote the fee's taxes: the "after" snapshot shows them
        audit_log.record("fee.updated", actor, invoice=invoice, obj=fee, before=before, after=snapshot(fee))
        return fee


def add_fee(invoice_id, actor: Actor, *, kind=Fee.Kind.CHARGE, invoice_display_name="", description="", adjustment=Fee.Adjustment.TOTAL_UNITS,
            units=None, unit_amount_cents=0, amount_cents=None, from_datetime=None, to_datetime=None, taxes=None, **extra) -> Fee:
    """Add a fee to a draft (seed 002, "Add a fee"). Taxes default to the customer's applicable taxes."""
    with transaction.atomic():
        invoice = lock_draft(invoice_id)
        fee = Fee(
            invoice=invoice, kind=kind, invoice_display_name=(invoice_display_name or "").strip(), description=description,
            unit_amount_cents=_non_negative_int(unit_amount_cents, "unit_amount_cents"),
            precise_unit_amount=Decimal(_non_negative_int(unit_amount_cents, "unit_amount_cents")),
            from_datetime=from_datetime or invoice.period_from, to_datetime=to_datetime or invoice.period_to,
            position=invoice.fees.count(), **extra,
        )
        _apply_adjustment(fee, adjustment, units, amount_cents)
        fee.save()
        attach_taxes(fee, taxes if taxes is not None else invoice.customer.applicable_taxes())
        recompute_draft(invoice)
        fee.refresh_from_db(fields=["taxes_amount_cents"])  # the recompute wrote the fee's taxes: the "after" snapshot shows them
        audit_log.record("fee.created", actor, invoice=invoice, obj=fee, before=None, after=snapshot(fee))
        return fee


def remove_fee(fee_id, actor: Actor) -> None:
    with transaction.atomic():
        invoice_id = Fee.objects.filter(pk=fee_id).values_list("invoice_id", flat=True).first()
        if invoice_id is None:
            raise ValidationError("That fee does not exist.", code="fee_not_found")
        invoice = lock_draft(invoice_id)
        fee = Fee.objects.get(pk=fee_id)
        before = snapshot(fee)
        fee.delete()
        recompute_draft(invoice)
        audit_log.record("fee.deleted", actor, invoice=invoice, obj=fee, before=before, after=None)


def attach_taxes(fee: Fee, taxes) -> None:
    attach_taxes_many([(fee, taxes)])


def attach_taxes_many(items) -> dict:
    """Snapshot each (fee, taxes) pair's taxes onto its fee in one INSERT; returns {fee: [FeeTax]}."""
    applied = {fee: [FeeTax(fee=fee, tax=tax, tax_code=tax.code, tax_name=tax.name, tax_rate=tax.rate) for tax in taxes] for fee, taxes in items}
    FeeTax.objects.bulk_create([row for rows in applied.values() for row in rows])
    return applied


def price_units(fee: Fee, units: Decimal) -> int:
    """The amount of `units` of this fee: a charge's pricing model (tiers, packages...), else
    units x unit price, rounded half away from zero."""
    if fee.charge_id is not None:
        from plans.pricing import price_cents

        properties = fee.charge_filter.properties if fee.charge_filter_id else fee.charge.properties
        return price_cents(fee.charge.charge_model, properties, units, fee.invoice.currency)
    return round_cents(units * fee.precise_unit_amount) if fee.precise_unit_amount else round_cents(units * fee.unit_amount_cents)


def validate_adjustment(fee: Fee, adjustment, units=None, amount_cents=None) -> None:
    """Raise the ValidationError update_fee / add_fee would raise for these values, changing nothing
    (the admin's fee form validates with it, so a refusal is a form error rather than a failed save)."""
    _apply_adjustment(copy.copy(fee), adjustment, units, amount_cents)


def _apply_adjustment(fee: Fee, adjustment, units, amount_cents) -> None:
    if adjustment in (None, "", Fee.Adjustment.NONE):
        if units is not None or amount_cents is not None:
            raise ValidationError("Choose Total units or Total amount to change the figures.", code="adjustment_required")
        return
    if adjustment == Fee.Adjustment.TOTAL_UNITS:
        if units is None:
            raise ValidationError({"units": "Enter the total units."}, code="required")
        fee.units = _non_negative_decimal(units, "units")
        fee.amount_cents = price_units(fee, fee.units)
        fee.precise_amount_cents = Decimal(fee.amount_cents)
    elif adjustment == Fee.Adjustment.TOTAL_AMOUNT:
        if amount_cents is None:
            raise ValidationError({"amount_cents": "Enter the total amount."}, code="required")
        fee.amount_cents = _non_negative_int(amount_cents, "amount_cents")
        fee.precise_amount_cents = Decimal(fee.amount_cents)
        if units is not None:
            fee.units = _non_negative_decimal(units, "units")
        if fee.units:
            fee.precise_unit_amount = Decimal(fee.amount_cents) / fee.units
            fee.unit_amount_cents = round_cents(fee.precise_unit_amount)
    else:
        raise ValidationError({"adjustment": f"Unknown adjustment {adjustment!r}."}, code="invalid_value")
    fee.adjustment = adjustment


def _non_negative_decimal(value, field) -> Decimal:
    try:
        number = to_decimal(value)
    except ValidationError:
        raise ValidationError({field: f"{value!r} is not a number."}, code="invalid_number")
    if number < 0:
        raise ValidationError({field: "Must not be negative."}, code="value_is_out_of_range")
    return number


def _non_negative_int(value, field) -> int:
    try:
        return parse_minor_units(value)
    except MinorUnitsError as exc:
        if exc.reason == "not_a_number":
            raise ValidationError({field: f"{value!r} is not a number."}, code="invalid_number")
        if exc.reason == "negative":
            raise ValidationError({field: "Must not be negative."}, code="value_is_out_of_range")
        raise ValidationError({field: "Must be a whole number of minor units."}, code="invalid_value")


def snapshot(fee: Fee) -> dict:
    return {
        "fee_id": str(fee.pk),
        "display_name": fee.display_name,
        "invoice_display_name": fee.invoice_display_name,
        "units": plain_decimal(fee.units),
        "unit_amount_cents": fee.unit_amount_cents,
        "amount_cents": fee.amount_cents,
        "taxes_amount_cents": fee.taxes_amount_cents,
        "adjustment": fee.adjustment,
    }
