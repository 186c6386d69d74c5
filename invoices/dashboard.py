"""The close dashboard: what month-end close looks like right now, in a constant number of queries.

    close_dashboard(now=None) -> dict      the figures the admin index shows (templates/admin/invoices/close_dashboard.html)
    bucket_q(name, now) -> Q               the drafts of one grace bucket (the dashboard and the list filter share it)
    day_bounds(now, days=0) -> (start, end) a day of the server's TIME_ZONE
    add_panel(name, template, build, when) how an app above invoices adds a panel (closing/apps.py: bulk finalize jobs;
                                           upstream/apps.py: the last sync run, shown only `when()` is true)

Days are the server's TIME_ZONE days (settings.TIME_ZONE, UTC unless configured): deadlines are stored as
instants (`grace_period_ends_at`, local midnight of each customer's zone), and one operator closing the
month across customers in many zones needs one timeline, not one per customer. "Past due" is the worker's
own rule (`Invoice.objects.due(now)`): the deadline has passed and the next sweep will finalize it.

Every figure comes with the changelist URL that lists the invoices making it up (the filters in
`invoices/admin/filters.py`).

Panels: invoices may not import the apps above it (tests/test_import_graph.py), so what they show comes in
through `add_panel`, called from their AppConfig.ready(): `build(now) -> dict` (one query, so the page stays
constant) becomes the context of `template`, included below the worker's table. A panel with `when` (upstream's,
in upstream mode only) is left out, unbuilt, while `when()` is false: no query, nothing rendered.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable
from urllib.parse import urlencode

from django.db.models import Case, CharField, Count, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone

from audit.verification import last_verification
from core.money import format_amount

from .models import Invoice, TaskRun
from .readiness import with_problems

BUCKETS = [
    ("past_due", "Past due for finalization"),
    ("today", "Due today"),
    ("tomorrow", "Due tomorrow"),
    ("this_week", "Due later this week"),
]
BUCKET_LABELS = dict(BUCKETS)
FAILURE_WINDOW = timedelta(hours=24)
SWEEP_SCHEDULE, BILLING_SCHEDULE = "finalize_due_invoices", "run_billing"


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    build: Callable[[datetime], dict]
    when: Callable[[], bool] | None = None


_panels: dict[str, Panel] = {}


def add_panel(name: str, template: str, build: Callable[[datetime], dict], when: Callable[[], bool] | None = None) -> None:
    """Show `template` on the dashboard with `build(now)` as its context, only while `when()` if given (the same name again replaces it)."""
    _panels[name] = Panel(name, template, build, when)


def day_bounds(now, days: int = 0) -> tuple[datetime, datetime]:
    """Start and end of the server-zone day `days` after `now`'s."""
    tz = timezone.get_current_timezone()
    day = timezone.localtime(now, tz).date() + timedelta(days=days)
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def bucket_q(name: str, now) -> Q:
    """Drafts whose deadline falls in bucket `name`: past due (≤ now), the rest of today, tomorrow, the 5 days after."""
    _, tomorrow = day_bounds(now)
    _, day_after = day_bounds(now, 1)
    week_end = day_bounds(now, 6)[1]
    field = "grace_period_ends_at"
    return {
        "past_due": Q(**{f"{field}__lte": now}),
        "today": Q(**{f"{field}__gt": now, f"{field}__lt": tomorrow}),
        "tomorrow": Q(**{f"{field}__gte": tomorrow, f"{field}__lt": day_after}),
        "this_week": Q(**{f"{field}__gte": day_after, f"{field}__lt": week_end}),
    }[name]


def changelist_url(**params) -> str:
    return reverse("admin:invoices_invoice_changelist") + ("?" + urlencode(params) if params else "")


def _money(row, currency) -> dict:
    return {key: format_amount(row[key] or 0, currency) for key in ("fees", "taxes", "total")}


def close_dashboard(now=None) -> dict:
    from django_q.models import Failure, Schedule

    now = now or timezone.now()
    drafts = Invoice.objects.drafts()

    # 1 query: every bucket × currency, counted and summed in the database.
    bucketed = (
        drafts.filter(grace_period_ends_at__lt=day_bounds(now, 6)[1])
        .annotate(bucket=Case(*[When(bucket_q(name, now), then=Value(name)) for name, _ in BUCKETS], output_field=CharField()))
        .exclude(bucket=None)
        .values("bucket", "currency")
        .annotate(count=Count("pk"), fees=Sum("fees_amount_cents"), taxes=Sum("taxes_amount_cents"), total=Sum("total_amount_cents"))
        .order_by("bucket", "currency")
    )
    rows = {}
    for row in bucketed:
        rows.setdefault(row["bucket"], []).append({
            "currency": row["currency"], "count": row["count"], **_money(row, row["currency"]),
            "url": changelist_url(status="draft", grace_bucket=row["bucket"], currency__exact=row["currency"]),
        })
    buckets = [
        {"key": name, "label": label, "rows": rows.get(name, []), "count": sum(r["count"] for r in rows.get(name, [])),
         "url": changelist_url(status="draft", grace_bucket=name)}
        for name, label in BUCKETS
    ]

    # 1 query each: the empty-invoice policy and the readiness checks, counted in the database.
    closes_empty = drafts.closing_as_empty().count()
    with_readiness_problems = with_problems(Invoice.objects.all()).count()

    # 1 query: finalized today (server day), per currency.
    start, end = day_bounds(now)
    finalized_today = [
        {"currency": row["currency"], "count": row["count"], **_money(row, row["currency"]),
         "url": changelist_url(finalized="today", currency__exact=row["currency"])}
        for row in Invoice.objects.filter(finalized_at__gte=start, finalized_at__lt=end).values("currency")
        .annotate(count=Count("pk"), fees=Sum("fees_amount_cents"), taxes=Sum("taxes_amount_cents"), total=Sum("total_amount_cents"))
        .order_by("currency")
    ]

    # The worker: 1 query per task kind for its last run, 1 for the schedules, 2 for the recent failures.
    last_runs = {kind: TaskRun.last(kind) for kind in TaskRun.Kind.values}
    next_runs = dict(Schedule.objects.filter(name__in=[SWEEP_SCHEDULE, BILLING_SCHEDULE]).values_list("name", "next_run"))
    recent_failures = Failure.objects.filter(stopped__gte=now - FAILURE_WINDOW)
    failures = list(recent_failures.order_by("-stopped")[:5])
    failures_count = recent_failures.count() if len(failures) == 5 else len(failures)

    return {
        "now": now,
        "buckets": buckets,
        "closes_empty": {"count": closes_empty, "url": changelist_url(status="draft", closes_empty="yes")},
        "readiness": {"count": with_readiness_problems, "url": changelist_url(status="draft", readiness="problems")},
        "finalized_today": finalized_today,
        "finalized_today_url": changelist_url(finalized="today"),
        "sweep": {"last": last_runs.get(TaskRun.Kind.FINALIZE_SWEEP), "next_run": next_runs.get(SWEEP_SCHEDULE)},
        "billing": {"last": last_runs.get(TaskRun.Kind.BILLING_RUN), "next_run": next_runs.get(BILLING_SCHEDULE)},
        "failures": failures,
        "failures_count": failures_count,
        "failure_window_hours": int(FAILURE_WINDOW.total_seconds() // 3600),
        "audit_verification": last_verification(),
        # 1 query per panel (closing: the bulk finalize jobs; upstream: at most 2, its sync runs, in upstream mode only).
        "panels": [{"name": panel.name, "template": panel.template, **panel.build(now)} for panel in _panels.values()
                   if panel.when is None or panel.when()],
    }
