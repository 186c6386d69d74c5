"""The console's roles as Django groups: one definition, used by the data migration,
`ensure_demo_users` and the tests' personas.

Billing operators review drafts, edit their fees, finalize, and issue one-off
invoices (invoices.add_invoice). Auditors read invoices and the audit log, export
it and verify its hash chain (which records a verification); they change nothing.
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
        # The rest of billing, read-only: what an operator checks before finalizing or voiding.
        ("plans", "view_plan"), ("plans", "view_billablemetric"), ("plans", "view_charge"),
        ("subscriptions", "view_subscription"), ("usage", "view_event"),
        ("coupons", "view_coupon"), ("coupons", "view_appliedcoupon"),
        ("wallets", "view_wallet"), ("wallets", "view_wallettransaction"),
        ("credit_notes", "view_creditnote"),
        # Upstream mode: seed 001's "confirm via the most recent sync run" before finalizing.
        ("upstream", "view_syncrun"),
    ],
    AUDITORS: [
        ("invoices", "view_invoice"), ("invoices", "view_fee"),
        ("customers", "view_customer"),
        ("audit", "view_auditlogentry"), ("audit", "export_auditlogentry"), ("audit", "verify_auditlogentry"),
        ("audit", "view_auditverification"),
        ("coupons", "view_appliedcoupon"), ("wallets", "view_wallettransaction"), ("credit_notes", "view_creditnote"),
    ],
}


def create_permissions_now(apps) -> None:
    """Permissions are normally created after all migrations (post_migrate); a data migration
    that assigns them needs them to exist already."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # create_permissions skips app configs without a models module, which historical ones lack.
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous


# Permissions that a migration created after the early group syncs (accounts 0001, 0002) had run: those
# syncs leave them out (their apps' models did not have them yet), the migration named here gives them.
LATER_PERMISSIONS = {
    ("audit", "verify_auditlogentry"),  # audit 0006, given by accounts 0003
    ("audit", "view_auditverification"),  # audit 0003, given by accounts 0003
}


def sync_groups(Group, Permission, *, app_labels=None, without=frozenset()) -> dict:
    """Create the groups and set exactly their permissions; idempotent. Takes the model
    classes so the data migrations can pass their historical models; `app_labels` limits
    the sync to the apps an early migration can already see, `without` leaves out permissions
    those apps did not have yet (LATER_PERMISSIONS)."""
    groups = {}
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for app_label, codename in wanted:
            if (app_labels is not None and app_label not in app_labels) or (app_label, codename) in without:
                continue
            try:
                permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            except Permission.DoesNotExist:
                if not Permission.objects.filter(content_type__app_label=app_label).exists():
                    continue  # its app is not migrated yet at this point of the history: a later migration gives it
                raise RuntimeError(f"Permission {app_label}.{codename} does not exist: was its app migrated?")
        group.permissions.set(permissions)
        groups[name] = group
    return groups


def ensure_groups() -> dict:
    from django.contrib.auth.models import Group, Permission

    return sync_groups(Group, Permission)
