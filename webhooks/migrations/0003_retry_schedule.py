from django.db import migrations


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="webhooks.retry_due_deliveries",
        defaults={"func": "webhooks.delivery.retry_due_deliveries", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="webhooks.retry_due_deliveries").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_webhookendpoint_webhookdelivery"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
