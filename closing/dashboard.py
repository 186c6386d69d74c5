"""The bulk finalize jobs on the close dashboard: a panel added through `invoices.dashboard.add_panel`
(in ClosingConfig.ready), since invoices may not import closing. One query, whatever the number of jobs."""
from django.urls import reverse

from .models import BulkFinalizeJob

TEMPLATE = "admin/closing/_dashboard_jobs.html"
SHOWN = 5


def jobs_panel(now) -> dict:
    """The queued and running jobs, then the latest finished ones, at most SHOWN, with who started them."""
    return {"jobs": list(BulkFinalizeJob.objects.active_first(SHOWN)),
            "jobs_url": reverse("admin:closing_bulkfinalizejob_changelist")}
