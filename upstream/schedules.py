"""The sync schedule (django-q2): one named Schedule, in upstream mode only, every `config.sync_interval_minutes()`.

`ensure_schedule` runs after migrate and after each save of the admin's UpstreamSettings (so a new interval,
or upstream mode turned on or off there, reaches django-q2 at once): created or updated while upstream mode is
on, deleted when it is off.
"""
from . import config

SCHEDULE_NAME = "upstream: sync from Lago"
TASK = "upstream.tasks.sync_from_lago"


def ensure_schedule(sender=None, **kwargs) -> None:
    from django_q.models import Schedule

    if not config.enabled():
        Schedule.objects.filter(name=SCHEDULE_NAME).delete()
        return
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": TASK, "schedule_type": Schedule.MINUTES, "minutes": config.sync_interval_minutes(), "repeats": -1},
    )
