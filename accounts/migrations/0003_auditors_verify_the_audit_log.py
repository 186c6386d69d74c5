"""Auditors may verify the audit log's hash chain from the console (audit.verify_auditlogentry) and read the
recorded verifications (audit.view_auditverification)."""
from django.db import migrations


def sync(apps, schema_editor):
    from accounts.roles import create_permissions_now, sync_groups

    create_permissions_now(apps)
    sync_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles_for_billing_apps"),
        ("audit", "0006_verify_permission"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
