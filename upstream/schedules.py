"""The sync schedule (django-q2): one named Schedule, created idempotently after migrate, in upstream mode only."""
from . import config

SCHEDULE_NAME = "upstream: sync from Lago"
TASK = "upstream.tasks.sync_from_lago"


def ensure_schedule(sender=None, **kwargs) -> None:
    if not config.enabled():
        return
    from django.conf import settings
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": TASK, "schedule_type": Schedule.MINUTES, "minutes": settings.LAGO_SYNC_INTERVAL_MINUTES, "repeats": -1},
    )
