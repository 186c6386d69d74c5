"""Stored documents (invoice and credit note PDFs): one storage routine, and the signed links that serve them.

Every PDF is written, read and deleted here, through Django's default storage
(`STORAGES["default"]`: a FileSystemStorage at MEDIA_ROOT unless configured otherwise;
see the README for S3). Nothing serves MEDIA_URL: a document leaves the console only
through `signed_url`, an absolute link under PUBLIC_URL that carries its own
authorization (django.core.signing, salted) and expires after
DOCUMENT_URL_MAX_AGE_SECONDS, as Lago's `file_url` links do.

A link signs the document's kind, its id and a fingerprint of the stored file name:
re-rendering a PDF (voiding, *Regenerate PDF*) stores a new file under a new name, so
links to the old file stop working instead of silently serving other content, and an
operator can revoke every link handed out for a document by regenerating it.

This module is part of the kernel: it imports no app. The view that answers the links
(`api/views/documents.py`) maps a kind onto its model.
"""
import hashlib
import logging
from typing import Callable, NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

SALT = "billing_console.documents.link"
URL_NAME = "document_download"
PDF_FIELDS = ["pdf_file", "pdf_generated_at", "pdf_error", "updated_at"]
logger = logging.getLogger(__name__)


# --- rendering ----------------------------------------------------------------------------------

def render_pdf(template: str, context: dict) -> bytes:
    """A Django template rendered to PDF by WeasyPrint (invoices and credit notes alike)."""
    from weasyprint import HTML  # heavy import, only where a PDF is made

    return HTML(string=render_to_string(template, context)).write_pdf()


def render_and_store(document, number: str, render: Callable[[object], bytes], *, still_current=None) -> str:
    """Render `document` (a model with pdf_file, pdf_generated_at, pdf_error), store it, and point the row at it.

    A failed render is written to `pdf_error` and re-raised (the task's cluster retries it).
    Rendering runs unlocked; the stored name is then swapped in under the row lock, which orders
    concurrent renders of one document. `still_current(locked_row)` False means the document
    changed meanwhile (e.g. voided): the new file is dropped and "stale" returned. The file the
    row pointed at before is deleted once replaced. Returns the stored name.
    """
    try:
        content = render(document)
    except Exception as exc:
        logger.exception("PDF of %s %s failed", document._meta.verbose_name, number)
        document.pdf_error = f"{timezone.now():%Y-%m-%d %H:%M:%S} UTC: {type(exc).__name__}: {exc}"[:2000]
        document.save(update_fields=["pdf_error", "updated_at"])
        raise
    name = save_pdf(document.pdf_file, number, content)
    with transaction.atomic():
        row = type(document)._default_manager.select_for_update(of=("self",)).get(pk=document.pk)
        if still_current is not None and not still_current(row):
            delete_pdf(name)
            return "stale"
        previous = row.pdf_file.name
        row.pdf_file.name = name
        row.pdf_generated_at = timezone.now()
        row.pdf_error = ""
        row.save(update_fields=PDF_FIELDS)
    if previous and previous != name:
        delete_pdf(previous)  # e.g. the finalized PDF a voided one replaces
    return name


# --- storage: every PDF is written, read and deleted here ------------------------------------------

def save_pdf(field_file, number: str, content: bytes) -> str:
    """Store `content` as `<upload_to><number>.pdf` (the storage adds a suffix if taken); returns the stored name."""
    name = field_file.field.generate_filename(field_file.instance, f"{number}.pdf")
    return default_storage.save(name, ContentFile(content))


def open_pdf(name: str):
    """The stored file, opened for reading; FileNotFoundError (or the backend's OSError) if it is gone."""
    return default_storage.open(name, "rb")


def delete_pdf(name: str) -> None:
    if name:
        default_storage.delete(name)


# --- signed links -------------------------------------------------------------------------------

class Link(NamedTuple):
    kind: str
    object_id: str
    fingerprint: str


class LinkExpired(Exception):
    """Correctly signed, but older than DOCUMENT_URL_MAX_AGE_SECONDS."""


class LinkInvalid(Exception):
    """Not signed by this instance (guessed, truncated or tampered with)."""


def fingerprint(stored_name: str) -> str:
    """Names the stored file without putting its storage path in the URL."""
    return hashlib.sha256(stored_name.encode()).hexdigest()[:16]


def signed_url(kind: str, object_id, stored_name: str, number: str) -> str:
    """The absolute link to a stored document; `number` only names the file in the URL's last segment."""
    token = signing.dumps([kind, str(object_id), fingerprint(stored_name)], salt=SALT)
    # The last segment is cosmetic (clients that name a download after the URL get `<number>.pdf`);
    # the view does not read it, so a number with a slash in it cannot break the route.
    filename = quote(number.replace("/", "-"), safe="") + ".pdf"
    return settings.PUBLIC_URL.rstrip("/") + reverse(URL_NAME, kwargs={"token": token, "filename": filename})


def read_link(token: str) -> Link:
    """The signed content of a link; LinkInvalid or LinkExpired otherwise. The age is checked against the current setting."""
    try:
        kind, object_id, print_ = signing.loads(token, salt=SALT, max_age=settings.DOCUMENT_URL_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:  # a subclass of BadSignature: caught first
        raise LinkExpired from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    return Link(kind, object_id, print_)
