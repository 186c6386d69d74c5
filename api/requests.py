"""The request bodies /api/v1 accepts, declared once: views parse with them (api/parsing.py) and
the OpenAPI document's request schemas are generated from them (api/openapi.py).

Each model is the object under the body's root key (`{"customer": {...}}`; `root()` answers the
400 for a missing one). Fields are optional at this level, as Lago's params are: what is
mandatory, and when, is the view's or the service's rule (a plan's name only on create, an
unknown customer is a 404 before anything else), so `documented_required` only feeds the schema.
`X | None` accepts null; any other field answers null with value_is_invalid. Unknown keys are ignored.
"""
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .types import (
    AwareIsoDatetime, IsoDatetime, LagoBool, LagoDecimal, LagoDict, LagoInt, LagoList, LagoStr, LooseIsoDatetime,
    MinorUnits, StrList, StrMap, list_of,
)


def _schema_extra(schema: dict, model) -> None:
    if model.documented_required:
        schema["required"] = list(model.documented_required)
    for field in schema.get("properties", {}).values():
        field.pop("default", None)  # defaults are "absent", not a value the client would receive
        field.pop("title", None)
    schema.pop("title", None)


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra=_schema_extra)
    documented_required: ClassVar[tuple[str, ...]] = ()

    def given(self) -> dict:
        """The fields the client sent (null included), as plain values: what the views used to pick by hand."""
        return self.model_dump(exclude_unset=True)


def _enum(*values):
    return Field(None, json_schema_extra={"enum": list(values)})


def _documented(**schema):
    """Schema keywords the view or the service enforces (with its own codes and order), not the model."""
    description = schema.pop("description", None)
    return Field(None, description=description, json_schema_extra=schema)


# --- billing entities / organization -----------------------------------------------------------

class EntityBillingConfiguration(Body):
    invoice_grace_period: LagoInt = _documented(minimum=0)
    invoice_footer: LagoStr | None = None
    document_locale: LagoStr = None


class BillingEntityFields(Body):
    name: LagoStr = None
    email: LagoStr | None = None
    legal_name: LagoStr | None = None
    legal_number: LagoStr | None = None
    tax_identification_number: LagoStr | None = None
    address_line1: LagoStr | None = None
    address_line2: LagoStr | None = None
    city: LagoStr | None = None
    state: LagoStr | None = None
    zipcode: LagoStr | None = None
    country: LagoStr | None = None
    default_currency: LagoStr = None
    timezone: LagoStr = None
    document_numbering: LagoStr = _enum("per_customer", "per_billing_entity")
    document_number_prefix: LagoStr | None = None
    finalize_zero_amount_invoice: LagoBool = None
    net_payment_term: LagoInt = _documented(minimum=0)
    invoice_grace_period: LagoInt = _documented(minimum=0, description="flat form of seed 003's example")
    invoice_footer: LagoStr | None = None
    document_locale: LagoStr = None
    tax_codes: StrList = None
    billing_configuration: EntityBillingConfiguration = None


class BillingEntityCreateFields(BillingEntityFields):
    documented_required = ("code", "name")
    code: LagoStr = None


# --- customers ---------------------------------------------------------------------------------

class CustomerBillingConfigurationInput(Body):
    invoice_grace_period: LagoInt | None = None
    document_locale: LagoStr | None = _documented(pattern="^[a-z]{2}(-[A-Za-z]{2})?$")
    payment_provider: LagoStr | None = Field(None, json_schema_extra={"enum": ["stripe", "adyen", "gocardless", None]})
    payment_provider_code: LagoStr | None = None
    provider_customer_id: LagoStr | None = None
    sync: LagoBool | None = None
    sync_with_provider: LagoBool | None = None
    provider_payment_methods: StrList | None = None


class CustomerAddress(Body):
    address_line1: LagoStr | None = None
    address_line2: LagoStr | None = None
    city: LagoStr | None = None
    state: LagoStr | None = None
    zipcode: LagoStr | None = None
    country: LagoStr | None = None


class CustomerMetadataItem(Body):
    """Lago's upsert: an item with the `id` of one of the customer's entries updates it, one without
    creates an entry, and the customer's entries left out of the list are deleted."""
    documented_required = ("key", "value")
    id: LagoStr | None = None
    key: LagoStr = None
    value: LagoStr = None
    display_in_invoice: LagoBool | None = None


