"""GET /documents/<token>/<number>.pdf: the PDF behind a signed `file_url` (core/documents.py).

Outside /api/v1 and the admin: the signed token is the authorization, so the link works
without a Bearer key or a session, as Lago's do. Anything that is not a link this instance
signed, or whose document is gone, gets the same bare 404, so a guess learns nothing; a
correctly signed link that has expired, or whose PDF was re-rendered since, gets a 410 that
says to ask for a new one (its holder already knew the document existed).
"""
from django.http import FileResponse, HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_safe

from core import documents
from credit_notes.models import CreditNote
from invoices.models import Invoice
from invoices.pdf.tasks import STORED_STATUSES

# kind (as signed by the serializers) → the documents of that kind that may be served
KINDS = {
    "invoice": lambda: Invoice.objects.filter(status__in=STORED_STATUSES),
    "credit_note": lambda: CreditNote.objects.all(),
}


def _not_found():
    return HttpResponseNotFound("Not found.\n", content_type="text/plain; charset=utf-8")


def _gone(reason):
    return HttpResponse(f"{reason} Ask for a new link.\n", status=410, content_type="text/plain; charset=utf-8")


@require_safe
def download(request, token, filename=""):
    try:
        link = documents.read_link(token)
    except documents.LinkInvalid:
        return _not_found()
    except documents.LinkExpired:
        return _gone("This link has expired.")
    queryset = KINDS.get(link.kind)
    document = queryset().filter(pk=link.object_id).only("pk", "number", "pdf_file").first() if queryset else None
    if document is None or not document.pdf_file:
        return _not_found()
    if documents.fingerprint(document.pdf_file.name) != link.fingerprint:
        return _gone("This document has been re-rendered since the link was made.")
    try:
        handle = documents.open_pdf(document.pdf_file.name)
    except OSError:  # FileNotFoundError on disk; the storage was emptied behind the database's back
        return _not_found()
    response = FileResponse(handle, filename=f"{document.number}.pdf", content_type="application/pdf")
    # The token is the credential: keep it out of shared caches, search indexes and Referer headers.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
