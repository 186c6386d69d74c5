"""Admin views for invoice PDFs: download the stored PDF, preview a draft, re-queue a render.

Wired into the invoice admin with `pdf_views.urls(model_admin)`; `pdf_links(invoice)` is what the
invoice page shows. Model permissions, not has_change_permission(obj): the invoice admin refuses
changes to finalized invoices, whose PDF can still be regenerated.
"""
from django.contrib import messages
from django.http import FileResponse, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin import bind, permission_required
from core.documents import open_pdf

from ..models import Invoice
from ..pdf.render import render_invoice_pdf_bytes
from ..pdf.tasks import STORED_STATUSES, queue_invoice_pdfs, render_invoice_pdf

VIEW_PERMISSION = "invoices.view_invoice"
CHANGE_PERMISSION = "invoices.change_invoice"


def urls(model_admin) -> list:
    return [
        path("<path:object_id>/pdf/", bind(model_admin, download_pdf), name="invoices_invoice_pdf"),
        path("<path:object_id>/pdf/preview/", bind(model_admin, preview_draft_pdf), name="invoices_invoice_pdf_preview"),
        path("<path:object_id>/pdf/regenerate/", bind(model_admin, regenerate_pdf), name="invoices_invoice_pdf_regenerate"),
    ]


def pdf_links(invoice: Invoice) -> str:
    if invoice is None or invoice.pk is None:
        return "—"
    if invoice.status == Invoice.Status.DRAFT:
        url = reverse("admin:invoices_invoice_pdf_preview", args=[invoice.pk])
        return format_html('<a href="{}" target="_blank">Preview PDF (draft)</a>', url)
    if invoice.status not in STORED_STATUSES:
        return "No PDF for a closed invoice."
    parts = []
    if invoice.pdf_file:
        parts.append(format_html('<a href="{}">Download PDF</a> (rendered {} UTC)', reverse("admin:invoices_invoice_pdf", args=[invoice.pk]),
                                 f"{invoice.pdf_generated_at:%Y-%m-%d %H:%M}" if invoice.pdf_generated_at else "?"))
    else:
        parts.append(format_html('<a href="{}">Download PDF</a> (not rendered yet)', reverse("admin:invoices_invoice_pdf", args=[invoice.pk])))
    if invoice.pdf_error:
        parts.append(format_html('<span class="errornote" style="display:inline-block">Last render failed: {}</span>', invoice.pdf_error))
    # A button inside the change form posts that form (and its CSRF token) to the regenerate URL.
    parts.append(format_html('<button type="submit" class="button" formaction="{}" formmethod="post">Regenerate PDF</button>',
                             reverse("admin:invoices_invoice_pdf_regenerate", args=[invoice.pk])))
    return format_html_join(" ", "{}", ((part,) for part in parts))


def _invoice(object_id) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("customer__billing_entity", "billing_entity"), pk=object_id)


@permission_required(VIEW_PERMISSION)
def download_pdf(model_admin, request, object_id):
    """The stored PDF; rendered now if the task has not run yet or the invoice was voided since."""
    invoice = _invoice(object_id)
    if invoice.status == Invoice.Status.DRAFT:
        return redirect("admin:invoices_invoice_pdf_preview", invoice.pk)
    if invoice.status not in STORED_STATUSES:
        messages.error(request, "A closed invoice has no PDF.")
        return redirect("admin:invoices_invoice_change", invoice.pk)
    stale = invoice.voided_at and (invoice.pdf_generated_at is None or invoice.pdf_generated_at < invoice.voided_at)
    if not invoice.pdf_file or stale:
        try:
            render_invoice_pdf(invoice.pk)
        except Exception:
            invoice.refresh_from_db(fields=["pdf_error"])
            messages.error(request, f"The PDF could not be rendered: {invoice.pdf_error}")
            return redirect("admin:invoices_invoice_change", invoice.pk)
        invoice.refresh_from_db(fields=["pdf_file", "pdf_generated_at"])
    return FileResponse(open_pdf(invoice.pdf_file.name), as_attachment=True, filename=f"{invoice.number}.pdf", content_type="application/pdf")


@permission_required(VIEW_PERMISSION)
def preview_draft_pdf(model_admin, request, object_id):
    """A draft rendered on the fly, stamped DRAFT; never stored."""
    invoice = _invoice(object_id)
    if invoice.status != Invoice.Status.DRAFT:
        return redirect("admin:invoices_invoice_pdf", invoice.pk)
    response = HttpResponse(render_invoice_pdf_bytes(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}-preview.pdf"'
    return response


@permission_required(CHANGE_PERMISSION)
def regenerate_pdf(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    invoice = _invoice(object_id)
    if invoice.status not in STORED_STATUSES:
        messages.error(request, "Only finalized and voided invoices have a stored PDF.")
    else:
        queue_invoice_pdfs([invoice.pk])
        messages.success(request, f"The PDF of invoice {invoice.number} was queued for rendering.")
    return redirect("admin:invoices_invoice_change", invoice.pk)