class CustomerFields(Body):
    documented_required = ("external_id",)
    external_id: LagoStr = None
    name: LagoStr | None = None
    firstname: LagoStr | None = None
    lastname: LagoStr | None = None
    account_type: LagoStr | None = Field(None, json_schema_extra={"enum": ["customer", "partner", None]})
    customer_type: LagoStr | None = Field(None, json_schema_extra={"enum": ["company", "individual", None]})
    legal_name: LagoStr | None = None
    legal_number: LagoStr | None = None
    tax_identification_number: LagoStr | None = None
    email: LagoStr | None = None
    phone: LagoStr | None = None
    url: LagoStr | None = None
    logo_url: LagoStr | None = None
    address_line1: LagoStr | None = None
    address_line2: LagoStr | None = None
    city: LagoStr | None = None
    state: LagoStr | None = None
    zipcode: LagoStr | None = None
    country: LagoStr | None = None
    shipping_address: CustomerAddress | None = None
    currency: LagoStr | None = None
    timezone: LagoStr | None = None
    net_payment_term: LagoInt | None = None
    billing_entity_code: LagoStr | None = None
    tax_codes: StrList = None
    billing_configuration: CustomerBillingConfigurationInput = None
    metadata: list_of(CustomerMetadataItem) | None = _documented(maxItems=5)
    # Checked by the view before anything else (any value but the three strings is invalid_value, as Lago).
    finalize_zero_amount_invoice: str = _enum("inherit", "skip", "finalize")


# --- add-ons -----------------------------------------------------------------------------------

class AddOnFields(Body):
    name: LagoStr = None
    invoice_display_name: LagoStr | None = None
    code: LagoStr = None
    amount_cents: MinorUnits = None
    amount_currency: LagoStr = None
    description: LagoStr | None = None
    tax_codes: StrList = None


# --- invoices ----------------------------------------------------------------------------------

class InvoiceMetadataItem(Body):
    documented_required = ("key",)
    id: LagoStr | None = None
    key: LagoStr = None
    value: LagoStr = None


class InvoiceUpdateFields(Body):
    payment_status: LagoStr = _enum("pending", "succeeded", "failed")
    metadata: list_of(InvoiceMetadataItem) = None


class OneOffFee(Body):
    documented_required = ("add_on_code",)
    add_on_code: LagoStr = None
    unit_amount_cents: LagoInt | None = None  # whole and non-negative: the service's rule (its codes)
    units: LagoDecimal | None = None  # above zero: the service's rule
    description: LagoStr | None = None
    invoice_display_name: LagoStr | None = None
    from_datetime: IsoDatetime | None = None
    to_datetime: IsoDatetime | None = None
    tax_codes: StrList | None = None


class OneOffInvoiceFields(Body):
    documented_required = ("external_customer_id", "fees")
    external_customer_id: LagoStr = None
    currency: LagoStr | None = None
    fees: list_of(OneOffFee) = _documented(minItems=1)
    billing_entity_code: LagoStr | None = None


class VoidOptions(Body):
    generate_credit_note: LagoBool = None
    credit_amount: LagoInt = None
    refund_amount: LagoInt = None


# --- coupons and credit notes ------------------------------------------------------------------

FREQUENCIES = ("once", "recurring", "forever")


class CouponFields(Body):
    name: LagoStr = None
    code: LagoStr = None
    description: LagoStr | None = None
    coupon_type: LagoStr = _enum("fixed_amount", "percentage")
    amount_cents: LagoInt | None = _documented(minimum=1)
    amount_currency: LagoStr | None = None
    percentage_rate: LagoDecimal | None = Field(None, description="percent, e.g. 12.5; above 0, at most 100")
    expiration: LagoStr = _enum("no_expiration", "time_limit")
    expiration_at: LooseIsoDatetime | None = None
    reusable: LagoBool = None
    frequency: LagoStr = _enum(*FREQUENCIES)
    frequency_duration: LagoInt | None = None
    applies_to: LagoDict | None = Field(None, description="accepted, not implemented (coupons apply to every plan)")


class AppliedCouponFields(Body):
    documented_required = ("external_customer_id", "coupon_code")
    external_customer_id: LagoStr = None
    coupon_code: LagoStr = None
    amount_cents: LagoInt | None = _documented(minimum=1)
    amount_currency: LagoStr | None = None
    percentage_rate: LagoDecimal | None = None
    frequency: LagoStr | None = Field(None, json_schema_extra={"enum": [*FREQUENCIES, None]})
    frequency_duration: LagoInt | None = _documented(minimum=1)


class CreditNoteItem(Body):
    documented_required = ("fee_id", "amount_cents")
    fee_id: LagoStr = None
    amount_cents: LagoInt = _documented(minimum=0)


class CreditNoteFields(Body):
    documented_required = ("invoice_id", "reason", "items")
    invoice_id: LagoStr = None
    reason: LagoStr = _enum("duplicated_charge", "product_unsatisfactory", "order_change", "order_cancellation",
                            "fraudulent_charge", "other")
    description: LagoStr | None = None
    credit_amount_cents: MinorUnits | None = None
    refund_amount_cents: MinorUnits | None = None
    offset_amount_cents: MinorUnits | None = None
    items: list_of(CreditNoteItem) = _documented(minItems=1)
    metadata: StrMap | None = None


# --- usage events ------------------------------------------------------------------------------

