"""Request bodies of issue 10's operations (previews, estimates, updates), declared as api/requests.py's are.

lago-python-client sends nulls for every absent field of `invoices.preview` (no root key) and of
`credit_notes.estimate`, so every field here takes null as "not given".
"""
from pydantic import Field

from .requests import BillableMetricFields, Body, CreditNoteItem, CustomerAddress, _documented, _enum
from .types import AwareIsoDatetime, LagoDecimal, LagoInt, LagoStr, StrList, StrMap, list_of


# --- POST /invoices/preview (no root) ------------------------------------------------------------

class PreviewCustomer(CustomerAddress):
    """An existing customer by external_id, or (without one) a customer that exists only for the preview."""
    external_id: LagoStr | None = None
    name: LagoStr | None = None
    currency: LagoStr | None = None
    timezone: LagoStr | None = None
    tax_identification_number: LagoStr | None = None


class PreviewCoupon(Body):
    """An existing coupon by code, or one made for the preview with these terms."""
    documented_required = ("code",)
    code: LagoStr = None
    name: LagoStr | None = None
    coupon_type: LagoStr | None = Field(None, json_schema_extra={"enum": ["fixed_amount", "percentage", None]})
    amount_cents: LagoInt | None = None
    amount_currency: LagoStr | None = None
    percentage_rate: LagoDecimal | None = None
    frequency_duration: LagoInt | None = None


class PreviewSubscriptions(Body):
    documented_required = ("external_ids",)
    external_ids: StrList = _documented(minItems=1, maxItems=1, description="one subscription per invoice here")
    plan_code: LagoStr | None = Field(None, description="plan changes are not previewed: 422")
    terminated_at: AwareIsoDatetime | None = None


class InvoicePreviewInput(Body):
    documented_required = ("customer",)
    customer: PreviewCustomer | None = None
    plan_code: LagoStr | None = None
    subscription_at: AwareIsoDatetime | None = None
    billing_time: LagoStr | None = Field(None, json_schema_extra={"enum": ["calendar", "anniversary", None]})
    coupons: list_of(PreviewCoupon) | None = None
    subscriptions: PreviewSubscriptions | None = None
    billing_entity_code: LagoStr | None = None


# --- POST /credit_notes/estimate ---------------------------------------------------------------

class CreditNoteEstimateFields(Body):
    documented_required = ("invoice_id", "items")
    invoice_id: LagoStr | None = None
    items: list_of(CreditNoteItem) | None = _documented(minItems=1)


# --- PUT /credit_notes/{id}, PUT /subscriptions/{id}, PUT /billable_metrics/{code} --------------

class CreditNoteUpdateFields(Body):
    refund_status: LagoStr = _enum("pending", "succeeded", "failed")
    metadata: StrMap | None = None


class SubscriptionUpdateFields(Body):
    name: LagoStr | None = None
    ending_at: AwareIsoDatetime | None = Field(None, description="null: renews forever")
    subscription_at: AwareIsoDatetime | None = Field(None, description="only before the subscription starts")


BillableMetricUpdateFields = BillableMetricFields

BODIES = {
    "InvoicePreviewInput": (None, InvoicePreviewInput),
    "CreditNoteEstimateInput": ("credit_note", CreditNoteEstimateFields),
    "CreditNoteUpdateInput": ("credit_note", CreditNoteUpdateFields),
    "SubscriptionUpdateInput": ("subscription", SubscriptionUpdateFields),
    "BillableMetricUpdateInput": ("billable_metric", BillableMetricFields),
}
MODELS = [PreviewCustomer, PreviewCoupon, PreviewSubscriptions, InvoicePreviewInput, CreditNoteEstimateFields,
          CreditNoteUpdateFields, SubscriptionUpdateFields]
