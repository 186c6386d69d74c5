"""The OpenAPI 3.1 document of what /api/v1 implements (tests validate real answers against it).

Response schemas are written here; request schemas are generated from api/requests.py.

3.1 so the schemas are plain JSON Schema (nullable = ["string", "null"]).
"""
from copy import deepcopy

from pydantic.json_schema import models_json_schema

from .requests import BODIES, MODELS
from .requests_billing import BODIES as BILLING_BODIES, MODELS as BILLING_MODELS
from .requests_issue10 import BODIES as ISSUE10_BODIES
from .requests_issue10 import MODELS as ISSUE10_MODELS


def _n(kind):
    return {"type": [kind, "null"]}


S, I, B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NS, NI, NB = _n("string"), _n("integer"), _n("boolean")
DATETIME = {"type": "string", "format": "date-time"}


def _obj(required: dict, optional: dict | None = None) -> dict:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _wrap(key, schema):
    return _obj({key: schema})


def _list(key, item, meta=True):
    required = {key: {"type": "array", "items": item}}
    if meta:
        required["meta"] = _ref("PaginationMeta")
    return _obj(required)


CHARGE_MODELS = ["standard", "graduated", "volume", "package"]
INTERVALS = ["weekly", "monthly", "quarterly", "yearly"]

SCHEMAS = {
    "PaginationMeta": _obj({"current_page": I, "next_page": NI, "prev_page": NI, "total_pages": I, "total_count": I}),
    # error_details: {field: [code]}; for /events/batch {index: {field: [code]}}, as Lago.
    "Error": _obj({"status": I, "error": S}, {"code": S, "error_details": {"type": "object", "additionalProperties": {"anyOf": [
        {"type": "array", "items": S},
        {"type": "object", "additionalProperties": {"type": "array", "items": S}}]}}}),
    "Tax": _obj({"lago_id": S, "name": S, "code": S, "rate": {"type": "number"}, "created_at": DATETIME},
                {"description": NS, "applied_to_organization": B}),
    "BillingEntity": _obj(
        {"lago_id": S, "code": S, "name": S, "is_default": B, "created_at": DATETIME, "updated_at": DATETIME},
        {"default_currency": S, "timezone": S, "email": NS, "legal_name": NS, "legal_number": NS,
         "tax_identification_number": NS, "address_line1": NS, "address_line2": NS, "city": NS, "state": NS,
         "zipcode": NS, "country": S, "document_numbering": {"enum": ["per_customer", "per_billing_entity"]},
         "document_number_prefix": S, "finalize_zero_amount_invoice": B, "net_payment_term": I,
         "invoice_grace_period": I, "invoice_footer": NS, "document_locale": S,
         "subscription_invoice_issuing_date_anchor": {"enum": ["current_period_end", "next_period_start"]},
         "subscription_invoice_issuing_date_adjustment": {"enum": ["align_with_finalization_date", "keep_anchor"]},
         "email_settings": {"type": "array", "items": S}, "eu_tax_management": B, "logo_url": NS,
         "taxes": {"type": "array", "items": _ref("Tax")}},
    ),
    # Lago's OrganizationObject: the instance's id and name, its default billing entity's settings.
    "Organization": _obj(
        {"lago_id": S, "name": S, "created_at": DATETIME, "document_numbering": {"enum": ["per_customer", "per_organization"]},
         "document_number_prefix": S, "email_settings": {"type": "array", "items": S},
         "billing_configuration": _obj({}, {"invoice_footer": NS, "invoice_grace_period": I, "document_locale": S})},
        {"webhook_url": NS, "webhook_urls": {"type": "array", "items": S}, "default_currency": S, "timezone": S,
         "country": NS, "address_line1": NS, "address_line2": NS, "state": NS, "zipcode": NS, "email": NS, "city": NS,
         "legal_name": NS, "legal_number": NS, "tax_identification_number": NS,
         "finalize_zero_amount_invoice": B, "net_payment_term": I, "taxes": {"type": "array", "items": _ref("Tax")}},
    ),
    "CustomerMetadata": _obj({"lago_id": S, "key": S, "value": S, "display_in_invoice": B, "created_at": DATETIME}),
    "Address": _obj({}, {f: NS for f in ["address_line1", "address_line2", "city", "state", "zipcode", "country"]}),
    # Keys without a value are left out (invoice_grace_period is an integer, payment_provider one of three names).
    "CustomerBillingConfiguration": _obj({}, {
        "invoice_grace_period": I, "document_locale": S, "payment_provider": {"enum": ["stripe", "adyen", "gocardless"]},
        "payment_provider_code": S, "provider_customer_id": S, "sync": B, "sync_with_provider": B,
        "provider_payment_methods": {"type": ["array", "null"], "items": S}}),
    "Customer": _obj(
        {"lago_id": S, "sequential_id": I, "slug": S, "external_id": S, "created_at": DATETIME, "updated_at": DATETIME,
         "applicable_timezone": S},
        {"billing_entity_code": S, "account_type": {"enum": ["customer", "partner"]},
         "customer_type": {"enum": ["company", "individual", None]},
         **{f: NS for f in ["name", "firstname", "lastname", "legal_name", "legal_number", "tax_identification_number",
                            "email", "phone", "url", "logo_url", "address_line1", "address_line2", "city", "state",
                            "zipcode", "country", "currency", "timezone"]},
         "net_payment_term": NI, "finalize_zero_amount_invoice": {"enum": ["inherit", "skip", "finalize"]},
         "skip_invoice_custom_sections": B, "shipping_address": _ref("Address"),
         "billing_configuration": _ref("CustomerBillingConfiguration"),
         "metadata": {"type": "array", "items": _ref("CustomerMetadata"), "maxItems": 5},
         "taxes": {"type": "array", "items": _ref("Tax")}},
    ),
    "AddOn": _obj(
        {"lago_id": S, "name": S, "code": S, "amount_cents": I, "amount_currency": S, "created_at": DATETIME},
        {"invoice_display_name": NS, "description": NS, "taxes": {"type": "array", "items": _ref("Tax")}},
    ),
    # Names ending in _cents are minor units (integers, or strings when precise); precise_amount,
    # precise_total_amount, taxes_precise_amount and precise_unit_amount are major units, as strings.
    "Fee": _obj(
        {"item": _obj({"type": {"enum": ["subscription", "charge", "add_on", "credit"]}, "code": S, "name": S,
                       "lago_item_id": S, "item_type": {"enum": ["AddOn", "BillableMetric", "Subscription", "WalletTransaction"]}},
                      {"description": NS, "invoice_display_name": S, "filter_invoice_display_name": NS,
                       "filters": {"type": ["object", "null"], "additionalProperties": {"type": "array", "items": S}},
                       "grouped_by": {"type": "object"}}),
         "amount_cents": I, "amount_currency": S, "taxes_amount_cents": I, "taxes_rate": {"type": "number"},
         "total_amount_cents": I, "total_amount_currency": S, "pay_in_advance": B, "invoiceable": B, "units": S,
         "total_aggregated_units": S, "precise_unit_amount": S, "sub_total_excluding_taxes_amount_cents": I,
         "sub_total_excluding_taxes_precise_amount_cents": S, "payment_status": {"enum": ["pending", "succeeded", "failed"]}},
        {"lago_id": S, "lago_charge_id": NS, "lago_charge_filter_id": NS, "lago_invoice_id": S, "lago_subscription_id": NS,
         "external_subscription_id": NS, "lago_customer_id": S, "external_customer_id": S, "precise_amount": S,
         "precise_total_amount": S, "taxes_precise_amount": S, "precise_coupons_amount_cents": S, "unit_amount_cents": I,
         "events_count": NI, "amount_details": {"type": "object"}, "self_billed": B, "description": NS,
         "invoice_display_name": NS, "from_date": NS, "to_date": NS, "adjustment": S, "created_at": DATETIME,
         "succeeded_at": NS, "failed_at": NS, "refunded_at": NS,
         "applied_taxes": {"type": "array", "items": _obj({"tax_code": S, "amount_cents": I}, {
             "lago_id": S, "lago_fee_id": S, "lago_tax_id": NS, "tax_name": S, "tax_rate": {"type": "number"},
             "tax_description": NS, "amount_currency": S, "created_at": DATETIME})}},
    ),
    "BillingPeriod": _obj({f: S for f in ["lago_subscription_id", "external_subscription_id", "lago_plan_id"]} | {
        f: DATETIME for f in ["subscription_from_datetime", "subscription_to_datetime", "charges_from_datetime",
                              "charges_to_datetime"]} | {
        "invoicing_reason": {"enum": ["subscription_starting", "subscription_periodic", "subscription_terminating"]}}),
    "Invoice": _obj(
        {"lago_id": S, "number": S, "payment_overdue": B, "net_payment_term": I, "invoice_type": S, "version_number": I,
         "status": {"enum": ["draft", "finalized", "voided", "failed", "pending", "closed", "deleted"]},
         "payment_status": {"enum": ["pending", "succeeded", "failed"]}, "currency": S,
         **{f: I for f in [
             "fees_amount_cents", "coupons_amount_cents", "taxes_amount_cents", "credit_notes_amount_cents",
             "progressive_billing_credit_amount_cents", "sub_total_excluding_taxes_amount_cents",
             "sub_total_including_taxes_amount_cents", "total_amount_cents", "total_due_amount_cents",
             "prepaid_credit_amount_cents"]},
         # A draft's dates are the provisional ones; its sequential_id and file_url are left out until it has them.
         "billing_entity_code": S, "issuing_date": {"type": "string", "format": "date"}, "created_at": DATETIME,
         "updated_at": DATETIME},
        {"sequential_id": I, "payment_due_date": {"type": "string", "format": "date"}, "total_paid_amount_cents": I,
         "voided_at": NS, "finalized_at": NS, "file_url": S, "voided_invoice_id": NS, "customer": _ref("Customer"),
         "metadata": {"type": "array", "items": _obj({"key": S, "value": S}, {"lago_id": S, "created_at": S})},
         "applied_taxes": {"type": "array", "items": _obj({"tax_code": S, "tax_rate": {"type": "number"}, "amount_cents": I})},
         "web_url": NS, "self_billed": B},
    ),
    # One invoice (GET, writes, webhooks): the list item with its fees, credits, subscriptions and billing periods.
    "InvoiceExtended": {"allOf": [_ref("Invoice"), _obj({}, {
        "fees": {"type": "array", "items": _ref("Fee")}, "credits": {"type": "array"},
        "subscriptions": {"type": "array", "items": _ref("Subscription")},
        "billing_periods": {"type": "array", "items": _ref("BillingPeriod")}})]},
    "WebhookEndpoint": _obj(
        {"lago_id": S, "lago_organization_id": S, "webhook_url": S, "created_at": DATETIME},
        {"signature_algo": {"enum": ["jwt", "hmac"]}, "name": NS, "event_types": {"type": ["array", "null"], "items": S}},
    ),
    "PublicKeyObject": _obj({"public_key": S}),
    "PublicKey": _wrap("webhook", _ref("PublicKeyObject")),
    "Event": _obj(
        {"lago_id": S, "transaction_id": S, "external_subscription_id": S, "code": S, "timestamp": DATETIME},
        {"lago_customer_id": NS, "lago_subscription_id": NS, "precise_total_amount_cents": NS,
         "properties": {"type": "object"}, "created_at": DATETIME},
    ),
    "BillableMetric": _obj(
        {"lago_id": S, "name": S, "code": S, "created_at": DATETIME,
         "filters": {"type": "array", "items": _obj({"key": S, "values": {"type": "array", "items": S}})}},
        {"description": NS, "aggregation_type": {"enum": ["count_agg", "sum_agg", "max_agg", "unique_count_agg"]},
         "field_name": NS, "recurring": B, "weighted_interval": NS, "rounding_function": NS,
         "rounding_precision": NI},
    ),
    "ChargeFilter": _obj({"values": {"type": "object", "additionalProperties": {"type": "array", "items": S}}},
                         {"invoice_display_name": NS, "properties": {"type": "object"}}),
    "Charge": _obj(
        {"lago_id": S, "lago_billable_metric_id": S, "billable_metric_code": S, "charge_model": {"enum": CHARGE_MODELS},
         "properties": {"type": "object"}, "filters": {"type": "array", "items": _ref("ChargeFilter")}},
        {"created_at": DATETIME, "pay_in_advance": B, "invoiceable": B, "regroup_paid_fees": {"enum": [None, "invoice"]},
         "prorated": B, "min_amount_cents": I, "invoice_display_name": NS, "taxes": {"type": "array"}},
    ),
    "Plan": _obj(
        {"lago_id": S, "name": S, "code": S, "created_at": DATETIME},
        {"invoice_display_name": S, "interval": {"enum": INTERVALS}, "description": S, "amount_cents": I,
         "amount_currency": S, "trial_period": {"type": "number"}, "pay_in_advance": B, "bill_charges_monthly": NB,
         "charges": {"type": "array", "items": _ref("Charge")}, "taxes": {"type": "array"}},
    ),
    "Subscription": _obj(
        {"lago_id": S, "external_id": S, "lago_customer_id": S, "external_customer_id": S, "name": NS, "plan_code": S,
         "status": {"enum": ["active", "terminated"]}, "billing_time": {"enum": ["calendar", "anniversary"]},
         "subscription_at": DATETIME, "started_at": DATETIME, "created_at": DATETIME,
         **{f: {"type": ["string", "null"], "format": "date-time"} for f in [
             "trial_ended_at", "terminated_at", "canceled_at", "ending_at", "current_billing_period_started_at",
             "current_billing_period_ending_at"]},
         "previous_plan_code": NS, "next_plan_code": NS, "downgrade_plan_date": NS,
         "on_termination_credit_note": {"enum": ["credit", "refund", "offset", "skip", None]},
         "on_termination_invoice": {"enum": ["generate", "skip"]}},
        {"billing_entity_code": S, "plan_amount_cents": I, "plan_amount_currency": S},
    ),
    "Coupon": _obj(
        {"lago_id": S, "name": S, "code": S, "created_at": DATETIME, "expiration": {"enum": ["no_expiration", "time_limit"]}},
        {"description": NS, "coupon_type": {"enum": ["fixed_amount", "percentage"]}, "amount_cents": NI, "amount_currency": NS,
         "percentage_rate": {"type": ["number", "null"]}, "frequency": {"enum": ["once", "recurring", "forever"]},
         "frequency_duration": NI, "reusable": B, "limited_plans": B, "plan_codes": {"type": "array"},
         "limited_billable_metrics": B, "billable_metric_codes": {"type": "array"},
         "expiration_at": {"type": ["string", "null"], "format": "date-time"},
         "terminated_at": {"type": ["string", "null"], "format": "date-time"}},
    ),
    "AppliedCoupon": _obj(
        {"lago_id": S, "lago_coupon_id": S, "coupon_code": S, "external_customer_id": S, "lago_customer_id": S, "created_at": DATETIME},
        {"coupon_name": S, "status": {"enum": ["active", "terminated"]}, "amount_cents": NI, "amount_cents_remaining": NI,
         "amount_currency": NS, "percentage_rate": {"type": ["number", "null"]},
         "frequency": {"enum": ["once", "recurring", "forever"]}, "frequency_duration": NI, "frequency_duration_remaining": NI,
         "expiration_at": NS, "terminated_at": {"type": ["string", "null"], "format": "date-time"},
         "credits": {"type": "array", "items": _obj({"before_taxes": B}, {
             "lago_id": S, "amount_cents": I, "amount_currency": S,
             "invoice": _obj({}, {"lago_id": S, "payment_status": S})})}},
    ),
    "CreditNote": _obj(
        {"lago_id": S, "number": S, "lago_invoice_id": S, "invoice_number": S, "currency": S,
         "reason": {"enum": ["duplicated_charge", "product_unsatisfactory", "order_change", "order_cancellation",
                             "fraudulent_charge", "other"]},
         "taxes_rate": {"type": "number"},
         **{f: I for f in [
             "total_amount_cents", "credit_amount_cents", "balance_amount_cents", "refund_amount_cents",
             "offset_amount_cents", "taxes_amount_cents", "sub_total_excluding_taxes_amount_cents",
             "coupons_adjustment_amount_cents"]}},
        {"sequential_id": I, "billing_entity_code": S, "purchase_order_number": NS,
         "issuing_date": {"type": "string", "format": "date"}, "description": NS,
         "credit_status": {"enum": ["available", "consumed", "voided", None]},
         "refund_status": {"enum": ["pending", "succeeded", "failed", None]}, "file_url": NS,
         "created_at": DATETIME, "updated_at": DATETIME, "voided_at": {"type": ["string", "null"], "format": "date-time"},
         "items": {"type": "array", "items": _obj({"amount_cents": I}, {"lago_id": S, "amount_currency": S, "fee": _ref("Fee")})},
         "applied_taxes": {"type": "array", "items": _obj({"tax_code": S, "amount_cents": I}, {
             "lago_credit_note_id": S, "tax_name": S, "tax_rate": {"type": "number"}, "base_amount_cents": I})},
         "metadata": {"type": "object", "additionalProperties": NS}, "customer": _ref("Customer")},
    ),
}

