"""Billing operators read the sync runs (seed 001: "confirm via the most recent sync run" before finalizing).

Adds the one permission rather than syncing every group, so it holds whichever accounts migrations ran before.
"""
from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import BILLING_OPERATORS, create_permissions_now

    create_permissions_now(apps)
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=BILLING_OPERATORS)
    group.permissions.add(apps.get_model("auth", "Permission").objects.get(content_type__app_label="upstream", codename="view_syncrun"))


class Migration(migrations.Migration):
    dependencies = [
        ("upstream", "0002_mirror_write_bypass"),
        ("accounts", "0002_roles_for_billing_apps"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
