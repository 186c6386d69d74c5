"""Creates the groups "Billing operators" and "Auditors" (accounts/roles.py says what they may do)."""
from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); make them exist now.
    for app_config in apps.get_app_configs():
        # create_permissions skips app configs without a models module, which historical ones lack.
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous

    from accounts.roles import sync_groups

    sync_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


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