def request_schemas() -> dict:
    """The request bodies' schemas, generated from the models the views parse with (api/requests.py)."""
    models = [*MODELS, *BILLING_MODELS, *ISSUE10_MODELS]
    _, top = models_json_schema([(model, "validation") for model in models], ref_template="#/components/schemas/{model}")
    schemas = dict(top["$defs"])
    for name, (key, model) in {**BODIES, **BILLING_BODIES, **ISSUE10_BODIES}.items():
        if key:
            schemas[name] = _wrap(key, _ref(model.__name__))
    # The client sends the `billing_entity` root; seed 003's example uses the `organization` envelope.
    schemas["BillingEntityUpdate"] = {"anyOf": [schemas["BillingEntityUpdate"], schemas["OrganizationUpdate"]]}
    return schemas


# --- issue 10: taxes, wallets, fees, activity logs (Lago's schema names) ---------------------------
CREDITS = {"type": "string", "pattern": "^[0-9]+.?[0-9]*$"}
NDATETIME = {"type": ["string", "null"], "format": "date-time"}
SCHEMAS.update({
    "WalletObject": _obj(
        {"lago_id": S, "lago_customer_id": S, "external_customer_id": S, "status": {"enum": ["active", "terminated"]},
         "currency": S, "rate_amount": CREDITS, "credits_balance": CREDITS, "balance": CREDITS, "balance_cents": I,
         "consumed_credits": CREDITS, "created_at": DATETIME, "ongoing_balance_cents": I, "ongoing_usage_balance_cents": I,
         "credits_ongoing_balance": CREDITS, "credits_ongoing_usage_balance": CREDITS, "invoice_requires_successful_payment": B},
        {"billing_entity_code": S, "name": NS, "code": NS, "priority": I, "expiration_at": NDATETIME,
         "last_balance_sync_at": NDATETIME, "last_consumed_credit_at": NDATETIME, "terminated_at": NDATETIME,
         "recurring_transaction_rules": {"type": "array"}, "applies_to": {"type": "object"}, "payment_method": {"type": "object"},
         "purchase_order_number": NS, "paid_top_up_min_amount_cents": NI, "paid_top_up_max_amount_cents": NI},
    ),
    "WalletTransactionObject": _obj(
        {"lago_id": S, "lago_wallet_id": S, "lago_invoice_id": NS, "lago_credit_note_id": NS, "lago_voided_invoice_id": NS,
         "status": {"enum": ["pending", "settled", "failed"]}, "source": {"enum": ["manual", "interval", "threshold"]},
         "transaction_status": {"enum": ["purchased", "granted", "voided", "invoiced"]},
         "transaction_type": {"enum": ["inbound", "outbound"]}, "amount": CREDITS, "credit_amount": CREDITS,
         "remaining_amount_cents": NI, "remaining_credit_amount": {"type": ["string", "null"]}, "priority": I,
         "invoice_requires_successful_payment": B, "settled_at": NDATETIME, "failed_at": NDATETIME, "created_at": DATETIME,
         "metadata": {"type": "array"}, "name": NS, "payment_method": {"type": "object"}},
        {"purchase_order_number": NS},
    ),
    "ActivityLogObject": _obj(
        {"activity_id": S, "activity_source": {"enum": ["api", "front", "system"]}, "activity_type": S,
         "logged_at": DATETIME, "resource_id": S, "resource_type": S, "organization_id": S, "created_at": DATETIME},
        {"user_email": NS, "activity_object": {"type": ["object", "null"]}, "activity_object_changes": {"type": ["object", "null"]},
         "external_customer_id": NS, "external_subscription_id": NS},
    ),
})
# FeeObject and TaxObject are the renamed Fee and Tax (RENAMES below).

