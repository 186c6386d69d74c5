"""Billing operators read the sync runs of upstream mode (seed 001: "confirm via the most recent sync run")."""
from django.db import migrations


def sync(apps, schema_editor):
    from accounts.roles import create_permissions_now, sync_groups

    create_permissions_now(apps)
    sync_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"),
                app_labels={"invoices", "customers", "addons", "audit", "plans", "subscriptions", "usage", "coupons",
                            "wallets", "credit_notes", "upstream"})


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles_for_billing_apps"),
        ("upstream", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
