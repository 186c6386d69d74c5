"""Writes the API makes to billable metrics, plans (with their charges) and subscriptions.

Each is one transaction with its audit entry (actor = the API key). The views have already
checked types and looked up what the request names; what is left (model rules, uniqueness)
is checked here before anything is saved, and any refusal rolls the whole write back.
"""
from django.db import IntegrityError, transaction

from audit import log as audit_log
from customers.models import Customer
from invoices.models import Fee
from plans.models import BillableMetric, Charge, ChargeFilter, Plan
from subscriptions.models import Subscription

from . import errors
from .services import _apply, _full_clean, _json_value


def _snapshot(values: dict) -> dict:
    return {k: _json_value(v) for k, v in values.items()}


# --- billable metrics ------------------------------------------------------------------------

def create_billable_metric(values: dict, actor) -> BillableMetric:
    try:
        with transaction.atomic():
            metric = BillableMetric(**values)
            _full_clean(metric)
            metric.save()
            audit_log.record("billable_metric.created", actor, obj=metric, after=_snapshot(values))
    except IntegrityError:  # lost the race for the code to a concurrent create
        raise errors.validation_error({"code": "value_already_exist"})
    return metric


# --- plans and charges -----------------------------------------------------------------------

def create_plan(values: dict, charges: list[dict], actor) -> Plan:
    """`charges`: dicts of billable_metric, charge_model, properties, invoice_display_name, filters."""
    try:
        with transaction.atomic():
            plan = Plan(**values)
            _full_clean(plan)
            plan.save()
            for position, spec in enumerate(charges):
                _save_charge(Charge(plan=plan), spec, position)
            audit_log.record("plan.created", actor, obj=plan, after={**_snapshot(values), "charges": _charges_snapshot(plan)})
    except IntegrityError:
        raise errors.validation_error({"code": "value_already_exist"})
    return plan


def update_plan(plan: Plan, values: dict, charges: list[dict] | None, actor) -> Plan:
    """Partial update; `charges` (if given) is the whole new list: an entry with an `id` updates that
    charge, one without creates a charge, and charges left out are deleted unless invoiced."""
    try:
        with transaction.atomic():
            plan = Plan.objects.select_for_update().get(pk=plan.pk)
            if "currency" in values and values["currency"] != plan.currency and plan.subscriptions.exists():
                raise errors.validation_error({"amount_currency": "value_is_invalid"})
            previous_charges = _charges_snapshot(plan)
            before, after = _apply(plan, values)
            if after:
                _full_clean(plan)
                plan.save()
            if charges is not None:
                _replace_charges(plan, charges)
                current = _charges_snapshot(plan)
                if current != previous_charges:
                    before["charges"], after["charges"] = previous_charges, current
            if after:
                audit_log.record("plan.updated", actor, obj=plan, before=before, after=after)
    except IntegrityError:
        raise errors.validation_error({"code": "value_already_exist"})
    return plan


def _replace_charges(plan, charges):
    existing = {str(c.pk): c for c in plan.charges.all()}
    kept = {spec["id"] for spec in charges if spec.get("id")}
    unknown = kept - set(existing)
    if unknown:
        raise errors.not_found("charge")
    removed = [c for pk, c in existing.items() if pk not in kept]
    if Fee.objects.filter(charge__in=removed).exists():
        raise errors.validation_error({"charges": "charge_already_invoiced"})
    for charge in removed:
        charge.delete()
    for position, spec in enumerate(charges):
        _save_charge(existing.get(spec.get("id")) or Charge(plan=plan), spec, position)


def _save_charge(charge: Charge, spec: dict, position: int) -> None:
    for field in ("billable_metric", "charge_model", "properties", "invoice_display_name"):
        if field in spec:
            setattr(charge, field, spec[field])
    charge.position = position
    _full_clean(charge, exclude=["plan"])
    charge.save()
    if spec.get("filters") is not None:
        _replace_filters(charge, spec["filters"])


def _replace_filters(charge: Charge, filters: list[dict]) -> None:
    """Filters are matched by their values: a match is updated, the rest created; others deleted unless invoiced."""
    existing = list(charge.filters.all())
    wanted = [f["values"] for f in filters]
    removed = [f for f in existing if f.values not in wanted]
    if Fee.objects.filter(charge_filter__in=removed).exists():
        raise errors.validation_error({"filters": "charge_filter_already_invoiced"})
    for item in removed:
        item.delete()
    by_values = {_key(f.values): f for f in existing if f not in removed}
    for position, spec in enumerate(filters):
        item = by_values.get(_key(spec["values"])) or ChargeFilter(charge=charge, values=spec["values"])
        item.properties = spec.get("properties") or {}
        item.invoice_display_name = spec.get("invoice_display_name") or ""
        item.position = position
        _full_clean(item, exclude=["charge"])
        item.save()


def _key(values: dict) -> tuple:
    return tuple(sorted((k, tuple(v)) for k, v in values.items()))


def _charges_snapshot(plan) -> list[dict]:
    return [{"id": str(c.pk), "billable_metric": c.billable_metric.code, "charge_model": c.charge_model,
             "properties": c.properties, "filters": [{"values": f.values, "properties": f.properties} for f in c.filters.all()]}
            for c in plan.charges.select_related("billable_metric").prefetch_related("filters")]


# --- subscriptions ---------------------------------------------------------------------------

def create_subscription(customer: Customer, plan: Plan, values: dict, actor) -> Subscription:
    """A customer without a currency takes the plan's (as in Lago); another currency is refused."""
    try:
        with transaction.atomic():
            customer = Customer.objects.select_for_update().get(pk=customer.pk)
            if not customer.currency:
                customer.currency = plan.currency
                customer.save(update_fields=["currency", "updated_at"])
                audit_log.record("customer.updated", actor, obj=customer, before={"currency": ""}, after={"currency": plan.currency})
            elif customer.currency != plan.currency:
                raise errors.validation_error({"currency": "currencies_does_not_match"})
            subscription = Subscription(customer=customer, plan=plan, **values)
            _full_clean(subscription)
            subscription.save()
            audit_log.record("subscription.created", actor, obj=subscription, after={
                **_snapshot(values), "external_customer_id": customer.external_id, "plan_code": plan.code})
    except IntegrityError:
        raise errors.validation_error({"external_id": "value_already_exist"})
    return subscription