REQUESTS = request_schemas()
SCHEMAS.update(REQUESTS)

ERRORS = {
    "400": "Malformed JSON or a missing root key", "401": "Missing or revoked API key",
    "403": "Not available", "404": "Unknown resource", "405": "Not allowed in this state",
    "422": "Validation errors",
}


# One error shape (api/errors.py), published under Lago's name for each status.
ERROR_SCHEMAS = {"400": "ApiErrorBadRequest", "401": "ApiErrorUnauthorized", "403": "ApiErrorForbidden",
                 "404": "ApiErrorNotFound", "405": "ApiErrorNotAllowed", "422": "ApiErrorUnprocessableEntity"}
SCHEMAS.update({name: deepcopy(SCHEMAS["Error"]) for name in ERROR_SCHEMAS.values()})
del SCHEMAS["Error"]


def _op(summary, ok_schema=None, *, body=None, body_required=True, errors=("401",), params=None, ok_description="OK"):
    op = {"summary": summary, "responses": {}}
    if ok_schema is not None:
        op["responses"]["200"] = {"description": ok_description,
                                  "content": {"application/json": {"schema": ok_schema}}}
    for code in errors:
        op["responses"][code] = {"description": ERRORS[code], "content": {"application/json": {"schema": _ref(ERROR_SCHEMAS[code])}}}
    if body:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name):
    return {"name": name, "in": "path", "required": True, "schema": S}


