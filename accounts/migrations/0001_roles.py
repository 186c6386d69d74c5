"""Creates the groups "Billing operators" and "Auditors" (accounts/roles.py says what they may do)."""
from django.db import migrations


def create_groups(apps, schema_editor):
    from accounts.roles import LATER_PERMISSIONS, create_permissions_now, sync_groups

    create_permissions_now(apps)
    sync_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"),
                app_labels={"invoices", "customers", "addons", "audit"}, without=LATER_PERMISSIONS)


def remove_groups(apps, schema_editor):
    from accounts.roles import GROUP_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("invoices", "0002_fee_add_on_invoice_pdf"),
        ("audit", "0001_initial"),
        ("customers", "0001_initial"),
        ("addons", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
