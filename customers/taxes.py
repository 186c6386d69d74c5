"""Taxes: create, update, delete. The admin (customers/admin.py TaxAdmin) and /api/v1/taxes both go through here.

Each write is one transaction with its audit entry. What a change does to invoices, as Lago:
- finalized (and voided) invoices keep their snapshot (FeeTax / InvoiceTax rows hold the code, name and
  rate of the day); deleting a tax detaches it from them (`tax` becomes NULL, the snapshot stays);
- drafts follow the tax at once: Lago flags them `ready_to_be_refreshed`, here their fees' tax lines are
  rewritten (new rate and name) or, on delete, removed, and the draft's totals recomputed
  (invoices.drafts.recompute_draft) in the same transaction; a draft that did not carry the tax is untouched;
- deleting also removes the tax from customers, billing entities and add-ons (their many-to-many links).
The tax row itself is deleted (Lago soft-deletes it): its code can be used again.
"""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit import log as audit_log

from .models import Tax

FIELDS = ("name", "code", "rate", "description")


def snapshot(tax: Tax) -> dict:
    return {"code": tax.code, "name": tax.name, "rate": format(tax.rate.normalize(), "f"), "description": tax.description}


def _clean(tax: Tax) -> None:
    tax.full_clean(validate_unique=True)


def create_tax(values: dict, actor) -> Tax:
    try:
        with transaction.atomic():
            tax = Tax(**{k: v for k, v in values.items() if k in FIELDS})
            _clean(tax)
            tax.save()
            audit_log.record("tax.created", actor, obj=tax, after=snapshot(tax))
    except IntegrityError:  # the same code created concurrently, after full_clean's check
        raise ValidationError({"code": ValidationError("Tax with this code already exists.", code="unique")})
    return tax


def update_tax(tax: Tax, values: dict, actor) -> Tax:
    try:
        with transaction.atomic():
            tax = Tax.objects.select_for_update().get(pk=tax.pk)
            before = snapshot(tax)
            for field, value in values.items():
                if field in FIELDS:
                    setattr(tax, field, value)
            _clean(tax)
            if snapshot(tax) != before:
                tax.save()
                audit_log.record("tax.updated", actor, obj=tax, before=before, after=snapshot(tax))
                _restate_drafts(tax, actor, deleted=False)
    except IntegrityError:
        raise ValidationError({"code": ValidationError("Tax with this code already exists.", code="unique")})
    return tax


def delete_tax(tax: Tax, actor) -> Tax:
    """Delete the tax; returns the (unsaved) object as it was, for the answer."""
    with transaction.atomic():
        tax = Tax.objects.select_for_update().get(pk=tax.pk)
        before = snapshot(tax)
        _restate_drafts(tax, actor, deleted=True)
        audit_log.record("tax.deleted", actor, obj=tax, before=before)
        pk = tax.pk
        tax.delete()  # FeeTax / InvoiceTax.tax SET NULL; M2M links go with it
        tax.pk = pk
    return tax


def _restate_drafts(tax: Tax, actor, *, deleted: bool) -> None:
    """Drafts carrying `tax` on a fee: rewrite (or drop) those tax lines and recompute the draft."""
    from invoices.drafts import recompute_draft
    from invoices.models import FeeTax, Invoice

    ids = FeeTax.objects.filter(tax=tax, fee__invoice__status=Invoice.Status.DRAFT).values_list("fee__invoice_id", flat=True)
    drafts = Invoice.objects.select_for_update().filter(pk__in=list(ids), status=Invoice.Status.DRAFT).order_by("pk")
    for invoice in drafts:
        lines = FeeTax.objects.filter(tax=tax, fee__invoice=invoice)
        if deleted:
            lines.delete()
        else:
            lines.update(tax_code=tax.code, tax_name=tax.name, tax_rate=tax.rate)
        recompute_draft(invoice)
        audit_log.record("invoice.taxes_restated", actor, invoice=invoice, obj=invoice,
                         after={"tax": tax.code, "tax_deleted": deleted, "taxes_amount_cents": invoice.taxes_amount_cents})
