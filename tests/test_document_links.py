"""Documents served safely: `file_url` is a signed, expiring absolute link that answers the PDF with DEBUG off,
without a session or an API key, and gives nothing to a guessed, tampered, expired or superseded link."""
import io
import os
import subprocess
import sys
import time
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.core import signing
from django.test import Client
from pypdf import PdfReader

from core import documents
from credit_notes.models import CreditNote
from invoices.models import Invoice
from invoices.pdf.tasks import render_invoice_pdf
from webhooks.payloads import render_objects

from . import factories as f

DAY = 24 * 3600


def fetch(url):
    """GET a file_url as an outsider would: a fresh client, no session cookie, no Authorization header."""
    parts = urlsplit(url)
    return Client().get(parts.path)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_pdf_of(response, number):
    assert response.status_code == 200, body(response)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{number}.pdf"'
    content = body(response)
    assert content.startswith(b"%PDF")
    assert number in "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def tampered(url):
    """The same URL with one character of the signature changed."""
    head, token, tail = url.rsplit("/", 2)
    value, stamp, signature = token.split(":")
    signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}/{value}:{stamp}:{signature}/{tail}"


def made_days_ago(days):
    """Signing's clock, and only signing's, set back by `days` while a link is made."""
    past = time.time() - days * DAY
    return mock.patch.object(signing, "time", SimpleNamespace(time=lambda: past))


@pytest.fixture
def finalized_with_pdf(api, django_capture_on_commit_callbacks):
    """An invoice finalized through the API; its PDF is rendered after commit (django-q2 sync in tests)."""
    inv = f.invoice(fees=[(2, 1250)], taxes=[f.tax(rate="20")])
    with django_capture_on_commit_callbacks(execute=True):
        assert api.put(f"invoices/{inv.pk}/finalize").status_code == 200
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.FINALIZED and inv.pdf_file
    return inv


@pytest.fixture
def credit_note_with_pdf(api, finalized_with_pdf, django_capture_on_commit_callbacks):
    fee = finalized_with_pdf.fees.first()
    request = {"credit_note": {"invoice_id": str(finalized_with_pdf.pk), "reason": "order_change", "credit_amount_cents": 1200,
                               "items": [{"fee_id": str(fee.pk), "amount_cents": 1000}]}}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("credit_notes", request)
    assert response.status_code == 200, response.content
    note = CreditNote.objects.get(pk=response.json()["credit_note"]["lago_id"])
    assert note.pdf_file
    return note


# --- invoices -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_api_file_url_is_absolute_and_answers_the_pdf_without_session_or_key(api, finalized_with_pdf):
    assert django_settings.DEBUG is False  # the links must work with DEBUG off, where nothing serves MEDIA_URL
    inv = finalized_with_pdf
    downloaded = api.post(f"invoices/{inv.pk}/download").json()["invoice"]["file_url"]
    shown = api.get(f"invoices/{inv.pk}").json()["invoice"]["file_url"]
    listed = api.get("invoices").json()["invoices"][0]["file_url"]

    for url in (downloaded, shown, listed):
        assert url.startswith(f"{django_settings.PUBLIC_URL}/documents/") and url.endswith(f"/{inv.number}.pdf")
        assert inv.pdf_file.name not in url  # the storage path stays private
        assert_pdf_of(fetch(url), inv.number)
    # The last segment only names the file: the token alone, or with a trailing slash, is the same link.
    token_url = downloaded.rsplit("/", 1)[0]
    assert_pdf_of(fetch(token_url), inv.number)
    assert_pdf_of(fetch(token_url + "/"), inv.number)
    assert "private" in fetch(downloaded)["Cache-Control"]


@pytest.mark.django_db
def test_the_webhook_payload_carries_the_same_kind_of_link(finalized_with_pdf):
    url = render_objects("invoice", [finalized_with_pdf.pk])[str(finalized_with_pdf.pk)]["file_url"]
    assert url.startswith(f"{django_settings.PUBLIC_URL}/documents/")
    assert_pdf_of(fetch(url), finalized_with_pdf.number)


@pytest.mark.django_db
def test_guessed_or_tampered_links_get_the_same_bare_404(api, finalized_with_pdf):
    inv = finalized_with_pdf
    url = api.post(f"invoices/{inv.pk}/download").json()["invoice"]["file_url"]
    other = f.invoice(fees=[(1, 100)])
    value, stamp, signature = url.rsplit("/", 2)[1].split(":")
    swapped = signing.b64_encode(f'["invoice","{other.pk}","{documents.fingerprint(inv.pdf_file.name)}"]'.encode()).decode()
    forged_key = signing.dumps(["invoice", str(inv.pk), documents.fingerprint(inv.pdf_file.name)], key="guessed", salt=documents.SALT)
    other_salt = signing.dumps(["invoice", str(inv.pk), documents.fingerprint(inv.pdf_file.name)], salt="something.else")

    refusals = [
        fetch(tampered(url)),
        Client().get(f"/documents/{swapped}:{stamp}:{signature}/{inv.number}.pdf"),
        Client().get(f"/documents/{forged_key}/{inv.number}.pdf"),
        Client().get(f"/documents/{other_salt}/{inv.number}.pdf"),
        Client().get(f"/documents/{inv.number}.pdf"),
        Client().get(f"/documents/{inv.pk}/{inv.number}.pdf"),
        Client().get(f"/media/{inv.pdf_file.name}"),  # nothing serves the storage itself
        # Correctly signed, for documents that do not exist or have no PDF: indistinguishable from the above.
        fetch(documents.signed_url("invoice", other.pk, "invoices/whatever.pdf", other.number)),
        fetch(documents.signed_url("invoice", "00000000-0000-0000-0000-000000000000", "x", "x")),
        fetch(documents.signed_url("payslip", inv.pk, inv.pdf_file.name, inv.number)),
    ]
    assert [r.status_code for r in refusals] == [404] * len(refusals)
    assert len({r.content for r in refusals[:6] + refusals[7:]}) == 1  # the same body whether or not the document exists
    assert b"PDF" not in refusals[0].content and inv.number.encode() not in refusals[0].content
    assert Client().post(url.replace(django_settings.PUBLIC_URL, "")).status_code == 405