def _query(*names):
    return [{"name": n, "in": "query", "required": False, "schema": S} for n in names]


BE, CU, AO, INV, WE, EV, BM, PL, SU = (_wrap(k, _ref(v)) for k, v in [
    ("billing_entity", "BillingEntity"), ("customer", "Customer"), ("add_on", "AddOn"), ("invoice", "InvoiceExtended"),
    ("webhook_endpoint", "WebhookEndpoint"), ("event", "Event"), ("billable_metric", "BillableMetric"), ("plan", "Plan"),
    ("subscription", "Subscription")])
CO, AC, CN = (_wrap(k, _ref(v)) for k, v in [("coupon", "Coupon"), ("applied_coupon", "AppliedCoupon"), ("credit_note", "CreditNote")])

PATHS = {
    "/billing_entities": {
        "get": _op("List billing entities (no meta)", _list("billing_entities", _ref("BillingEntity"), meta=False)),
        "post": _op("Create a billing entity (never the default one)", BE, body=_ref("BillingEntityCreate"),
                    errors=("400", "401", "404", "422")),
    },
    "/billing_entities/{code}": {
        "parameters": [_path_param("code")],
        "get": _op("Find a billing entity", BE, errors=("401", "404")),
        "put": _op("Update a billing entity (root billing_entity, or organization as in seed 003)", BE,
                   body=_ref("BillingEntityUpdate"), errors=("400", "401", "404", "422")),
    },
    "/organizations": {"get": _op("The organization (this instance, with its default billing entity's settings)",
                                  _wrap("organization", _ref("Organization")), errors=("401", "404")),
                       "put": _op("Update the organization (the default billing entity)", _wrap("organization", _ref("Organization")),
                                  body=_ref("OrganizationUpdate"), errors=("400", "401", "404", "422"))},
    "/customers": {
        "get": _op("List customers", _list("customers", _ref("Customer")),
                   params=_query("page", "per_page", "search_term", "currencies[]", "countries[]", "billing_entity_codes[]")),
        "post": _op("Create or update a customer by external_id", CU, body=_ref("CustomerInput"), errors=("400", "401", "404", "422")),
    },
    "/customers/{external_id}": {
        "parameters": [_path_param("external_id")],
        "get": _op("Find a customer", CU, errors=("401", "404")),
        "delete": _op("Delete a customer (soft)", CU, errors=("401", "404")),
    },
    "/add_ons": {
        "get": _op("List add-ons", _list("add_ons", _ref("AddOn")), params=_query("page", "per_page")),
        "post": _op("Create an add-on", AO, body=_ref("AddOnInput"), errors=("400", "401", "404", "422")),
    },
    "/add_ons/{code}": {
        "parameters": [_path_param("code")],
        "get": _op("Find an add-on", AO, errors=("401", "404")),
        "put": _op("Update an add-on", AO, body=_ref("AddOnInput"), errors=("400", "401", "404", "422")),
        "delete": _op("Delete an add-on (soft)", AO, errors=("401", "404")),
    },
    "/invoices": {
        "get": _op("List invoices (issuing_date desc, created_at desc)", _list("invoices", _ref("Invoice")),
                   errors=("400", "401", "422"),
                   params=_query("page", "per_page", "external_customer_id", "status", "statuses[]", "payment_status",
                                 "payment_statuses[]", "invoice_type", "issuing_date_from", "issuing_date_to",
                                 "payment_overdue", "payment_dispute_lost", "self_billed", "search_term", "currency",
                                 "amount_from", "amount_to", "billing_entity_codes[]")),
        "post": _op("Create a one-off invoice from add-ons", INV, body=_ref("OneOffInvoiceInput"), errors=("400", "401", "404", "422")),
    },
    "/invoices/{lago_id}": {
        "parameters": [_path_param("lago_id")],
        "get": _op("Find an invoice (visible statuses only)", INV, errors=("401", "404")),
        "put": _op("Update payment_status and metadata", INV, body=_ref("InvoiceUpdate"), errors=("400", "401", "404", "405", "422")),
        "delete": _op("Delete a draft", INV, errors=("401", "404", "405")),
    },
    "/invoices/{lago_id}/finalize": {"parameters": [_path_param("lago_id")],
                                     "put": _op("Finalize a draft (non-drafts: 404)", INV, errors=("401", "404"))},
    "/invoices/{lago_id}/refresh": {"parameters": [_path_param("lago_id")],
                                    "put": _op("Refresh a draft", INV, errors=("401", "403", "404"))},
    "/invoices/{lago_id}/void": {"parameters": [_path_param("lago_id")],
                                 "post": _op("Void a finalized invoice", INV, body=_ref("VoidOptions"), body_required=False,
                                             errors=("401", "404", "405", "422"))},
    "/invoices/{lago_id}/download": {"parameters": [_path_param("lago_id")],
                                     "post": _op("The invoice with its file_url, or an empty 200 while there is no PDF",
                                                 INV, errors=("401", "404"))},
    "/coupons": {
        "get": _op("List coupons (terminated ones excluded)", _list("coupons", _ref("Coupon")), errors=("400", "401"),
                   params=_query("page", "per_page")),
        "post": _op("Create a coupon", CO, body=_ref("CouponInput"), errors=("400", "401", "422")),
    },
    "/coupons/{code}": {
        "parameters": [_path_param("code")],
        "get": _op("Find a coupon", CO, errors=("401", "404")),
        "put": _op("Update a coupon (applied coupons keep their own copy of the terms)", CO, body=_ref("CouponInput"),
                   errors=("400", "401", "404", "422")),
        "delete": _op("Terminate a coupon and its active applications (the row is kept)", CO, errors=("401", "404")),
    },
    "/applied_coupons": {
        "get": _op("List applied coupons", _list("applied_coupons", _ref("AppliedCoupon")), errors=("400", "401", "422"),
                   params=_query("page", "per_page", "external_customer_id", "status", "coupon_code[]")),
        "post": _op("Apply a coupon to a customer (consumed by its next finalized subscription invoices)", AC, body=_ref("AppliedCouponInput"), errors=("400", "401", "404", "422")),
    },
    "/credit_notes": {
        "get": _op("List credit notes (newest first)", _list("credit_notes", _ref("CreditNote")), errors=("400", "401"),
                   params=_query("page", "per_page", "external_customer_id")),
        "post": _op("Issue a credit note on a finalized invoice", CN, body=_ref("CreditNoteInput"), errors=("400", "401", "404", "422")),
    },
    "/credit_notes/{lago_id}": {"parameters": [_path_param("lago_id")],
                                "get": _op("Find a credit note", CN, errors=("401", "404"))},
    "/credit_notes/{lago_id}/void": {"parameters": [_path_param("lago_id")],
                                     "put": _op("Void the unused credit balance", CN, errors=("401", "404", "405"))},
    "/credit_notes/{lago_id}/download": {"parameters": [_path_param("lago_id")],
                                         "post": _op("The credit note with its file_url, or an empty 200 while the PDF is rendered",
                                                     CN, errors=("401", "404"))},
    "/events": {"post": _op("Record a usage event (idempotent on transaction_id: a duplicate is 422 value_already_exist)", EV,
                            body=_ref("EventInput"), errors=("400", "401", "422"))},
    "/events/batch": {"post": _op("Record up to 100 events, all or nothing (errors keyed by index)",
                                  _list("events", _ref("Event"), meta=False), body=_ref("BatchEventInput"), errors=("400", "401", "422"))},
    "/events/{transaction_id}": {"parameters": [_path_param("transaction_id")],
                                 "get": _op("Find an event by transaction_id", EV, errors=("401", "404"))},
    "/billable_metrics": {
        "get": _op("List billable metrics", _list("billable_metrics", _ref("BillableMetric")), params=_query("page", "per_page")),
        "post": _op("Create a billable metric", BM, body=_ref("BillableMetricInput"), errors=("400", "401", "422")),
    },
    "/billable_metrics/{code}": {"parameters": [_path_param("code")],
                                 "get": _op("Find a billable metric", BM, errors=("401", "404"))},
    "/plans": {
        "get": _op("List plans", _list("plans", _ref("Plan")), params=_query("page", "per_page")),
        "post": _op("Create a plan with its charges", PL, body=_ref("PlanInput"), errors=("400", "401", "404", "422")),
    },
    "/plans/{code}": {
        "parameters": [_path_param("code")],
        "get": _op("Find a plan", PL, errors=("401", "404")),
        "put": _op("Update a plan (partial; charges, if sent, replace the list)", PL, body=_ref("PlanInput"),
                   errors=("400", "401", "404", "422")),
    },
    "/subscriptions": {
        "get": _op("List subscriptions (active unless status[] says otherwise)", _list("subscriptions", _ref("Subscription")),
                   errors=("401", "422"), params=_query("page", "per_page", "external_customer_id", "plan_code", "status[]")),
        "post": _op("Create a subscription", SU, body=_ref("SubscriptionInput"), errors=("400", "401", "404", "422")),
    },
    "/subscriptions/{external_id}": {
        "parameters": [_path_param("external_id")],
        "get": _op("Find the active subscription (or ?status=terminated)", SU, errors=("401", "404"), params=_query("status")),
        "delete": _op("Terminate the active subscription; its final period is billed at once", SU, errors=("401", "404")),
    },
    "/webhook_endpoints": {
        "get": _op("List webhook endpoints", _list("webhook_endpoints", _ref("WebhookEndpoint")), params=_query("page", "per_page")),
        "post": _op("Create a webhook endpoint", WE, body=_ref("WebhookEndpointInput"), errors=("400", "401", "422")),
    },
    "/webhook_endpoints/{lago_id}": {
        "parameters": [_path_param("lago_id")],
        "get": _op("Find a webhook endpoint", WE, errors=("401", "404")),
        "put": _op("Update a webhook endpoint", WE, body=_ref("WebhookEndpointInput"), errors=("400", "401", "404", "422")),
        "delete": _op("Delete a webhook endpoint", WE, errors=("401", "404")),
    },
    # issue 10: taxes, wallets, fees, activity logs, customer children (Lago's path templates)
    "/taxes": {
        "get": _op("List taxes", _list("taxes", _ref("TaxObject")), errors=("400", "401"), params=_query("page", "per_page")),
        "post": _op("Create a tax", _wrap("tax", _ref("TaxObject")), body=_ref("TaxCreateInput"), errors=("400", "401", "422")),
    },
    "/taxes/{code}": {
        "parameters": [_path_param("code")],
        "get": _op("Find a tax", _wrap("tax", _ref("TaxObject")), errors=("401", "404")),
        "put": _op("Update a tax (drafts carrying it are restated at once)", _wrap("tax", _ref("TaxObject")),
                   body=_ref("TaxUpdateInput"), errors=("400", "401", "404", "422")),
        "delete": _op("Delete a tax: detached from finalized invoices (their snapshot stays), dropped from drafts, "
                      "customers, billing entities and add-ons", _wrap("tax", _ref("TaxObject")), errors=("401", "404")),
    },
    "/wallets": {
        "get": _op("List wallets", _list("wallets", _ref("WalletObject")), errors=("400", "401"),
                   params=_query("page", "per_page", "external_customer_id", "currency", "billing_entity_codes[]")),
        "post": _op("Create a wallet (rate_amount 1; paid credits issue a credit invoice)", _wrap("wallet", _ref("WalletObject")),
                    body=_ref("WalletCreateInput"), errors=("400", "401", "422")),
    },
    "/wallets/{lago_id}": {
        "parameters": [_path_param("lago_id")],
        "get": _op("Find a wallet", _wrap("wallet", _ref("WalletObject")), errors=("401", "404")),
        "put": _op("Rename a wallet", _wrap("wallet", _ref("WalletObject")), body=_ref("WalletUpdateInput"),
                   errors=("400", "401", "404", "422")),
        "delete": _op("Terminate a wallet", _wrap("wallet", _ref("WalletObject")), errors=("401", "404")),
    },
    "/wallets/{lago_id}/wallet_transactions": {
        "parameters": [_path_param("lago_id")],
        "get": _op("The wallet's transactions (newest first)", _list("wallet_transactions", _ref("WalletTransactionObject")),
                   errors=("400", "401", "404", "422"),
                   params=_query("page", "per_page", "status", "transaction_status", "transaction_type")),
    },
    "/wallet_transactions": {
        "post": _op("Top up (paid_credits, granted_credits) or void credits, all or nothing",
                    _list("wallet_transactions", _ref("WalletTransactionObject"), meta=False),
                    body=_ref("WalletTransactionCreateInput"), errors=("400", "401", "422")),
    },
    "/fees": {
        "get": _op("List fees of visible invoices", _list("fees", _ref("FeeObject")), errors=("400", "401", "422"),
                   params=_query("page", "per_page", "external_customer_id", "external_subscription_id", "currency", "fee_type",
                                 "billable_metric_code", "payment_status", "created_at_from", "created_at_to",
                                 "event_transaction_id")),
    },
    "/fees/{lago_id}": {
        "parameters": [_path_param("lago_id")],
        "get": _op("Find a fee", _wrap("fee", _ref("FeeObject")), errors=("401", "404")),
        "put": _op("Update a fee's payment_status: every fee here is invoiced, so 405 invoiced_fee",
                   body=_ref("FeeUpdateInput"), errors=("400", "401", "404", "405", "422")),
        "delete": _op("Delete a fee: every fee here is invoiced, so 405 invoiced_fee", errors=("401", "404", "405")),
    },
    **{f"/customers/{{external_customer_id}}/{child}": {
        "parameters": [_path_param("external_customer_id")],
        "get": _op(f"The customer's {child.replace('_', ' ')} (the filters of /{child})", _list(child, _ref(item)),
                   errors=("400", "401", "404", "422"), params=_query("page", "per_page")),
    } for child, item in (("invoices", "Invoice"), ("credit_notes", "CreditNote"), ("subscriptions", "Subscription"),
                          ("applied_coupons", "AppliedCoupon"))},
    "/customers/{external_customer_id}/applied_coupons/{applied_coupon_id}": {
        "parameters": [_path_param("external_customer_id"), _path_param("applied_coupon_id")],
        "delete": _op("Terminate the customer's applied coupon", AC, errors=("401", "404")),
    },
    "/activity_logs": {
        "get": _op("Our audit log as Lago's activity logs (newest first)", _list("activity_logs", _ref("ActivityLogObject")),
                   errors=("400", "401", "422"),
                   params=_query("page", "per_page", "from_date", "to_date", "activity_types[]", "activity_sources[]",
                                 "user_emails[]", "external_customer_id", "external_subscription_id", "resource_ids[]",
                                 "resource_types[]")),
    },
    "/activity_logs/{activity_id}": {
        "parameters": [_path_param("activity_id")],
        "get": _op("Find an activity log", _wrap("activity_log", _ref("ActivityLogObject")), errors=("401", "404")),
    },
    "/webhooks/json_public_key": {"get": _op("The RSA public key of jwt signatures (base64 of the PEM)", _ref("PublicKey"))},
    "/webhooks/public_key": {"get": {"summary": "The same key as text/plain", "responses": {
        "200": {"description": "base64 of the PEM", "content": {"text/plain": {"schema": S}}},
        "401": {"description": ERRORS["401"], "content": {"application/json": {"schema": _ref(ERROR_SCHEMAS["401"])}}}}}},
}

