"""/invoices: list with Lago's filters, find, update (payment status, metadata), finalize,
delete drafts, download, and the one-off / void / refresh actions of later issues.

Every state change goes through its service in invoices/; views only parse and map
outcomes onto Lago's status codes.
"""
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Prefetch, Q
from django.http import HttpResponse

from addons.models import AddOn
from customers.models import Customer
from invoices.transitions import deletion, metadata, payments
from invoices.transitions.delegation import UpstreamFailed
from invoices.transitions.finalization import finalize_invoice
from invoices.models import Fee, Invoice, InvoiceLocked
from invoices.serializers import serialize_invoice

from .. import errors
from ..http import endpoint, json_body, ok, paginate, query_bool, query_list, query_metadata, root
from ..parsing import parse
from ..requests import InvoiceUpdateFields, OneOffInvoiceFields, VoidOptions

INVOICE_TYPES = ["subscription", "add_on", "credit", "one_off", "advance_charges", "progressive_billing"]


def _queryset():
    return Invoice.objects.select_related("customer__billing_entity", "billing_entity").prefetch_related(
        "applied_taxes", "customer__taxes", "customer__metadata"
    )


def _find(invoice_id, queryset=None) -> Invoice:
    """A visible invoice by its lago_id; anything else (bad uuid included) is invoice_not_found."""
    try:
        invoice = (queryset if queryset is not None else _queryset().visible()).filter(pk=invoice_id).first()
    except ValidationError:
        invoice = None
    if invoice is None:
        raise errors.not_found("invoice")
    return invoice


def _answer(request, invoice: Invoice, *, detailed=True, reload=True):
    """The invoice as Lago answers it; `reload=False` when the caller's object already carries
    everything serialized (customer with taxes, tax lines, fees with add-ons and taxes)."""
    if reload:
        fees = Prefetch("fees", queryset=Fee.objects.select_related("add_on", "charge__billable_metric", "subscription__plan").prefetch_related("applied_taxes"))
        invoice = _queryset().prefetch_related(fees).get(pk=invoice.pk)
    data = serialize_invoice(invoice, detailed=detailed)
    return ok({"invoice": data})


def _locked(exc: InvoiceLocked, status=405):
    return errors.ApiError(status, exc.code or "not_allowed")


# --- list ------------------------------------------------------------------------------------

def _date(request, name):
    value = request.GET.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise errors.validation_error({name: "invalid_date"})


def _amount(request, name):
    value = request.GET.get(name)
    if value in (None, ""):
        return None
    if not value.lstrip("-").isdigit() or abs(int(value)) >= 2**63:
        raise errors.validation_error({name: "value_is_invalid"})
    return int(value)


