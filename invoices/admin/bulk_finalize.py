"""Bulk finalize of more than a page of drafts, as a background job: its confirmation, the job page and its progress.

`finalize_selected` (invoice.py) keeps finalizing up to a page of invoices in the request, one
transaction each. A larger selection (more than `list_per_page`, or "select all" across pages)
would outlast the web worker's timeout, so after its confirmation page it becomes a
`closing.BulkFinalizeJob`, finalized by a django-q2 task in batches; the operator lands on the
job page, which polls `progress.json` and can be left at any time.

Wired like the other extra-view modules: `urls(model_admin)`, views guarded by `permission_required`.
"""
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from closing.models import BulkFinalizeItem, BulkFinalizeJob
from closing.services import Overlap, start_bulk_finalize
from core.admin import bind, permission_required

from ..models import Invoice

FINALIZE_PERMISSION = "invoices.finalize_invoice"
ITEMS_PER_PAGE = 500


def urls(model_admin) -> list:
    return [
        path("bulk-finalize/<int:job_id>/", bind(model_admin, job_view), name="invoices_invoice_bulk_finalize_job"),
        path("bulk-finalize/<int:job_id>/progress.json", bind(model_admin, progress_view),
             name="invoices_invoice_bulk_finalize_progress"),
    ]


def runs_in_background(model_admin, request, queryset) -> bool:
    """More than a page selected, or every invoice of the filtered list ("select all N")."""
    return _select_across(request) or queryset.count() > model_admin.list_per_page


def confirm_or_queue(model_admin, request, queryset):
    """The action's body for a large selection: confirmation page first, then the job (or why not)."""
    if request.POST.get("post") != "yes":
        return _confirmation(model_admin, request, queryset)
    ids = list(queryset.values_list("pk", flat=True))
    try:
        job = start_bulk_finalize(ids, request.user)
    except Overlap as overlap:
        model_admin.message_user(request, overlap.message, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())
    model_admin.message_user(
        request, f"Finalizing {job.total} invoices in the background (job #{job.pk}). You may leave this page: "
                 "the job goes on.", messages.SUCCESS,
    )
    return HttpResponseRedirect(reverse("admin:invoices_invoice_bulk_finalize_job", args=[job.pk]))


def _select_across(request) -> bool:
    return request.POST.get("select_across") in ("1", "true", "True", "on")


def _confirmation(model_admin, request, queryset):
    total = queryset.count()
    drafts = queryset.filter(status=Invoice.Status.DRAFT).count()
    busy = BulkFinalizeItem.objects.filter(active=True, invoice_id__in=queryset.values("pk")).count()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Finalize the {total} selected invoices in the background?",
        "opts": model_admin.opts,
        "total": total,
        "drafts": drafts,
        "busy": busy,
        "select_across": _select_across(request),
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "action": "finalize_selected",
        "changelist_url": request.get_full_path(),
    }
    return TemplateResponse(request, "admin/invoices/bulk_finalize/confirmation.html", context)


@permission_required(FINALIZE_PERMISSION)
def job_view(model_admin, request, job_id):
    job = get_object_or_404(BulkFinalizeJob.objects.select_related("requested_by"), pk=job_id)
    items = None
    if job.is_finished:
        items = Paginator(job.items.select_related("invoice__customer__billing_entity").order_by("position"), ITEMS_PER_PAGE) \
            .get_page(request.GET.get("page"))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Bulk finalize job #{job.pk}",
        "opts": model_admin.opts,
        "job": job,
        "items": items,
        "progress_url": reverse("admin:invoices_invoice_bulk_finalize_progress", args=[job.pk]),
        "changelist_url": reverse("admin:invoices_invoice_changelist") + "?status=draft",
        "jobs_url": reverse("admin:closing_bulkfinalizejob_changelist"),
    }
    return TemplateResponse(request, "admin/invoices/bulk_finalize/job.html", context)


@permission_required(FINALIZE_PERMISSION)
def progress_view(model_admin, request, job_id):
    job = get_object_or_404(BulkFinalizeJob.objects.select_related("requested_by"), pk=job_id)
    return JsonResponse(job.progress())  # never cached: admin_view adds never_cache
