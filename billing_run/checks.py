"""System checks: the billing schedules exist and no grace period is negative."""
from django.core.checks import Warning, register
from django.db import DatabaseError


@register()
def billing_schedules_check(app_configs=None, **kwargs):
    from django_q.models import Schedule

    from customers.models import BillingEntity, Customer

    from .schedules import SCHEDULES

    try:
        present = set(Schedule.objects.filter(name__in=[s[0] for s in SCHEDULES]).values_list("name", flat=True))
        negative = BillingEntity.objects.filter(invoice_grace_period__lt=0).exists() or Customer.objects.filter(
            invoice_grace_period__lt=0
        ).exists()
    except DatabaseError:  # not migrated yet, or no database: nothing to check
        return []
    problems = [
        Warning(f"The django-q2 schedule {name!r} is missing: {func} will not run.", hint="Run `manage.py migrate`.", id="subscriptions.W001")
        for name, func, *_ in SCHEDULES
        if name not in present
    ]
    if negative:
        problems.append(Warning("A grace period is negative.", hint="Grace periods are days >= 0.", id="subscriptions.W002"))
    return problems