# --- issue 10: previews, estimates, usage, updates and deletes (schema names as Lago's) --------------

UNITS = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
SCHEMAS.update({
    "CreditNoteEstimated": _wrap("estimated_credit_note", _obj(
        {"lago_invoice_id": S, "invoice_number": S, "currency": S, "taxes_amount_cents": I,
         "precise_taxes_amount_cents": {"type": "number"}, "taxes_rate": {"type": "number"},
         "sub_total_excluding_taxes_amount_cents": I, "max_creditable_amount_cents": I, "max_refundable_amount_cents": I,
         "max_offsettable_amount_cents": I, "coupons_adjustment_amount_cents": I,
         "precise_coupons_adjustment_amount_cents": {"type": "number"},
         "items": {"type": "array", "items": _obj({"amount_cents": I, "lago_fee_id": NS})}},
        {"applied_taxes": {"type": "array", "items": _obj({"tax_code": S, "amount_cents": I}, {
            "lago_tax_id": NS, "tax_name": S, "tax_rate": {"type": "number"}, "tax_description": NS,
            "base_amount_cents": I, "amount_currency": S})}})),
    "CustomerChargeUsageObject": _obj(
        {"units": UNITS, "total_aggregated_units": UNITS, "events_count": I, "amount_cents": I, "amount_currency": S,
         "charge": _obj({"lago_id": S, "charge_model": {"enum": CHARGE_MODELS}}, {"invoice_display_name": NS}),
         "billable_metric": _obj({"lago_id": S, "name": S, "code": S,
                                  "aggregation_type": {"enum": ["count_agg", "sum_agg", "max_agg", "unique_count_agg"]}})},
        {"filters": {"type": "array", "items": _obj(
            {"units": UNITS, "total_aggregated_units": UNITS, "events_count": I, "amount_cents": I,
             "values": {"type": "object", "additionalProperties": {"type": "array", "items": S}}},
            {"invoice_display_name": S})},
         "grouped_usage": {"type": "array"}}),
    "CustomerUsageObject": _obj(
        {"from_datetime": DATETIME, "to_datetime": DATETIME, "issuing_date": {"type": "string", "format": "date"},
         "amount_cents": I, "taxes_amount_cents": I, "total_amount_cents": I,
         "charges_usage": {"type": "array", "items": _ref("CustomerChargeUsageObject")}},
        {"lago_invoice_id": NS, "currency": S}),
    "CustomerUsage": _wrap("customer_usage", _ref("CustomerUsageObject")),
    "EventsPaginated": _list("events", _ref("Event")),
})
PATHS["/invoices/preview"] = {"post": _op(
    "The invoice a subscription would be billed (a new one on plan_code, or subscriptions.external_ids, optionally "
    "terminated at subscriptions.terminated_at), with coupons; computed by the billing run and rolled back: nothing is kept",
    INV, body=_ref("InvoicePreviewInput"), errors=("400", "401", "404", "422"))}
