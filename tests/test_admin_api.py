"""The runbook's JSON endpoint POST /api/admin/invoice/<id>/finalize: every status code, with its body.

The client enforces CSRF like a browser, so these tests also show that the endpoint is protected the way
the admin is (the session's CSRF token in X-CSRFToken)."""
import uuid

import pytest
from django.test import Client

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions.finalization import finalize_invoice

from . import factories as f

pytestmark = pytest.mark.django_db


def api_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.get("/admin/login/")  # sets the csrftoken cookie, as an admin page does for its scripts
    if user is not None:
        client.force_login(user)
    return client


def post(client, path):
    return client.post(path, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def url(invoice_id):
    return f"/api/admin/invoice/{invoice_id}/finalize"


def test_200_returns_the_refreshed_invoice_with_its_ui_status(operator):
    invoice = f.invoice(f.customer(external_id="acme-77"), fees=[(2, 1000)], taxes=[f.tax(rate="10")])

    response = post(api_client(operator), url(invoice.pk))

    assert response.status_code == 200
    body = response.json()["invoice"]
    invoice.refresh_from_db()
    assert body["lago_id"] == str(invoice.pk)
    assert body["status"] == "finalized" and body["ui_status"] == "finalized"
    assert body["number"] == invoice.number and not body["number"].endswith("DRAFT")
    assert (body["fees_amount_cents"], body["taxes_amount_cents"], body["total_amount_cents"]) == (2000, 200, 2200)
    assert body["customer"]["external_id"] == "acme-77"
    entry = AuditLogEntry.objects.get(action="invoice.finalized")
    assert entry.user == operator and entry.source == "runbook"  # the runbook endpoint, not the page button


def test_401_json_when_not_signed_in_and_no_redirect():
    invoice = f.invoice(fees=[(1, 1000)])
    response = post(api_client(), url(invoice.pk))
    assert response.status_code == 401
    assert Client(enforce_csrf_checks=True).post(url(invoice.pk)).status_code == 401  # expired session, no CSRF cookie
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Unauthorized"}
    invoice.refresh_from_db()
    assert invoice.status == "draft"


@pytest.mark.parametrize("persona", ["auditor", "outsider"])
def test_403_without_the_finalize_permission(request, persona):
    invoice = f.invoice(fees=[(1, 1000)])
    response = post(api_client(request.getfixturevalue(persona)), url(invoice.pk))
    assert response.status_code == 403
    assert "invoices.finalize_invoice" in response.json()["error"]
    invoice.refresh_from_db()
    assert invoice.status == "draft" and not AuditLogEntry.objects.exists()


@pytest.mark.parametrize("path", ["/api/admin/invoice//finalize", "/api/admin/invoice/%20/finalize"])
def test_400_when_the_id_is_missing(operator, path):
    response = post(api_client(operator), path)
    assert response.status_code == 400
    assert response.json() == {"error": "Missing invoice id"}


@pytest.mark.parametrize("invoice_id", [uuid.uuid4(), "not-a-uuid"])
def test_404_for_an_unknown_or_malformed_id(operator, invoice_id):
    response = post(api_client(operator), url(invoice_id))
    assert response.status_code == 404
    assert response.json() == {"error": "Invoice not found"}


def test_409_when_not_a_draft_and_nothing_changes(operator):
    invoice = f.invoice(fees=[(1, 1000)])
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()

    response = post(api_client(operator), url(invoice.pk))

    assert response.status_code == 409
    assert response.json() == {"error": f"Failed to finalize invoice: Invoice {invoice.number} is finalized, not a draft: nothing was changed."}
    assert AuditLogEntry.objects.filter(action="invoice.finalized").count() == 1


def test_403_without_a_csrf_token_and_the_draft_stays_a_draft(operator):
    invoice = f.invoice(fees=[(1, 1000)])
    client = api_client(operator)
    response = client.post(url(invoice.pk))
    assert response.status_code == 403
    assert response.json()["error"].startswith("CSRF verification failed: ")
    response = client.post(url(invoice.pk), HTTP_X_CSRFTOKEN="x" * 32)
    assert response.status_code == 403 and response.json()["error"].startswith("CSRF verification failed: ")
    invoice.refresh_from_db()
    assert invoice.status == "draft"


def test_only_post_is_allowed(operator):
    invoice = f.invoice(fees=[(1, 1000)])
    assert api_client(operator).get(url(invoice.pk)).status_code == 405
