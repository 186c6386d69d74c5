"""The default billing entity, which Lago always has: every `migrate` ensures one exists.

Run from `post_migrate` (customers/apps.py), so it also holds after `flush`, which emits
post_migrate (transactional tests). Idempotent: when an entity is already the default,
nothing is touched, so edits made in the admin or the API are never overwritten.
"""
from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction


def ensure_default_billing_entity(apps=global_apps, using=DEFAULT_DB_ALIAS):
    """Return the default billing entity, creating it from the settings if there is none.

    An existing entity with DEFAULT_BILLING_ENTITY_CODE but not the default is made the default
    rather than duplicated (codes are unique)."""
    BillingEntity = apps.get_model("customers", "BillingEntity")
    manager = BillingEntity._default_manager.db_manager(using)
    with transaction.atomic(using=using):
        entity = manager.select_for_update().filter(is_default=True).first()
        if entity is not None:
            return entity
        entity = manager.select_for_update().filter(code=settings.DEFAULT_BILLING_ENTITY_CODE).first()
        if entity is not None:
            entity.is_default = True
            entity.save(update_fields=["is_default", "updated_at"])
            return entity
        return manager.create(
            code=settings.DEFAULT_BILLING_ENTITY_CODE, name=settings.ORGANIZATION_NAME, is_default=True,
            default_currency=settings.DEFAULT_CURRENCY, timezone=settings.DEFAULT_TIMEZONE,
            document_number_prefix=settings.DOCUMENT_NUMBER_PREFIX,
        )


def on_post_migrate(sender, apps=global_apps, using=DEFAULT_DB_ALIAS, **kwargs):
    try:
        apps.get_model("customers", "BillingEntity")
    except LookupError:  # migrated backwards past the model: nothing to ensure
        return
    ensure_default_billing_entity(apps, using)
