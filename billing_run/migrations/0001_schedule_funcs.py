"""The billing run's schedule calls `billing_run.tasks.run_billing` (it was `invoices.tasks.run_billing`).

Schedule rows store the task's dotted path: existing rows are pointed at the new module. A row
an operator pointed elsewhere is left alone. Fresh installs get the new path from `ensure_schedules`.
"""
from django.db import migrations

RENAMED = {"invoices.tasks.run_billing": "billing_run.tasks.run_billing"}


def forwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for old, new in RENAMED.items():
        Schedule.objects.filter(func=old).update(func=new)


def backwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for old, new in RENAMED.items():
        Schedule.objects.filter(func=new).update(func=old)


class Migration(migrations.Migration):
    dependencies = [("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(forwards, backwards)]
