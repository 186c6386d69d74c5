"""The 403 and 404 pages: in the console's frame (header, user links), saying what was refused or missing.

A PermissionDenied raised with a message (core.admin.permission_required names the permission) shows it;
a bare one gets a generic sentence. JSON clients (/api/) keep their own error bodies from their views.
"""
from django.contrib import admin
from django.template.response import TemplateResponse


def _context(request, exception, default):
    message = str(exception) if exception is not None and exception.args else ""
    context = admin.site.each_context(request) if request.user.is_authenticated else {"site_header": admin.site.site_header}
    return {**context, "message": message or default, "request_path": request.path}


def permission_denied(request, exception=None):
    context = _context(request, exception, "Your account does not have the permission this page needs.")
    context["title"] = "Permission needed"
    return TemplateResponse(request, "403.html", context, status=403).render()


def page_not_found(request, exception=None):
    # Django's Resolver404 carries a dict, not a sentence: show only what was asked for.
    context = _context(request, None, "There is nothing at this address (or it was removed).")
    context["title"] = "Not found"
    return TemplateResponse(request, "404.html", context, status=404).render()
