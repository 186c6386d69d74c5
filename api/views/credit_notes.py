"""/credit_notes: create on a finalized invoice, find, list, void the unused balance, download the PDF.

Writes go through credit_notes.services (one transaction, audited with the API key,
credit_note.created webhook, PDF queued after commit); their ValidationError codes
become Lago's 422 error_details, except "nothing left to void" which is Lago's 405.
"""
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse

from credit_notes.models import CreditNote
from credit_notes.serializers import serialize_credit_note
from credit_notes.services import create_credit_note, void_credit_note
from invoices.models import Invoice

from .. import errors
from ..http import endpoint, ok, paginate, query_bool, query_date, query_int, query_list, root
from ..parsing import parse
from ..requests import CreditNoteFields

AMOUNTS = ("credit_amount_cents", "refund_amount_cents", "offset_amount_cents")


def _queryset():
    return CreditNote.objects.select_related("invoice__billing_entity", "customer__billing_entity").prefetch_related("customer__taxes", "customer__metadata")


def _find(credit_note_id) -> CreditNote:
    try:
        note = _queryset().filter(pk=credit_note_id).first()
    except ValidationError:  # not a uuid
        note = None
    if note is None:
        raise errors.not_found("credit_note")
    return note


def _answer(request, note: CreditNote):
    data = serialize_credit_note(_queryset().get(pk=note.pk))
    return ok({"credit_note": data})


def _items(parsed: list) -> list[dict]:
    items = []
    for n, values in enumerate(parsed):
        if not values.get("fee_id"):
            raise errors.validation_error({f"items.{n}.fee_id": "value_is_mandatory"})
        if "amount_cents" not in values:
            raise errors.validation_error({f"items.{n}.amount_cents": "value_is_mandatory"})
        items.append(values)
    return items


def create(request):
    _, data = root(request, "credit_note")
    values = parse(CreditNoteFields, data).given()  # amounts: whole, non-negative minor units
    invoice = None
    if values.get("invoice_id"):
        try:
            invoice = Invoice.objects.visible().filter(pk=values["invoice_id"]).first()
        except ValidationError:
            invoice = None
    if invoice is None:
        raise errors.not_found("invoice")
    if not values.get("reason"):
        raise errors.validation_error({"reason": "value_is_mandatory"})
    note = create_credit_note(
        invoice.pk, request.actor, reason=values["reason"], items=_items(values.get("items") or []),
        description=values.get("description") or "", metadata=values.get("metadata") or {},
        **{field: values.get(field) or 0 for field in AMOUNTS},
    )
    return _answer(request, note)


def list_credit_notes(request):
    """Lago's filters (CreditNotesQuery): every one documented scopes the list; a bad value is a 422."""
    rows = _queryset().order_by("-created_at", "pk")
    if (external_id := request.GET.get("external_customer_id")) is not None:
        rows = rows.filter(customer__external_id=external_id)
    if (day := query_date(request, "issuing_date_from")) is not None:
        rows = rows.filter(issuing_date__gte=day)
    if (day := query_date(request, "issuing_date_to")) is not None:
        rows = rows.filter(issuing_date__lte=day)
    if term := request.GET.get("search_term"):
        rows = rows.filter(Q(number__icontains=term) | Q(id__icontains=term) | Q(customer__name__icontains=term)
                           | Q(customer__external_id__icontains=term) | Q(customer__email__icontains=term))
    if currency := request.GET.get("currency"):
        rows = rows.filter(currency=currency.upper())
    for name, allowed in (("reason", CreditNote.Reason.values), ("credit_status", CreditNote.CreditStatus.values),
                          ("refund_status", CreditNote.RefundStatus.values)):
        if values := query_list(request, name):
            if set(values) - set(allowed):
                raise errors.validation_error({name: "value_is_invalid"})
            rows = rows.filter(**{f"{name}__in": values})
    if number := request.GET.get("invoice_number"):
        rows = rows.filter(invoice__number=number)
    if (low := query_int(request, "amount_from")) is not None:
        rows = rows.filter(total_amount_cents__gte=low)
    if (high := query_int(request, "amount_to")) is not None:
        rows = rows.filter(total_amount_cents__lte=high)
    if query_bool(request, "self_billed"):  # no self-billing here: asking for it finds nothing
        rows = rows.none()
    if codes := query_list(request, "billing_entity_codes"):
        rows = rows.filter(invoice__billing_entity__code__in=codes)
    page, meta = paginate(request, rows)
    return ok({"credit_notes": [serialize_credit_note(note) for note in page], "meta": meta})


def show(request, credit_note_id):
    return _answer(request, _find(credit_note_id))


def void(request, credit_note_id):
    note = _find(credit_note_id)
    try:
        note = void_credit_note(note.pk, request.actor)
    except ValidationError as exc:
        if getattr(exc, "code", None) == "no_voidable_amount":
            raise errors.not_allowed("no_voidable_amount")
        raise
    return _answer(request, note)


def download(request, credit_note_id):
    from credit_notes.pdf import queue_credit_note_pdfs

    note = _find(credit_note_id)
    if not note.pdf_file:
        # As invoices: Lago queues the render and answers an empty 200 until the file exists (the client returns None).
        queue_credit_note_pdfs([note.pk])
        return HttpResponse(status=200, content_type="application/json")
    return _answer(request, note)


collection = endpoint({"GET": list_credit_notes, "POST": create})
member = endpoint({"GET": show})
void_view = endpoint({"PUT": void})
download_view = endpoint({"POST": download})
