"""Lago's JSON shape of an invoice and its fees (InvoiceResponse / FeeResponse of the API contract).

Used by the REST API and by the runbook's admin JSON endpoint, so both answer the same thing.
Amounts are JSON integers of minor units; units and precise amounts are strings, as Lago sends them.
"""
from datetime import timedelta
from decimal import Decimal

from core.db import is_prefetched, related_rows, seed_prefetched
from core.prepared import Prepared
from core.documents import signed_url
from core.money import currency_exponent, round_cents
from core.serialization import decimal_str, iso_date, iso_datetime
from customers.models import Customer, CustomerMetadata, Tax
from customers.serializers import serialize_customer
from subscriptions.serializers import serialize_subscription

from .models import Fee, Invoice


def serialize_invoice(invoice: Invoice, *, detailed: bool = True) -> dict:
    """Lago's InvoiceObjectExtended; `detailed` adds fees, credits, subscriptions and billing periods (GET one),
    list items (InvoiceObject) carry customer, metadata and applied_taxes only.

    Optional fields the schema types without null are left out while they have no value (a draft's
    sequential_id and file_url); a draft's issuing and due dates are the provisional ones, from its
    creation day in the customer's time zone, until finalization sets them."""
    issuing_date, payment_due_date = invoice.issuing_date, invoice.payment_due_date
    if issuing_date is None:
        issuing_date = invoice.created_at.astimezone(invoice.customer.tzinfo).date()
        payment_due_date = issuing_date + timedelta(days=invoice.net_payment_term)
    data = {
        **_identity(invoice),
        "issuing_date": iso_date(issuing_date),
        "payment_due_date": iso_date(payment_due_date),
        "net_payment_term": invoice.net_payment_term,
        "invoice_type": invoice.invoice_type,
        "status": invoice.status,
        "payment_status": invoice.payment_status,
        "payment_overdue": invoice.payment_overdue,
        "currency": invoice.currency,
        "fees_amount_cents": invoice.fees_amount_cents,
        "progressive_billing_credit_amount_cents": invoice.progressive_billing_credit_amount_cents,
        "coupons_amount_cents": invoice.coupons_amount_cents,
        "sub_total_excluding_taxes_amount_cents": invoice.sub_total_excluding_taxes_amount_cents,
        "taxes_amount_cents": invoice.taxes_amount_cents,
        "sub_total_including_taxes_amount_cents": invoice.sub_total_including_taxes_amount_cents,
        "credit_notes_amount_cents": invoice.credit_notes_amount_cents,
        "prepaid_credit_amount_cents": invoice.prepaid_credit_amount_cents,
        "total_amount_cents": invoice.total_amount_cents,
        "total_paid_amount_cents": invoice.total_paid_amount_cents,
        "total_due_amount_cents": invoice.total_due_amount_cents,
        "version_number": 4,
        "self_billed": False,
        # A signed, expiring absolute link (core/documents.py), not a storage URL.
        "file_url": signed_url("invoice", invoice.pk, invoice.pdf_file.name, invoice.number) if invoice.pdf_file else None,
        "web_url": None,
        "voided_invoice_id": str(invoice.voided_invoice_id) if invoice.voided_invoice_id else None,
        "created_at": iso_datetime(invoice.created_at),
        "updated_at": iso_datetime(invoice.updated_at),
        "finalized_at": iso_datetime(invoice.finalized_at),
        "voided_at": iso_datetime(invoice.voided_at),
        "customer": serialize_customer(invoice.customer),
        "metadata": invoice.metadata or [],
        "applied_taxes": [
            {
                "lago_id": str(line.pk),
                "lago_invoice_id": str(invoice.pk),
                "lago_tax_id": str(line.tax_id) if line.tax_id else None,
                "tax_name": line.tax_name,
                "tax_code": line.tax_code,
                "tax_rate": float(line.tax_rate),
                "tax_description": None,
                "amount_cents": line.amount_cents,
                "amount_currency": invoice.currency,
                "fees_amount_cents": line.fees_amount_cents,
                "created_at": iso_datetime(invoice.created_at),
            }
            for line in related_rows(invoice, "applied_taxes")
        ],
    }
    if data["file_url"] is None:
        del data["file_url"]
    if detailed:
        fees = list(related_rows(invoice, "fees"))
        data["fees"] = [serialize_fee(fee, invoice) for fee in fees]
        data["credits"] = []
        subscription = invoice.subscription if invoice.subscription_id else None
        data["subscriptions"] = [serialize_subscription(subscription)] if subscription else []
        data["billing_periods"] = [billing_period(invoice, subscription, fees)] if subscription and invoice.period_from else []
    return data