PATHS["/credit_notes/estimate"] = {"post": _op(
    "The amounts of a credit note on these items and the most that can be credited, refunded and offset; nothing is written",
    _ref("CreditNoteEstimated"), body=_ref("CreditNoteEstimateInput"), errors=("400", "401", "404", "422"))}
PATHS["/customers/{external_id}/current_usage"] = {
    "parameters": [_path_param("external_id")],
    "get": _op("The usage of the customer's active subscription in its current period, priced; nothing is written",
               _ref("CustomerUsage"), errors=("400", "401", "404", "422"),
               params=[{**_query("external_subscription_id")[0], "required": True}, *_query("apply_taxes")])}
PATHS["/credit_notes/{lago_id}"]["put"] = _op("Update refund_status and metadata (a map)", CN, body=_ref("CreditNoteUpdateInput"),
                                              errors=("400", "401", "404", "422"))
PATHS["/events"]["get"] = _op("List events (timestamp desc)", _ref("EventsPaginated"), errors=("400", "401", "422"),
                              params=_query("page", "per_page", "external_subscription_id", "code", "timestamp_from",
                                            "timestamp_to", "timestamp_from_started_at"))
PATHS["/billable_metrics/{code}"]["put"] = _op(
    "Update a billable metric (once a plan charges it, only name and description)", BM,
    body=_ref("BillableMetricUpdateInput"), errors=("400", "401", "404", "422"))