class EventFields(Body):
    """Documentation only: events are parsed by usage.ingest's hand-written fast path (see README)."""
    documented_required = ("transaction_id", "external_subscription_id", "code")
    transaction_id: LagoStr = None
    external_subscription_id: LagoStr = None
    code: LagoStr = None
    timestamp: LagoDecimal | None = Field(None, description="Unix seconds (decimals allowed); null = now; ISO is invalid_format")
    precise_total_amount_cents: LagoDecimal | None = None
    properties: LagoDict | None = None


class BatchEventInput(Body):
    documented_required = ("events",)
    events: list_of(EventFields) = _documented(minItems=1, maxItems=100)


# --- catalogue: billable metrics, plans, subscriptions -------------------------------------------

class BillableMetricFilter(Body):
    documented_required = ("key", "values")
    key: LagoStr = None
    values: StrList = _documented(minItems=1)


class BillableMetricFields(Body):
    documented_required = ("name", "code", "aggregation_type")
    name: LagoStr = None
    code: LagoStr = None
    description: LagoStr | None = None
    aggregation_type: LagoStr = _enum("count_agg", "sum_agg", "max_agg", "unique_count_agg")
    field_name: LagoStr | None = None
    recurring: LagoBool | None = Field(None, json_schema_extra={"const": False})
    # Items are checked by the view (one value_is_invalid for the field, as today); typed here for the schema.
    filters: LagoList | None = Field(None, json_schema_extra={"items": {"$ref": "#/components/schemas/BillableMetricFilter"}})


CHARGE_MODELS = ("standard", "graduated", "volume", "package")


class ChargeFilterInput(Body):
    documented_required = ("values",)
    values: LagoDict = None
    properties: LagoDict | None = None
    invoice_display_name: LagoStr | None = None


class ChargeInput(Body):
    id: LagoStr | None = Field(None, description="an existing charge to update (PUT)")
    billable_metric_id: LagoStr = None
    lago_billable_metric_id: LagoStr = None
    charge_model: LagoStr = _enum(*CHARGE_MODELS)
    properties: LagoDict | None = None
    invoice_display_name: LagoStr | None = None
    filters: list_of(ChargeFilterInput) | None = None


class PlanFields(Body):
    name: LagoStr = None
    code: LagoStr = None
    interval: LagoStr = _enum("weekly", "monthly", "quarterly", "yearly")
    amount_cents: MinorUnits = None
    amount_currency: LagoStr = None
    pay_in_advance: LagoBool = None
    invoice_display_name: LagoStr | None = None
    description: LagoStr | None = None
    charges: list_of(ChargeInput) | None = Field(None, description="PUT: the whole new list")


class SubscriptionFields(Body):
    documented_required = ("external_customer_id", "plan_code")
    external_customer_id: LagoStr = None
    plan_code: LagoStr = None
    external_id: LagoStr | None = None
    name: LagoStr | None = None
    subscription_at: AwareIsoDatetime | None = None
    billing_time: LagoStr | None = Field(None, json_schema_extra={"enum": ["calendar", "anniversary", None]})


# --- webhook endpoints -------------------------------------------------------------------------

class WebhookEndpointFields(Body):
    webhook_url: LagoStr = Field(None, json_schema_extra={"format": "uri"})
    signature_algo: LagoStr = _enum("jwt", "hmac")
    name: LagoStr | None = None
    event_types: StrList | None = None


# Every request body: schema name → (root key or None for an unwrapped body, model). The OpenAPI
# document publishes the model under its class name and the wrapped body under the key's name.
BODIES = {
    "BillingEntityCreate": ("billing_entity", BillingEntityCreateFields),
    "BillingEntityUpdate": ("billing_entity", BillingEntityFields),  # or "organization" (seed 003), see api/openapi.py
    "OrganizationUpdate": ("organization", BillingEntityFields),
    "CustomerInput": ("customer", CustomerFields),
    "AddOnInput": ("add_on", AddOnFields),
    "InvoiceUpdate": ("invoice", InvoiceUpdateFields),
    "OneOffInvoiceInput": ("invoice", OneOffInvoiceFields),
    "VoidOptions": (None, VoidOptions),
    "CouponInput": ("coupon", CouponFields),
    "AppliedCouponInput": ("applied_coupon", AppliedCouponFields),
    "CreditNoteInput": ("credit_note", CreditNoteFields),
    "EventInput": ("event", EventFields),
    "BatchEventInput": (None, BatchEventInput),
    "BillableMetricInput": ("billable_metric", BillableMetricFields),
    "PlanInput": ("plan", PlanFields),
    "SubscriptionInput": ("subscription", SubscriptionFields),
    "WebhookEndpointInput": ("webhook_endpoint", WebhookEndpointFields),
}
MODELS = [BillableMetricFilter, *dict.fromkeys(model for _, model in BODIES.values())]
