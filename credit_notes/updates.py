"""Updating a credit note (Lago's PUT /credit_notes/{id}): its refund status and its metadata, audited."""
from django.db import transaction

from audit import log as audit_log
from audit.actors import Actor
from core.errors import field_error

from .models import CreditNote

UNSET = object()


def update_credit_note(credit_note_id, actor: Actor, *, refund_status=UNSET, metadata=UNSET) -> CreditNote:
    """`metadata` replaces the map (string or null values); nothing changes (and nothing is audited) if equal."""
    with transaction.atomic():
        note = CreditNote.objects.select_for_update(of=("self",)).select_related("invoice").get(pk=credit_note_id)
        before, after = {}, {}
        if refund_status is not UNSET:
            if refund_status not in CreditNote.RefundStatus.values:
                raise field_error("refund_status", f"Choose one of: {', '.join(CreditNote.RefundStatus.values)}.", "value_is_invalid")
            if refund_status != note.refund_status:
                before["refund_status"], after["refund_status"] = note.refund_status, refund_status
                note.refund_status = refund_status
        if metadata is not UNSET:
            metadata = metadata or {}
            if metadata != (note.metadata or {}):
                before["metadata"], after["metadata"] = note.metadata or {}, metadata
                note.metadata = metadata
        if after:
            note.save(update_fields=[*after, "updated_at"])
            audit_log.record("credit_note.updated", actor, invoice=note.invoice, obj=note, before=before, after=after)
        return note