IDENTITY_KEYS = ("lago_id", "billing_entity_code", "sequential_id", "number")


def _identity(invoice: Invoice) -> dict:
    """The invoice object's first keys: its ids and number (a draft's sequential_id left out: the schema types it without null)."""
    identity = {"lago_id": str(invoice.pk), "billing_entity_code": invoice.billing_entity.code}
    if invoice.sequential_id is not None:
        identity["sequential_id"] = invoice.sequential_id
    identity["number"] = invoice.number
    return identity


def with_number(data: dict, invoice: Invoice) -> dict:
    """`serialize_invoice(invoice)` rendered just before numbering, with the ids and number numbering then set.

    Finalization renders its webhook bodies before it takes the number counters, which stay locked until
    commit (tests/test_webhook_held_bodies.py compares the result with the body read back)."""
    return {**_identity(invoice), **{key: value for key, value in data.items() if key not in IDENTITY_KEYS}}


def billing_period(invoice: Invoice, subscription, fees) -> dict:
    """Lago's BillingPeriodObject: the subscription period the invoice bills and its charges' period (the
    subscription fee's and the charge fees' own dates where they have them: a pay-in-advance plan's fee
    covers the next period while its charges cover the one that ended)."""
    period_from, period_to = invoice.period_from, invoice.period_to
    plan_fee = next((f for f in fees if f.kind == Fee.Kind.SUBSCRIPTION and f.from_datetime), None)
    charge_fee = next((f for f in fees if f.kind == Fee.Kind.CHARGE and f.from_datetime), None)
    terminated = subscription.terminated_at
    if terminated is not None and period_to is not None and period_to >= terminated - timedelta(seconds=1):
        reason = "subscription_terminating"
    else:
        reason = "subscription_periodic"
    return {
        "lago_subscription_id": str(subscription.pk),
        "external_subscription_id": subscription.external_id,
        "lago_plan_id": str(subscription.plan_id),
        "subscription_from_datetime": iso_datetime(plan_fee.from_datetime if plan_fee else period_from),
        "subscription_to_datetime": iso_datetime(plan_fee.to_datetime if plan_fee else period_to),
        "charges_from_datetime": iso_datetime(charge_fee.from_datetime if charge_fee else period_from),
        "charges_to_datetime": iso_datetime(charge_fee.to_datetime if charge_fee else period_to),
        "invoicing_reason": reason,
    }


def to_major(minor: Decimal, currency: str) -> str:
    """A precise amount in minor units as Lago's major-unit string (JPY 0, USD 2, KWD 3 decimals), exactly."""
    return decimal_str(Decimal(minor).scaleb(-currency_exponent(currency)))


