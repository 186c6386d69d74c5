"""Gives the roles their read access to plans, subscriptions, events, coupons, wallets and credit notes."""
from django.db import migrations


def sync(apps, schema_editor):
    from accounts.roles import create_permissions_now, sync_groups

    create_permissions_now(apps)
    sync_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles"),
        ("plans", "0001_initial"),
        ("subscriptions", "0001_initial"),
        ("usage", "0001_initial"),
        ("coupons", "0003_coupon_terminated_at"),
        ("wallets", "0001_initial"),
        ("credit_notes", "0002_credit_note_pdf"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
