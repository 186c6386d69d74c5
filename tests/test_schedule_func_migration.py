"""billing_run/migrations/0001_schedule_funcs.py points stored schedules at the moved task, and back."""
import importlib

import pytest
from django.apps import apps
from django_q.models import Schedule

pytestmark = pytest.mark.django_db
migration = importlib.import_module("billing_run.migrations.0001_schedule_funcs")


def test_a_stored_schedule_follows_the_task_to_billing_run():
    Schedule.objects.filter(name="run_billing").update(func="invoices.tasks.run_billing")
    edited = Schedule.objects.create(name="custom", func="myplugin.tasks.bill", schedule_type="H")

    migration.forwards(apps, None)
    assert Schedule.objects.get(name="run_billing").func == "billing_run.tasks.run_billing"
    assert Schedule.objects.get(pk=edited.pk).func == "myplugin.tasks.bill"

    migration.backwards(apps, None)
    assert Schedule.objects.get(name="run_billing").func == "invoices.tasks.run_billing"


def test_the_new_path_is_importable_and_what_new_installs_get():
    from django.utils.module_loading import import_string

    from billing_run.schedules import SCHEDULES

    assert dict((name, func) for name, func, *_ in SCHEDULES)["run_billing"] == "billing_run.tasks.run_billing"
    for _, func, *_ in SCHEDULES:
        assert callable(import_string(func))