def list_invoices(request):
    invoices = _queryset().visible()
    # Lago reads customer_external_id as another name of external_customer_id: both scope (both given: both apply).
    for name in ("external_customer_id", "customer_external_id"):
        if (external_id := request.GET.get(name)) is not None:
            invoices = invoices.filter(customer__external_id=external_id)
    if statuses := query_list(request, "statuses") + query_list(request, "status"):
        if set(statuses) - set(Invoice.VISIBLE_STATUSES):
            raise errors.validation_error({"statuses": "value_is_invalid"})
        invoices = invoices.filter(status__in=statuses)
    if payment_statuses := query_list(request, "payment_statuses") + query_list(request, "payment_status"):
        if set(payment_statuses) - set(Invoice.PaymentStatus.values):
            raise errors.validation_error({"payment_statuses": "value_is_invalid"})
        invoices = invoices.filter(payment_status__in=payment_statuses)
    if invoice_type := request.GET.get("invoice_type"):
        if invoice_type not in INVOICE_TYPES:
            raise errors.validation_error({"invoice_type": "value_is_invalid"})
        invoices = invoices.filter(invoice_type=invoice_type)
    if (day := _date(request, "issuing_date_from")) is not None:
        invoices = invoices.filter(issuing_date__gte=day)
    if (day := _date(request, "issuing_date_to")) is not None:
        invoices = invoices.filter(issuing_date__lte=day)
    if (overdue := query_bool(request, "payment_overdue")) is not None:
        invoices = invoices.filter(payment_overdue=overdue)
    # Disputes and self-billing do not exist here: asking for them finds nothing.
    if query_bool(request, "payment_dispute_lost") or query_bool(request, "self_billed"):
        invoices = invoices.none()
    if term := request.GET.get("search_term"):
        invoices = invoices.filter(
            Q(number__icontains=term) | Q(id__icontains=term) | Q(customer__name__icontains=term)
            | Q(customer__external_id__icontains=term) | Q(customer__email__icontains=term)
            | Q(customer__legal_name__icontains=term)
        )
    if currency := request.GET.get("currency"):
        invoices = invoices.filter(currency=currency.upper())
    if (low := _amount(request, "amount_from")) is not None:
        invoices = invoices.filter(total_amount_cents__gte=low)
    if (high := _amount(request, "amount_to")) is not None:
        invoices = invoices.filter(total_amount_cents__lte=high)
    if codes := query_list(request, "billing_entity_codes"):
        invoices = invoices.filter(billing_entity__code__in=codes)
    invoices = with_metadata(invoices, query_metadata(request))
    # Drafts have no issuing date yet: they come first, as with PostgreSQL's DESC in Lago.
    rows, meta = paginate(request, invoices.order_by(F("issuing_date").desc(nulls_first=True), "-created_at"))
    return ok({"invoices": [serialize_invoice(i, detailed=False) for i in rows], "meta": meta})


# --- one invoice -----------------------------------------------------------------------------

def show(request, invoice_id):
    return _answer(request, _find(invoice_id))


def update(request, invoice_id):
    invoice = _find(invoice_id)
    _, data = root(request, "invoice")
    values = parse(InvoiceUpdateFields, data).given()
    items = values.get("metadata")
    if items is not None:
        items = [_metadata_item(item, n) for n, item in enumerate(items)]
    # The draft / voided refusals are the services'. Metadata goes first so that a draft asked for
    # both answers metadata_on_draft_invoice; one transaction, so a refusal of either writes nothing.
    try:
        with transaction.atomic():
            if items is not None:
                invoice = metadata.update_metadata(invoice, items, request.actor)
            if "payment_status" in values:
                invoice = payments.update_payment_status(invoice, values["payment_status"], request.actor)
    except InvoiceLocked as exc:
        raise _locked(exc)
    return _answer(request, invoice)


def _metadata_item(values, n):
    if not values.get("key"):
        raise errors.validation_error({f"metadata.{n}.key": "value_is_mandatory"})
    values.setdefault("value", "")
    return values


def finalize(request, invoice_id):
    invoice = _find(invoice_id, _queryset().drafts())  # Lago looks finalize up in the draft scope
    outcome = finalize_invoice(invoice.pk, request.actor)
    if getattr(outcome, "upstream_failed", False):  # upstream mode: Lago refused, timed out or failed
        raise UpstreamFailed("finalize invoice", outcome.message)
    if not outcome.ok:  # lost a race: it is no longer a draft
        raise errors.not_found("invoice")
    return _answer(request, invoice)


def destroy(request, invoice_id):
    invoice = _find(invoice_id)
    try:
        invoice = deletion.delete_draft(invoice.pk, request.actor)
    except InvoiceLocked as exc:
        raise _locked(exc)
    return _answer(request, invoice)


def download(request, invoice_id):
    invoice = _find(invoice_id, _queryset().filter(status__in=[Invoice.Status.FINALIZED, Invoice.Status.VOIDED]))
    if not invoice.pdf_file:
        # Lago queues the render and answers an empty 200 until the file exists (the client returns None).
        from invoices.pdf.tasks import queue_invoice_pdfs

        queue_invoice_pdfs([invoice.pk])
        return HttpResponse(status=200, content_type="application/json")
    return _answer(request, invoice)