def serialize_fee(fee: Fee, invoice: Invoice | None = None) -> dict:
    """Lago's FeeObject. Names ending in `_cents` are minor units; `precise_amount`, `precise_total_amount`,
    `taxes_precise_amount` and `precise_unit_amount` are major units, as Lago's FeeSerializer divides them.
    Callers listing many fees select_related add_on, charge__billable_metric, charge_filter and subscription__plan."""
    invoice = invoice or fee.invoice
    currency = invoice.currency
    # Rows written with whole amounts only (hand-added fees, older rows) have no precise amounts: the whole ones are exact.
    precise_amount = Decimal(fee.precise_amount_cents or fee.amount_cents)
    precise_unit = Decimal(fee.precise_unit_amount or fee.unit_amount_cents)
    sub_total_precise = precise_amount - Decimal(fee.precise_coupons_amount_cents)
    taxes_precise = sub_total_precise * Decimal(fee.taxes_rate) / 100
    customer = invoice.customer
    return {
        "lago_id": str(fee.pk),
        "lago_charge_id": str(fee.charge_id) if fee.charge_id else None,
        "lago_charge_filter_id": str(fee.charge_filter_id) if fee.charge_filter_id else None,
        "lago_invoice_id": str(invoice.pk),
        "lago_subscription_id": str(fee.subscription_id) if fee.subscription_id else None,
        "external_subscription_id": fee.subscription.external_id if fee.subscription_id else None,
        "lago_customer_id": str(customer.pk),
        "external_customer_id": customer.external_id,
        "item": _fee_item(fee),
        "pay_in_advance": _pay_in_advance(fee),
        "invoiceable": True,
        "amount_cents": fee.amount_cents,
        "precise_amount": to_major(precise_amount, currency),
        "precise_total_amount": to_major(sub_total_precise + taxes_precise, currency),
        "amount_currency": currency,
        "taxes_amount_cents": fee.taxes_amount_cents,
        "taxes_precise_amount": to_major(taxes_precise, currency),
        "taxes_rate": float(fee.taxes_rate),
        "total_amount_cents": fee.total_amount_cents,
        "total_amount_currency": currency,
        "units": decimal_str(fee.units),
        "total_aggregated_units": decimal_str(fee.units),
        "unit_amount_cents": fee.unit_amount_cents,
        "precise_unit_amount": to_major(precise_unit, currency),
        "precise_coupons_amount_cents": decimal_str(fee.precise_coupons_amount_cents),
        "sub_total_excluding_taxes_amount_cents": round_cents(sub_total_precise),
        "sub_total_excluding_taxes_precise_amount_cents": decimal_str(sub_total_precise),
        "events_count": fee.events_count if fee.charge_id else None,
        "amount_details": {},
        "self_billed": False,
        "description": fee.description or None,
        "invoice_display_name": fee.invoice_display_name or None,
        "from_date": iso_datetime(fee.from_datetime),
        "to_date": iso_datetime(fee.to_datetime),
        "payment_status": invoice.payment_status,
        "adjustment": fee.adjustment,
        "created_at": iso_datetime(fee.created_at),
        "succeeded_at": None,
        "failed_at": None,
        "refunded_at": None,
        "applied_taxes": [
            {
                "lago_id": str(t.pk),
                "lago_fee_id": str(fee.pk),
                "lago_tax_id": str(t.tax_id) if t.tax_id else None,
                "tax_name": t.tax_name,
                "tax_code": t.tax_code,
                "tax_rate": float(t.tax_rate),
                "tax_description": None,
                "amount_cents": t.amount_cents,
                "amount_currency": currency,
                "created_at": iso_datetime(fee.created_at),
            }
            for t in related_rows(fee, "applied_taxes")
        ],
    }


def _pay_in_advance(fee: Fee) -> bool:
    """As Lago: a charge's own flag (charges here are billed in arrears), a subscription fee its plan's."""
    if fee.kind == Fee.Kind.SUBSCRIPTION and fee.subscription_id:
        return fee.subscription.plan.pay_in_advance
    return False


def _fee_item(fee: Fee) -> dict:
    """What the fee bills, as Lago names it: the add-on, the charge's billable metric, or the plan."""
    if fee.add_on_id:
        add_on = fee.add_on
        code, name, description, item_id, item_type = add_on.code, add_on.name, add_on.description, fee.add_on_id, "AddOn"
    elif fee.charge_id:
        metric = fee.charge.billable_metric
        code, name, description, item_id, item_type = metric.code, metric.name, metric.description, metric.pk, "BillableMetric"
    elif fee.subscription_id:
        plan = fee.subscription.plan
        code, name, description, item_id, item_type = plan.code, plan.name, plan.description, fee.subscription_id, "Subscription"
    elif fee.kind == Fee.Kind.CREDIT:  # a wallet top-up: Lago's item is the wallet transaction, named "credit"
        code, name, description, item_id, item_type = "credit", "credit", "credit", fee.pk, "WalletTransaction"
    else:  # a fee an operator added by hand, billing nothing of the catalogue
        code, name, description, item_id, item_type = fee.kind, fee.get_kind_display(), fee.description, fee.pk, "AddOn"
    charge_filter = fee.charge_filter if fee.charge_filter_id else None
    return {
        "type": fee.kind,
        "code": code,
        "name": name,
        "description": description or None,
        "invoice_display_name": fee.display_name,
        "filter_invoice_display_name": (charge_filter.invoice_display_name or None) if charge_filter else None,
        "filters": charge_filter.values if charge_filter else None,
        "lago_item_id": str(item_id),
        "item_type": item_type,
        "grouped_by": {},
    }


