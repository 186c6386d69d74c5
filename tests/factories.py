"""Small factories: plain functions with sensible defaults, override what the test is about."""
import itertools
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

from customers.models import BillingEntity, Customer, Tax
from invoices.models import Fee, FeeTax, Invoice

_counter = itertools.count(1)


def tax(code=None, rate="20", **kwargs) -> Tax:
    n = next(_counter)
    return Tax.objects.create(code=code or f"vat-{n}", name=kwargs.pop("name", f"VAT {rate}%"), rate=Decimal(rate), **kwargs)


def billing_entity(**kwargs) -> BillingEntity:
    """A new, non-default entity; with is_default=True, the install's default entity (created by
    `migrate`, customers/bootstrap.py) given the other values, as there is only ever one default."""
    n = next(_counter)
    kwargs.setdefault("code", f"entity-{n}")
    kwargs.setdefault("name", "Acme Billing")
    kwargs.setdefault("document_number_prefix", f"ACM{n}")
    if kwargs.pop("is_default", False):
        from customers.bootstrap import ensure_default_billing_entity

        entity = ensure_default_billing_entity()
        for field, value in kwargs.items():
            setattr(entity, field, value)
        entity.save()
        return entity
    return BillingEntity.objects.create(**kwargs)


def customer(entity=None, **kwargs) -> Customer:
    n = next(_counter)
    kwargs.setdefault("external_id", f"cust-{n}")
    kwargs.setdefault("name", f"Customer {n}")
    kwargs.setdefault("currency", "USD")
    return Customer.objects.create(billing_entity=entity or billing_entity(), **kwargs)


def invoice(cust=None, fees=(), taxes=(), **kwargs) -> Invoice:
    """A draft with `fees` given as (units, unit_amount_cents) pairs or dicts of Fee fields."""
    cust = cust or customer()
    kwargs.setdefault("currency", cust.currency or cust.billing_entity.default_currency)
    kwargs.setdefault("period_from", datetime(2026, 10, 1, tzinfo=dt_timezone.utc))
    kwargs.setdefault("period_to", datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt_timezone.utc))
    inv = Invoice.objects.create(customer=cust, billing_entity=cust.billing_entity, **kwargs)
    for position, spec in enumerate(fees):
        fee(inv, spec, taxes=taxes, position=position)
    if fees:
        from invoices.drafts import recompute_draft

        recompute_draft(inv)
    return inv


def fee(inv, spec=(1, 1000), taxes=(), **kwargs) -> Fee:
    from core.money import round_cents

    if isinstance(spec, dict):
        values = dict(spec)
    else:
        units, unit_amount = spec
        values = {"units": Decimal(str(units)), "unit_amount_cents": unit_amount}
    values.setdefault("kind", Fee.Kind.CHARGE)
    values.setdefault("units", Decimal(1))
    values.setdefault("unit_amount_cents", 0)
    values.setdefault("precise_unit_amount", Decimal(values["unit_amount_cents"]))
    values.setdefault("amount_cents", round_cents(Decimal(values["units"]) * Decimal(values["unit_amount_cents"])))
    values.setdefault("invoice_display_name", f"Fee {next(_counter)}")
    f = Fee.objects.create(invoice=inv, **values, **kwargs)
    for t in taxes:
        FeeTax.objects.create(fee=f, tax=t, tax_code=t.code, tax_name=t.name, tax_rate=t.rate)
    return f