# --- actions of the one-off, voiding and grace-period issues ----------------------------------

def create_one_off(request):
    from invoices.transitions.one_off import create_one_off_invoice

    _, data = root(request, "invoice")
    values = parse(OneOffInvoiceFields, data).given()  # fees included
    # Only what the checks below need: the service locks and loads the customer itself.
    customer = (Customer.objects.filter(external_id=values.get("external_customer_id") or "", deleted_at__isnull=True)
                .values_list("pk", "billing_entity__code").first())
    if customer is None:
        raise errors.not_found("customer")
    customer_id, entity_code = customer
    if values.get("billing_entity_code") not in (None, entity_code):
        raise errors.validation_error({"billing_entity_code": "value_is_invalid"})  # invoices follow the customer's entity
    if not values.get("fees"):
        raise errors.not_found("fees")
    fees = [_fee(item, n) for n, item in enumerate(values["fees"])]
    currency = (values.get("currency") or "").upper() or None
    invoice = create_one_off_invoice(customer_id, fees=fees, actor=request.actor, currency=currency)
    return _answer(request, invoice, reload=False)  # returned with all it is answered with in memory


def _fee(fee, n) -> dict:
    """A parsed fee line for the service, which owns the rules on units, prices and periods."""
    fee = {k: v for k, v in fee.items() if v is not None}
    add_on = AddOn.objects.active().filter(code=fee.pop("add_on_code", "")).first()
    if add_on is None:
        raise errors.not_found("add_on")
    fee["add_on"] = add_on
    if ("from_datetime" in fee) != ("to_datetime" in fee):
        raise errors.validation_error({f"fees.{n}.to_datetime": "value_is_mandatory"})
    return fee


def void(request, invoice_id):
    from invoices.transitions.voiding import void_invoice

    invoice = _find(invoice_id)
    data = json_body(request)
    options = parse(VoidOptions, data).given()
    try:
        invoice = void_invoice(
            invoice.pk, request.actor, generate_credit_note=options.get("generate_credit_note", False),
            credit_amount_cents=options.get("credit_amount", 0), refund_amount_cents=options.get("refund_amount", 0),
        )
    except InvoiceLocked as exc:
        raise _locked(exc)
    return _answer(request, invoice)


def refresh(request, invoice_id):
    from invoices.transitions.refresh import refresh_draft

    invoice = _find(invoice_id)
    try:
        invoice = refresh_draft(invoice.pk, request.actor)
    except ValidationError as exc:
        if getattr(exc, "code", None) == "feature_unavailable":
            raise errors.forbidden("feature_unavailable")
        raise
    return _answer(request, invoice)


collection = endpoint({"GET": list_invoices, "POST": create_one_off})
member = endpoint({"GET": show, "PUT": update, "DELETE": destroy})
finalize_view = endpoint({"PUT": finalize})
download_view = endpoint({"POST": download})
void_view = endpoint({"POST": void})
refresh_view = endpoint({"PUT": refresh})


def uses_postgres_fast_path() -> bool:
    """True where the database matches JSON containment (PostgreSQL's @>), so the metadata filter is SQL."""
    return connection.features.supports_json_field_contains


def with_metadata(invoices, pairs: dict):
    """The invoices whose metadata has every `key: value` of `pairs` (Lago's `metadata[key]=value`)."""
    if not pairs:
        return invoices
    if uses_postgres_fast_path():
        for key, value in pairs.items():
            invoices = invoices.filter(metadata__contains=[{"key": key, "value": value}])
        return invoices
    # Portable: SQLite has no JSON containment, so the entries are matched here, on the rows the
    # other filters left (metadata is a short list of pairs; only the ids go back to the database).
    wanted = set(pairs.items())
    matching = [pk for pk, items in invoices.values_list("pk", "metadata")
                if wanted <= {(item.get("key"), item.get("value")) for item in items or () if isinstance(item, dict)}]
    return invoices.filter(pk__in=matching)