PATHS["/billable_metrics/{code}"]["delete"] = _op(
    "Delete a billable metric (soft) with the charges on it; drafts billing it are refreshed", BM, errors=("401", "404"))
PATHS["/plans/{code}"]["delete"] = _op(
    "Delete a plan (soft): its active subscriptions are terminated and billed, its drafts finalized", PL, errors=("401", "404"))
PATHS["/subscriptions/{external_id}"]["put"] = _op(
    "Update the active subscription: name, ending_at (null renews), subscription_at before it starts", SU,
    body=_ref("SubscriptionUpdateInput"), errors=("400", "401", "404", "422"))
# --- end of issue 10's block


# Our schema names → Lago's (the same objects are published under the names of Lago's OpenAPI document).
RENAMES = {
    "Tax": "TaxObject", "BillingEntity": "BillingEntityObject", "Organization": "OrganizationObject",
    "Customer": "CustomerObject", "AddOn": "AddOnObject", "Fee": "FeeObject", "BillingPeriod": "BillingPeriodObject",
    "Invoice": "InvoiceObject", "InvoiceExtended": "InvoiceObjectExtended", "WebhookEndpoint": "WebhookEndpointObject",
    "PublicKeyObject": "WebhookPublicKeyObject", "PublicKey": "WebhookPublicKey", "Event": "EventObject",
    "BillableMetric": "BillableMetricObject", "ChargeFilter": "ChargeFilterObject", "Charge": "ChargeObject",
    "Plan": "PlanObject", "Subscription": "SubscriptionObject", "Coupon": "CouponObject",
    "AppliedCoupon": "AppliedCouponObject", "CreditNote": "CreditNoteObject",
    # request bodies
    "BillingEntityCreate": "BillingEntityCreateInput", "BillingEntityUpdate": "BillingEntityUpdateInput",
    "OrganizationUpdate": "OrganizationUpdateInput", "CustomerInput": "CustomerCreateInput", "AddOnInput": "AddOnCreateInput",
    "InvoiceUpdate": "InvoiceUpdateInput", "OneOffInvoiceInput": "InvoiceOneOffCreateInput", "VoidOptions": "InvoiceVoidInput",
    "CouponInput": "CouponCreateInput", "CreditNoteInput": "CreditNoteCreateInput", "BatchEventInput": "EventBatchInput",
    "BillableMetricInput": "BillableMetricCreateInput", "BillableMetricFilter": "BillableMetricFilterInput",
    "PlanInput": "PlanCreateInput", "SubscriptionInput": "SubscriptionCreateInput",
    "WebhookEndpointInput": "WebhookEndpointCreateInput",
}


def _renamed(node):
    prefix = "#/components/schemas/"
    if isinstance(node, list):
        return [_renamed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(prefix):
            name = value[len(prefix):]
            out[key] = prefix + RENAMES.get(name, name)
        else:
            out[key] = _renamed(value)
    return out


def document() -> dict:
    doc = _document()
    schemas = doc["components"]["schemas"]
    doc["components"]["schemas"] = {RENAMES.get(name, name): schema for name, schema in schemas.items()}
    return _renamed(doc)


def _document() -> dict:
    return deepcopy({
        "openapi": "3.1.0",
        "info": {"title": "billing-console API (Lago-compatible subset)", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
    })
