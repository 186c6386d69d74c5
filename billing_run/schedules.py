"""The django-q2 schedules that bill, finalize and flag invoices, created idempotently after migrate."""

SCHEDULES = [
    # name, func, schedule_type, minutes
    ("run_billing", "billing_run.tasks.run_billing", "H", None),
    ("finalize_due_invoices", "invoices.tasks.finalize_due_invoices", "I", 5),
    ("mark_overdue_invoices", "invoices.tasks.mark_overdue_invoices", "H", None),
]


def ensure_schedules(sender=None, using="default", **kwargs) -> None:
    """Create each schedule once, by name; an operator's later edits to a schedule are kept."""
    from django_q.models import Schedule

    for name, func, schedule_type, minutes in SCHEDULES:
        Schedule.objects.using(using).get_or_create(
            name=name, defaults={"func": func, "schedule_type": schedule_type, "minutes": minutes, "repeats": -1},
        )