def webhook_invoices_held(invoices) -> dict[str, dict]:
    """webhook_invoices' objects, byte for byte, from invoices the caller holds as its transaction wrote them
    (finalization), instead of reading them back.

    Each invoice carries, loaded or as if prefetched: its customer with the customer's billing entity, its
    billing entity, its subscription with the plan, `applied_taxes`, and `fees` in their order (position,
    created_at), each fee with its `applied_taxes`; no DecimalField value the database would round
    (`core.db.decimals_stored_exactly`). What finalization does not read is loaded here once for the batch:
    the customers' taxes and metadata, the fees' add-ons, charges (with their metrics) and charge filters.
    tests/test_webhook_held_bodies.py renders both ways and compares.
    """
    from django.db.models import Prefetch, prefetch_related_objects

    from plans.models import Charge

    invoices = list(invoices)
    # Every customer instance (several drafts of one customer each hold their own): one query per relation for all.
    customers = list({id(invoice.customer): invoice.customer for invoice in invoices}.values())
    if len(customers) == 1:  # finalizing one invoice: the two statements compiled once
        _load_taxes_and_metadata(customers[0])
    else:
        prefetch_related_objects(customers, "taxes", "metadata")
    fees = []
    for invoice in invoices:
        subscription = invoice.subscription if invoice.subscription_id else None
        if subscription is not None and subscription.customer_id == invoice.customer_id:
            subscription.customer = invoice.customer  # the one the read-back joins (subscription__customer)
        for fee in related_rows(invoice, "fees"):
            if subscription is not None and fee.subscription_id == subscription.pk:
                fee.subscription = subscription
            fees.append(fee)
    # Each catalogue row once per batch, for the fees that name one (a prefetch skips what a fee already
    # carries: a one-off's add-ons, the charges finalization read).
    for relation, then, lookups in (
        ("add_on", None, ["add_on"]),
        ("charge", "billable_metric", [Prefetch("charge", queryset=Charge.objects.select_related("billable_metric")), "charge__billable_metric"]),
        ("charge_filter", None, ["charge_filter"]),
        ("subscription", "plan", ["subscription__plan"]),
    ):
        naming = [fee for fee in fees if getattr(fee, f"{relation}_id") is not None and not _holds(fee, relation, then)]
        if naming:
            prefetch_related_objects(naming, *lookups)
    return {str(invoice.pk): serialize_invoice(invoice) for invoice in invoices}


_TAXES_OF_ONE = Prepared(lambda customer_id: Tax.objects.filter(customers=customer_id), Customer._meta.pk)
_METADATA_OF_ONE = Prepared(lambda customer_id: CustomerMetadata.objects.filter(customer_id=customer_id), Customer._meta.pk)


def _load_taxes_and_metadata(customer) -> None:
    """What `prefetch_related_objects([customer], "taxes", "metadata")` loads, the same rows in the same order."""
    if not is_prefetched(customer, "taxes"):
        seed_prefetched(customer, "taxes", _TAXES_OF_ONE.rows(customer.pk))
    if not is_prefetched(customer, "metadata"):
        metadata = _METADATA_OF_ONE.rows(customer.pk)
        for row in metadata:
            row.customer = customer
        seed_prefetched(customer, "metadata", metadata)


def _holds(obj, relation: str, then: str | None) -> bool:
    """`obj.<relation>` (and its `<then>`) already loaded: nothing for a prefetch to do (skipping the call is most of the saving)."""
    field = type(obj)._meta.get_field(relation)
    if not field.is_cached(obj):
        return False
    related = getattr(obj, relation)
    return then is None or related is None or type(related)._meta.get_field(then).is_cached(related)


def webhook_invoices(ids) -> dict[str, dict]:
    """The `invoice` object of invoice.* webhooks: the API's full invoice (fees, taxes, customer), read in
    the caller's transaction, so it is the invoice as the change left it (webhooks/payloads.py)."""
    from django.db.models import Prefetch

    fees = Prefetch("fees", queryset=Fee.objects.select_related("add_on", "charge__billable_metric", "subscription__plan")
                    .prefetch_related("applied_taxes"))
    invoices = (Invoice.objects.select_related("customer__billing_entity", "billing_entity", "subscription__plan", "subscription__customer__billing_entity")
                .prefetch_related("applied_taxes", "customer__taxes", "customer__metadata", fees).filter(pk__in=list(ids)))
    return {str(invoice.pk): serialize_invoice(invoice) for invoice in invoices}
