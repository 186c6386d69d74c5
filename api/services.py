"""Writes the API makes to billing entities, customers, add-ons and webhook endpoints.

Each is one transaction with its audit entry (actor = the API key) and, for customers,
its webhook event. Validation happens before anything is saved: a 4xx writes nothing.
"""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from addons.models import AddOn
from audit import log as audit_log
from customers.models import BillingEntity, Customer, Tax
from webhooks import outbox
from webhooks.models import WebhookEndpoint

from . import errors


def _json_value(value):
    return value if value is None or isinstance(value, (str, int, bool, list, dict)) else str(value)


def _apply(obj, values: dict) -> tuple[dict, dict]:
    """Set attributes; returns (before, after) of those that changed."""
    before, after = {}, {}
    for field, value in values.items():
        old = getattr(obj, field)
        if old != value:
            before[field], after[field] = _json_value(old), _json_value(value)
            setattr(obj, field, value)
    return before, after


def _taxes(codes: list[str]) -> list[Tax]:
    taxes = list(Tax.objects.filter(code__in=codes))
    if len({t.code for t in taxes}) != len(set(codes)):
        raise errors.not_found("tax")
    return taxes


def _set_taxes(obj, codes, before, after) -> None:
    if codes is None:
        return
    taxes = _taxes(codes)
    old = sorted(obj.taxes.values_list("code", flat=True)) if obj.pk else []
    if old != sorted(codes):
        before["tax_codes"], after["tax_codes"] = old, sorted(codes)
    obj.taxes.set(taxes)


def _full_clean(obj, exclude=None):
    try:
        obj.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as exc:
        raise errors.from_django(exc)


# --- billing entities ----------------------------------------------------------------------

def create_billing_entity(values: dict, actor, *, tax_codes=None) -> BillingEntity:
    """A new, non-default entity (the default one comes with the install: customers/bootstrap.py)."""
    missing = {f: "value_is_mandatory" for f in ("code", "name") if values.get(f) in (None, "")}
    if missing:
        raise errors.validation_error(missing)
    if BillingEntity.objects.filter(code=values["code"]).exists():
        raise errors.validation_error({"code": "value_already_exist"})
    try:
        with transaction.atomic():
            entity = BillingEntity(**values)
            _full_clean(entity, exclude=["document_number_prefix"] if not values.get("document_number_prefix") else None)
            entity.save()
            before, after = {}, {k: _json_value(v) for k, v in values.items()}
            _set_taxes(entity, tax_codes, before, after)
            audit_log.record("billing_entity.created", actor, obj=entity, after=after)
    except IntegrityError:  # lost the race for the code to a concurrent create
        raise errors.validation_error({"code": "value_already_exist"})
    return entity


def update_billing_entity(entity: BillingEntity, values: dict, actor, *, tax_codes=None) -> BillingEntity:
    from invoices.grace_period import grace_period_changed

    with transaction.atomic():
        entity = BillingEntity.objects.select_for_update().get(pk=entity.pk)
        previous_grace = entity.invoice_grace_period
        before, after = _apply(entity, values)
        if after:  # a no-op update leaves updated_at alone
            _full_clean(entity)
            entity.save()
        _set_taxes(entity, tax_codes, before, after)
        if after:
            audit_log.record("billing_entity.updated", actor, obj=entity, before=before, after=after)
        if entity.invoice_grace_period != previous_grace:
            grace_period_changed(actor=actor, billing_entity=entity, previous_days=previous_grace)
    return entity


# --- customers -----------------------------------------------------------------------------

def upsert_customer(external_id: str, values: dict, actor, *, billing_entity_code=None, tax_codes=None,
                    metadata=None) -> tuple[Customer, bool]:
    """Create or update by external_id; only the keys in `values` change. Returns (customer, created).

    `metadata` (None: untouched) is Lago's list upsert (Customers::Metadata::UpdateService): an item
    with the id of one of the customer's entries updates it, one without creates one, and the
    entries left out are deleted.

    Two first-time upserts of one external_id race to insert: the loser's unique violation
    rolls its transaction back and it runs again as an update of the winner's row.
    """
    try:
        return _upsert_customer(external_id, values, actor, billing_entity_code, tax_codes, metadata)
    except IntegrityError:
        return _upsert_customer(external_id, values, actor, billing_entity_code, tax_codes, metadata)


def _upsert_customer(external_id, values, actor, billing_entity_code, tax_codes, metadata):
    from invoices.grace_period import grace_period_changed

    with transaction.atomic():
        customer = Customer.objects.select_for_update().select_related("billing_entity").filter(external_id=external_id).first()
        created = customer is None
        if customer is not None and customer.deleted_at is not None:
            raise errors.validation_error({"external_id": "value_already_exist"})
        if created:
            customer = Customer(external_id=external_id, billing_entity=_billing_entity_for_new(billing_entity_code))
        elif billing_entity_code is not None and billing_entity_code != customer.billing_entity.code:
            raise errors.validation_error({"billing_entity_code": "value_is_invalid"})
        if not created and customer.currency and values.get("currency") not in (None, customer.currency):
            raise errors.validation_error({"currency": "currencies_does_not_match"})
        previous_grace = customer.invoice_grace_period
        before, after = _apply(customer, values)
        if created or after:
            _full_clean(customer, exclude=["sequential_id"])
            customer.save()
        _set_taxes(customer, tax_codes, before, after)
        if _set_metadata(customer, metadata, before, after) and not created:
            customer.save(update_fields=["updated_at"])
        if created:
            audit_log.record("customer.created", actor, obj=customer, after=after)
            outbox.record("customer.created", customer)
        elif after:
            audit_log.record("customer.updated", actor, obj=customer, before=before, after=after)
            outbox.record("customer.updated", customer)
            if customer.invoice_grace_period != previous_grace:
                grace_period_changed(actor=actor, customer=customer, previous_days=previous_grace)
    return customer, created


