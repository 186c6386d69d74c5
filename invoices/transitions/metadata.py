"""Invoice metadata ({key, value} pairs an integrator attaches to a finalized invoice).

Lago's Invoices::Metadata::UpdateService: items with an `id` update that entry, items
without one are added, entries left out are removed. Drafts and voided invoices refuse it.
"""
import uuid

from django.db import transaction
from django.utils import timezone

from audit import log as audit_log

from ..models import Invoice, InvoiceLocked


def update_metadata(invoice: Invoice, items: list[dict], actor) -> Invoice:
    """`items`: [{"id"?: str, "key": str, "value": str}], already type-checked by the caller."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status == Invoice.Status.DRAFT:
            raise InvoiceLocked("Metadata is added once the invoice is finalized.", code="metadata_on_draft_invoice")
        if invoice.status == Invoice.Status.VOIDED:
            raise InvoiceLocked("A voided invoice cannot change.", code="update_on_voided_invoice")
        now = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        existing = {entry["lago_id"]: entry for entry in invoice.metadata or []}
        new = []
        for item in items:
            entry = existing.get(item.get("id") or "")
            if entry is None:
                entry = {"lago_id": str(uuid.uuid4()), "created_at": now}
            new.append({**entry, "key": item["key"], "value": item["value"]})
        before = invoice.metadata
        invoice.metadata = new
        invoice.save(update_fields=["metadata", "updated_at"])
        audit_log.record("invoice.metadata_updated", actor, invoice=invoice, obj=invoice, before={"metadata": before},
                         after={"metadata": new})
    return invoice
