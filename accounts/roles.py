"""The console's roles as Django groups: one definition, used by the data migration,
`ensure_demo_users` and the tests' personas.

Billing operators review drafts, edit their fees, finalize, and issue one-off
invoices (invoices.add_invoice). Auditors read invoices and the audit log and
export it; they change nothing.
"""
BILLING_OPERATORS = "Billing operators"
AUDITORS = "Auditors"

GROUP_PERMISSIONS = {
    BILLING_OPERATORS: [
        ("invoices", "view_invoice"), ("invoices", "change_invoice"), ("invoices", "finalize_invoice"),
        ("invoices", "add_invoice"),
        ("invoices", "view_fee"), ("invoices", "add_fee"), ("invoices", "change_fee"), ("invoices", "delete_fee"),
        ("customers", "view_customer"), ("customers", "view_billingentity"), ("customers", "view_tax"),
        ("addons", "view_addon"),
        ("audit", "view_auditlogentry"),
    ],
    AUDITORS: [
        ("invoices", "view_invoice"), ("invoices", "view_fee"),
        ("customers", "view_customer"),
        ("audit", "view_auditlogentry"), ("audit", "export_auditlogentry"),
    ],
}


def sync_groups(Group, Permission) -> dict:
    """Create the groups and set exactly their permissions; idempotent. Takes the model
    classes so the data migration can pass its historical models."""
    groups = {}
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for app_label, codename in wanted:
            try:
                permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            except Permission.DoesNotExist:
                raise RuntimeError(f"Permission {app_label}.{codename} does not exist: was its app migrated?")
        group.permissions.set(permissions)
        groups[name] = group
    return groups


def ensure_groups() -> dict:
    from django.contrib.auth.models import Group, Permission

    return sync_groups(Group, Permission)