def _metadata_rows(customer) -> list[str]:
    return [f"{m.key}={m.value}" + (" (on invoices)" if m.display_in_invoice else "") for m in customer.metadata.all()]


def _set_metadata(customer: Customer, items, before, after) -> bool:
    """Lago's metadata upsert; returns whether anything changed."""
    from customers.models import CustomerMetadata

    if items is None:
        return False
    old = _metadata_rows(customer)
    existing = {str(m.pk): m for m in customer.metadata.all()}
    kept = {item["id"] for item in items if item.get("id") in existing}
    CustomerMetadata.objects.filter(customer=customer).exclude(pk__in=kept).delete()
    # Keys may move between kept entries: park them first, so the unique (customer, key) never trips.
    for pk in kept:
        CustomerMetadata.objects.filter(pk=pk).update(key=f"\x1f{pk}")
    for item in items:
        fields = {"key": item["key"], "value": item["value"], "display_in_invoice": bool(item.get("display_in_invoice"))}
        if item.get("id") in kept:
            row = existing[item["id"]]
            for name, value in fields.items():
                setattr(row, name, value)
            row.save()
        else:
            CustomerMetadata.objects.create(customer=customer, **fields)
    new = _metadata_rows(customer)
    if new == old:
        return False
    before["metadata"], after["metadata"] = old, new
    return True


def _billing_entity_for_new(code):
    if code:
        entity = BillingEntity.objects.filter(code=code).first()
    else:
        entity = BillingEntity.objects.filter(is_default=True).first() or (
            BillingEntity.objects.first() if BillingEntity.objects.count() == 1 else None
        )
    if entity is None:
        raise errors.not_found("billing_entity")
    return entity


def delete_customer(customer: Customer, actor) -> Customer:
    with transaction.atomic():
        customer.deleted_at = timezone.now()
        customer.save(update_fields=["deleted_at", "updated_at"])
        audit_log.record("customer.deleted", actor, obj=customer, after={"deleted_at": customer.deleted_at.isoformat()})
    return customer


# --- add-ons -------------------------------------------------------------------------------

def create_add_on(values: dict, actor, *, tax_codes=None) -> AddOn:
    missing = {f: "value_is_mandatory" for f in ("name", "code", "amount_cents", "amount_currency") if values.get(f) in (None, "")}
    if missing:
        raise errors.validation_error(missing)
    try:
        with transaction.atomic():
            add_on = AddOn(**values)
            _full_clean(add_on)
            add_on.save()
            before, after = {}, {k: _json_value(v) for k, v in values.items()}
            _set_taxes(add_on, tax_codes, before, after)
            audit_log.record("add_on.created", actor, obj=add_on, after=after)
    except IntegrityError:  # lost the race for the code to a concurrent create
        raise errors.validation_error({"code": "value_already_exist"})
    return add_on


def update_add_on(add_on: AddOn, values: dict, actor, *, tax_codes=None) -> AddOn:
    with transaction.atomic():
        add_on = AddOn.objects.select_for_update().get(pk=add_on.pk)
        before, after = _apply(add_on, values)
        if after:
            _full_clean(add_on)
            add_on.save()
        _set_taxes(add_on, tax_codes, before, after)
        if after:
            audit_log.record("add_on.updated", actor, obj=add_on, before=before, after=after)
    return add_on


def delete_add_on(add_on: AddOn, actor) -> AddOn:
    with transaction.atomic():
        add_on.deleted_at = timezone.now()
        add_on.save(update_fields=["deleted_at", "updated_at"])
        audit_log.record("add_on.deleted", actor, obj=add_on, after={"deleted_at": add_on.deleted_at.isoformat()})
    return add_on


# --- webhook endpoints ---------------------------------------------------------------------

def save_webhook_endpoint(endpoint: WebhookEndpoint | None, values: dict, actor) -> WebhookEndpoint:
    created = endpoint is None
    if created and not values.get("webhook_url"):
        raise errors.validation_error({"webhook_url": "value_is_mandatory"})
    try:
        with transaction.atomic():
            endpoint = endpoint or WebhookEndpoint()
            before, after = _apply(endpoint, values)
            _full_clean(endpoint)  # a URL already used: 422 {"webhook_url": ["value_already_exist"]}
            endpoint.save()
            if created or after:
                audit_log.record("webhook_endpoint.created" if created else "webhook_endpoint.updated", actor,
                                 obj=endpoint, before=before or None, after=after)
    except IntegrityError:
        # The same URL saved concurrently, after our check: the unique constraint answers.
        if WebhookEndpoint.objects.filter(webhook_url=endpoint.webhook_url).exclude(pk=endpoint.pk).exists():
            raise errors.validation_error({"webhook_url": "value_already_exist"})
        raise
    return endpoint


def delete_webhook_endpoint(endpoint: WebhookEndpoint, actor) -> None:
    with transaction.atomic():
        audit_log.record("webhook_endpoint.deleted", actor, obj=endpoint,
                         before={"webhook_url": endpoint.webhook_url, "signature_algo": endpoint.signature_algo})
        endpoint.delete()
