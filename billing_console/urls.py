from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from api.views import documents
from invoices.admin import api as admin_api
from upstream import views as upstream_views

admin.site.site_header = "Billing console"
admin.site.site_title = "Billing console"
admin.site.index_title = "Invoices, customers and the audit log"

# Refusals and missing pages in the console's own frame, naming what is missing (billing_console/errors.py).
handler403 = "billing_console.errors.permission_denied"
handler404 = "billing_console.errors.page_not_found"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # [^/]* also matches an empty id (/api/admin/invoice//finalize), which the view answers with 400.
    re_path(r"^api/admin/invoice/(?P<invoice_id>[^/]*)/finalize/?$", admin_api.finalize_invoice_view, name="admin_api_finalize_invoice"),
    path("api/v1/", include("api.urls")),
    # Upstream mode: Lago's webhooks trigger a targeted sync of the invoice they name.
    path("upstream/webhooks", upstream_views.webhook, name="upstream_webhooks"),
    # Signed, expiring PDF links (`file_url`): no session, no API key; the token is the authorization.
    # The last segment (`<number>.pdf`) only names the file; with or without it, or a trailing slash, the token decides.
    re_path(r"^documents/(?P<token>[^/]+)(?:/(?P<filename>[^/]*))?$", documents.download, name="document_download"),
]
