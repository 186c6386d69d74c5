"""Lago JSON shapes the API adds to the foundation's serializers: add-ons, webhook endpoints, organization,
events, billable metrics, plans with charges, subscriptions."""
from datetime import timezone as dt_timezone

from django.conf import settings

from addons.models import AddOn
from billing_console.serialization import decimal_str, iso_datetime
from customers.models import BillingEntity
from customers.serializers import serialize_tax
from plans.models import BillableMetric, Charge, Plan
from subscriptions.models import Subscription
from webhooks.models import WebhookEndpoint


def serialize_add_on(add_on: AddOn) -> dict:
    return {
        "lago_id": str(add_on.pk),
        "name": add_on.name,
        "invoice_display_name": add_on.invoice_display_name or None,
        "code": add_on.code,
        "amount_cents": add_on.amount_cents,
        "amount_currency": add_on.amount_currency,
        "description": add_on.description or None,
        "created_at": iso_datetime(add_on.created_at),
        "taxes": [serialize_tax(t) for t in add_on.taxes.all()],
    }


def serialize_webhook_endpoint(endpoint: WebhookEndpoint) -> dict:
    return {
        "lago_id": str(endpoint.pk),
        "lago_organization_id": settings.ORGANIZATION_ID,
        "webhook_url": endpoint.webhook_url,
        "signature_algo": endpoint.signature_algo,
        "name": endpoint.name or None,
        "event_types": endpoint.event_types or None,
        # Not in Lago's shape (its HMAC key is organization-wide): the key to verify `hmac` signatures.
        "hmac_key": endpoint.hmac_secret,
        "created_at": iso_datetime(endpoint.created_at),
    }


def serialize_organization(entity: BillingEntity) -> dict:
    """Lago's OrganizationObject: the instance's identity (ORGANIZATION_ID, ORGANIZATION_NAME, the same as in
    webhooks) with the settings of its default billing entity, created with it by the first `migrate`."""
    webhook_urls = list(WebhookEndpoint.objects.order_by("updated_at").values_list("webhook_url", flat=True))
    numbering = entity.document_numbering
    return {
        "lago_id": settings.ORGANIZATION_ID,
        "name": settings.ORGANIZATION_NAME,
        "created_at": iso_datetime(entity.created_at),
        "webhook_url": webhook_urls[-1] if webhook_urls else None,
        "webhook_urls": webhook_urls,
        "default_currency": entity.default_currency,
        "country": entity.country or None,
        "address_line1": entity.address_line1 or None,
        "address_line2": entity.address_line2 or None,
        "state": entity.state or None,
        "zipcode": entity.zipcode or None,
        "email": entity.email or None,
        "city": entity.city or None,
        "legal_name": entity.legal_name or None,
        "legal_number": entity.legal_number or None,
        "net_payment_term": entity.net_payment_term,
        "document_numbering": "per_organization" if numbering == BillingEntity.DocumentNumbering.PER_BILLING_ENTITY else numbering,
        "document_number_prefix": entity.document_number_prefix,
        "tax_identification_number": entity.tax_identification_number or None,
        "timezone": entity.timezone,
        "email_settings": [],
        "finalize_zero_amount_invoice": entity.finalize_zero_amount_invoice,
        "billing_configuration": {
            "invoice_footer": entity.invoice_footer or None,
            "invoice_grace_period": entity.invoice_grace_period,
            "document_locale": entity.document_locale,
        },
        "taxes": [serialize_tax(t) for t in entity.taxes.all()],
    }


# --- usage, catalogue, subscriptions --------------------------------------------------------

def iso_millis(value) -> str | None:
    """Lago's event timestamps: ISO 8601 with milliseconds (`iso8601(3)`)."""
    if value is None:
        return None
    return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def serialize_event(event, subscription_ids: dict) -> dict:
    """Lago's EventResponse; `subscription_ids` maps external_subscription_id -> (lago id, lago customer id)."""
    lago_subscription_id, lago_customer_id = subscription_ids.get(event.external_subscription_id, (None, None))
    precise = event.precise_total_amount_cents
    return {
        "lago_id": str(event.id),
        "transaction_id": event.transaction_id,
        "lago_customer_id": lago_customer_id,
        "lago_subscription_id": lago_subscription_id,
        "external_subscription_id": event.external_subscription_id,
        "code": event.code,
        "timestamp": iso_millis(event.timestamp),
        "precise_total_amount_cents": None if precise is None else decimal_str(precise),
        "properties": event.properties,
        "created_at": iso_datetime(event.created_at),
    }


AGGREGATION_TYPES = {"count": "count_agg", "sum": "sum_agg", "max": "max_agg", "unique_count": "unique_count_agg"}


def serialize_billable_metric(metric: BillableMetric) -> dict:
    return {
        "lago_id": str(metric.pk),
        "name": metric.name,
        "code": metric.code,
        "description": metric.description or None,
        "aggregation_type": AGGREGATION_TYPES[metric.aggregation],
        "field_name": metric.field_name or None,
        "recurring": False,
        "weighted_interval": None,
        "expression": None,
        "rounding_function": None,
        "rounding_precision": None,
        "created_at": iso_datetime(metric.created_at),
        "filters": [{"key": key, "values": values} for key, values in metric.filters.items()],
    }


def serialize_charge(charge: Charge) -> dict:
    return {
        "lago_id": str(charge.pk),
        "lago_billable_metric_id": str(charge.billable_metric_id),
        "billable_metric_code": charge.billable_metric.code,
        "created_at": iso_datetime(charge.created_at),
        "charge_model": charge.charge_model,
        "pay_in_advance": False,
        "invoiceable": True,
        "prorated": False,
        "min_amount_cents": 0,
        "invoice_display_name": charge.invoice_display_name or None,
        "properties": charge.properties,
        "filters": [{"invoice_display_name": f.invoice_display_name or None, "properties": f.properties, "values": f.values}
                    for f in charge.filters.all()],
        "taxes": [],
    }


def serialize_plan(plan: Plan) -> dict:
    return {
        "lago_id": str(plan.pk),
        "name": plan.name,
        "invoice_display_name": plan.invoice_display_name or None,
        "created_at": iso_datetime(plan.created_at),
        "code": plan.code,
        "interval": plan.interval,
        "description": plan.description or None,
        "amount_cents": plan.amount_cents,
        "amount_currency": plan.currency,
        "trial_period": 0.0,
        "pay_in_advance": plan.pay_in_advance,
        "bill_charges_monthly": None,
        "charges": [serialize_charge(c) for c in plan.charges.all()],
        "taxes": [],
    }


def serialize_subscription(subscription: Subscription) -> dict:
    plan, customer = subscription.plan, subscription.customer
    return {
        "lago_id": str(subscription.pk),
        "external_id": subscription.external_id,
        "lago_customer_id": str(customer.pk),
        "external_customer_id": customer.external_id,
        "name": subscription.name or None,
        "plan_code": plan.code,
        "plan_amount_cents": plan.amount_cents,
        "plan_amount_currency": plan.currency,
        "status": subscription.status,
        "billing_time": subscription.billing_time,
        "subscription_at": iso_datetime(subscription.started_at),
        "started_at": iso_datetime(subscription.started_at),
        "terminated_at": iso_datetime(subscription.terminated_at),
        "canceled_at": None,
        "ending_at": iso_datetime(subscription.ending_at),
        "previous_plan_code": None,
        "next_plan_code": None,
        "downgrade_plan_date": None,
        "created_at": iso_datetime(subscription.created_at),
    }