@pytest.mark.django_db
def test_a_link_expires_after_document_url_max_age_seconds(finalized_with_pdf, settings):
    inv = finalized_with_pdf
    assert settings.DOCUMENT_URL_MAX_AGE_SECONDS == 7 * DAY
    with made_days_ago(6):
        recent = documents.signed_url("invoice", inv.pk, inv.pdf_file.name, inv.number)
    with made_days_ago(8):
        old = documents.signed_url("invoice", inv.pk, inv.pdf_file.name, inv.number)

    assert_pdf_of(fetch(recent), inv.number)
    refused = fetch(old)
    assert refused.status_code == 410 and b"expired" in refused.content and b"%PDF" not in refused.content
    assert fetch(tampered(old)).status_code == 404  # only a genuine link learns that it expired

    settings.DOCUMENT_URL_MAX_AGE_SECONDS = 5 * DAY  # read at request time, not when the link was made
    assert fetch(recent).status_code == 410


@pytest.mark.django_db
def test_re_rendering_a_pdf_retires_the_links_to_the_old_file(api, finalized_with_pdf):
    inv = finalized_with_pdf
    old = api.post(f"invoices/{inv.pk}/download").json()["invoice"]["file_url"]
    Invoice.objects.filter(pk=inv.pk).update(status=Invoice.Status.VOIDED)  # voiding stands in; it re-renders the same way
    render_invoice_pdf(inv.pk)
    new = api.post(f"invoices/{inv.pk}/download").json()["invoice"]["file_url"]

    assert new != old
    gone = fetch(old)
    assert gone.status_code == 410 and b"re-rendered" in gone.content
    assert_pdf_of(fetch(new), inv.number)


@pytest.mark.django_db
def test_a_pdf_missing_from_storage_is_a_404(api, finalized_with_pdf):
    url = api.post(f"invoices/{finalized_with_pdf.pk}/download").json()["invoice"]["file_url"]
    documents.delete_pdf(finalized_with_pdf.pdf_file.name)
    assert fetch(url).status_code == 404


# --- credit notes ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_credit_note_file_url_answers_its_pdf_and_refuses_tampered_and_expired_links(api, credit_note_with_pdf):
    note = credit_note_with_pdf
    downloaded = api.post(f"credit_notes/{note.pk}/download").json()["credit_note"]["file_url"]
    shown = api.get(f"credit_notes/{note.pk}").json()["credit_note"]["file_url"]
    for url in (downloaded, shown):
        assert url.startswith(f"{django_settings.PUBLIC_URL}/documents/") and url.endswith(f"/{note.number}.pdf")
        assert_pdf_of(fetch(url), note.number)

    assert fetch(tampered(downloaded)).status_code == 404
    # A link of the wrong kind finds nothing: the kind is signed with the id.
    assert fetch(documents.signed_url("invoice", note.pk, note.pdf_file.name, note.number)).status_code == 404
    with made_days_ago(8):
        old = documents.signed_url("credit_note", note.pk, note.pdf_file.name, note.number)
    assert fetch(old).status_code == 410


# --- against a real server ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_running_server_answers_the_link_to_a_plain_http_client(live_server, settings, api):
    settings.PUBLIC_URL = live_server.url  # the links name the host the console is reached at
    inv = f.invoice(fees=[(1, 4200)])
    assert api.put(f"invoices/{inv.pk}/finalize").status_code == 200  # no test transaction: the PDF is rendered on commit
    inv.refresh_from_db()
    url = api.post(f"invoices/{inv.pk}/download").json()["invoice"]["file_url"]
    assert url.startswith(f"{live_server.url}/documents/")

    response = requests.get(url, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == f'inline; filename="{inv.number}.pdf"'
    assert requests.get(tampered(url), timeout=30).status_code == 404
    # (No /media/ check here: Django's live server thread serves MEDIA_ROOT itself, which production does not;
    # test_guessed_or_tampered_links_get_the_same_bare_404 checks that the console's URLs do not.)


# --- settings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, message", [
    ("DOCUMENT_URL_MAX_AGE_SECONDS", "10", "DOCUMENT_URL_MAX_AGE_SECONDS must be between 60"),
    ("PUBLIC_URL", "billing.example.com", "PUBLIC_URL must be an absolute http(s) URL"),
])
def test_bad_document_settings_fail_at_start_up(name, value, message):
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x", name: value}
    result = subprocess.run([sys.executable, "-c", "import billing_console.settings"], env=env, capture_output=True, text=True,
                            cwd=django_settings.BASE_DIR, timeout=60)
    assert result.returncode != 0 and message in result.stderr
