"""/activity_logs and /activity_logs/{activity_id}: Lago's audit-log API, read from OUR audit log
(audit.models.AuditLogEntry), so auditors' Lago tools read who did what. Read-only.

Mapping: activity_id = the entry's id, activity_type = its action (`invoice.finalized`, `wallet.created`…),
activity_source api | front (the admin: page, bulk action, runbook endpoint) | system (tasks and commands), activity_object = the entry's
`after`, activity_object_changes = {field: [before, after]} of the fields that changed, user_email = the
operator's e-mail (none for API keys and the system), resource_type = the model's class name (Invoice,
Wallet, Customer…), resource_id = the object's id, external_customer_id / external_subscription_id =
the customer (and subscription) the object belongs to, logged_at = created_at = when it was written.
Newest first; Lago's filters and pagination.
"""
import uuid

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.dateparse import parse_date

from audit.models import AuditLogEntry

from .. import errors
from ..http import endpoint, ok, paginate, query_list
from ..serializers_billing import SOURCES, serialize_activity_log

# object_type → (path to the customer's external_id, path to the subscription's external_id or None)
OWNED = {
    "customers.customer": ("external_id", None),
    "invoices.invoice": ("customer__external_id", "subscription__external_id"),
    "subscriptions.subscription": ("customer__external_id", "external_id"),
    "wallets.wallet": ("customer__external_id", None),
    "coupons.appliedcoupon": ("customer__external_id", None),
    "credit_notes.creditnote": ("customer__external_id", None),
}


def _entries():
    return AuditLogEntry.objects.select_related("user")


def activity_owners(entries) -> dict:
    """{(object_type, object_id): (external_customer_id, external_subscription_id)} for a page of entries."""
    wanted: dict[str, set] = {}
    for entry in entries:
        if entry.object_type in OWNED and entry.object_id:
            wanted.setdefault(entry.object_type, set()).add(entry.object_id)
        if entry.invoice_id:
            wanted.setdefault("invoices.invoice", set()).add(str(entry.invoice_id))
    owners = {}
    for label, ids in wanted.items():
        customer_path, subscription_path = OWNED[label]
        fields = ["pk", customer_path] + ([subscription_path] if subscription_path else [])
        try:
            rows = apps.get_model(label).objects.filter(pk__in=list(ids)).values_list(*fields)
            for pk, customer, *subscription in rows:
                owners[(label, str(pk))] = (customer, subscription[0] if subscription else None)
        except ValidationError:  # an id that is not one of this model's
            continue
    return owners


def _ids_owned_by(label: str, path: str, value: str) -> list[str]:
    return [str(pk) for pk in apps.get_model(label).objects.filter(**{path: value}).values_list("pk", flat=True)]


def _day(request, name):
    value = request.GET.get(name)
    if not value:
        return None
    try:
        day = parse_date(value) if len(value) == 10 else None
    except ValueError:  # well formed, but no such day
        day = None
    if day is None:
        raise errors.validation_error({name: "invalid_date"})
    return day


def _resource_labels(names: list[str]) -> list[str]:
    by_class = {model.__name__: model._meta.label_lower for model in apps.get_models()}
    return [by_class.get(name, name) for name in names]


def list_activity_logs(request):
    rows = _entries()
    if (day := _day(request, "from_date")) is not None:
        rows = rows.filter(created_at__date__gte=day)
    if (day := _day(request, "to_date")) is not None:
        rows = rows.filter(created_at__date__lte=day)
    if types := query_list(request, "activity_types"):
        rows = rows.filter(action__in=types)
    if sources := query_list(request, "activity_sources"):
        if set(sources) - set(SOURCES.values()):
            raise errors.validation_error({"activity_sources": "value_is_invalid"})
        rows = rows.filter(source__in=[ours for ours, lago in SOURCES.items() if lago in sources])
    if emails := query_list(request, "user_emails"):
        rows = rows.filter(user__email__in=emails)
    if customer := request.GET.get("external_customer_id"):
        owned = Q(invoice__customer__external_id=customer)
        for label, (path, _) in OWNED.items():
            owned |= Q(object_type=label, object_id__in=_ids_owned_by(label, path, customer))
        rows = rows.filter(owned)
    if subscription := request.GET.get("external_subscription_id"):
        owned = Q(invoice__subscription__external_id=subscription)
        for label, (_, path) in OWNED.items():
            if path:
                owned |= Q(object_type=label, object_id__in=_ids_owned_by(label, path, subscription))
        rows = rows.filter(owned)
    if ids := query_list(request, "resource_ids"):
        rows = rows.filter(Q(object_id__in=ids) | Q(object_type="", invoice_id__in=[i for i in ids if _is_uuid(i)]))
    if types := query_list(request, "resource_types"):
        labels = _resource_labels(types)
        rows = rows.filter(Q(object_type__in=labels) | (Q(object_type="", invoice__isnull=False) if "invoices.invoice" in labels else Q(pk__in=[])))
    page, meta = paginate(request, rows.order_by("-created_at", "-pk"))
    owners = activity_owners(page)
    return ok({"activity_logs": [serialize_activity_log(entry, owners) for entry in page], "meta": meta})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def show(request, activity_id):
    entry = _entries().filter(pk=activity_id).first() if _is_uuid(activity_id) else None
    if entry is None:
        raise errors.not_found("activity_log")
    return ok({"activity_log": serialize_activity_log(entry, activity_owners([entry]))})


collection = endpoint({"GET": list_activity_logs})
member = endpoint({"GET": show})
