"""The runbook's JSON endpoint: POST /api/admin/invoice/<id>/finalize (seed 001).

Session-authenticated with CSRF, like the admin it serves; answers JSON for
every outcome (401 instead of a redirect to the login page, a JSON 403 for a
missing CSRF token). It calls the same `finalize_invoice` as the admin, so a
failure leaves the draft a draft.
"""
import uuid

from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.actors import Actor

from ..transitions.finalization import NOT_FOUND, finalize_invoice
from ..models import Invoice
from ..serializers import serialize_invoice


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, returning the reason instead of rendering the HTML failure page."""

    def _reject(self, request, reason):
        return reason


def _csrf_failure(request) -> str | None:
    check = _CsrfCheck(lambda request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


@csrf_exempt  # checked below, after authentication, so that every answer is JSON (as DRF's SessionAuthentication does)
@require_POST
def finalize_invoice_view(request, invoice_id: str = ""):
    if not request.user.is_authenticated:
        return _error(401, "Unauthorized")
    reason = _csrf_failure(request)
    if reason:
        return _error(403, f"CSRF verification failed: {reason}")
    if not (request.user.is_active and request.user.is_staff and request.user.has_perm("invoices.finalize_invoice")):
        return _error(403, "Forbidden: finalizing invoices needs the invoices.finalize_invoice permission")
    invoice_id = (invoice_id or "").strip()
    if not invoice_id:
        return _error(400, "Missing invoice id")
    if "\x00" in invoice_id:
        return _error(400, "Invalid invoice id: NUL characters are not accepted")
    try:
        pk = uuid.UUID(invoice_id)
    except ValueError:
        return _error(404, "Invoice not found")

    outcome = finalize_invoice(pk, Actor.runbook(request.user))
    if outcome.result == NOT_FOUND:
        return _error(404, "Invoice not found")
    if getattr(outcome, "upstream_failed", False):  # upstream mode: Lago refused, timed out or failed (seed 001)
        return _error(502, f"Failed to finalize invoice: {outcome.message}")
    if not outcome.ok:
        return _error(409, f"Failed to finalize invoice: {outcome.message}")
    invoice = Invoice.objects.select_related("customer__billing_entity", "billing_entity").get(pk=pk)
    return JsonResponse({"invoice": {**serialize_invoice(invoice), "ui_status": invoice.ui_status}})
