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
from typing import NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

SALT = "billing_console.documents.link"
URL_NAME = "document_download"


# --- storage ------------------------------------------------------------------------------------

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
