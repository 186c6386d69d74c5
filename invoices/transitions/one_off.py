"""One-off invoices from add-ons (seed 004): billed at once, finalized through the one transition.

    create_one_off_invoice(customer, *, fees: list[dict], actor, currency=None, now=None) -> Invoice

`fees` items: {"add_on": AddOn | "add_on_code": str, "units"?, "unit_amount_cents"?, "description"?,
"invoice_display_name"?, "from_datetime"?, "to_datetime"?, "tax_codes"?}. Everything is checked
before anything is written, and it all runs in one transaction, so bad input writes nothing. Bad input
raises a ValidationError keyed by field whose `code` (on the error and on the field's entry) is the
Lago error code the API answers with; line errors carry `params["line"]` (1-based) for the admin.

The admin's preview runs the very same creation and rolls it back (`preview_one_off_invoice`):
one rule for amounts, taxes and totals, never a second copy of the maths.

Upstream mode: `create_one_off_invoice` hands over to the ONE_OFF delegate (transitions/delegation.py;
upstream/operations.py: Lago's POST /invoices, the invoice it creates mirrored under its lago_id). The
preview never does: it runs the local maths and rolls it back, so nothing reaches Lago.
"""
from dataclasses import dataclass
from datetime import date, datetime, time
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from addons.models import AddOn
from audit import log as audit_log
from audit.actors import Actor
from core.db import seed_prefetched
from core.serialization import plain_decimal
from core.money import MinorUnitsError, parse_minor_units, round_cents, to_decimal, validate_currency
from customers.models import BillingEntity, Customer, Tax

from . import delegation
from .fee_edits import attach_taxes_many
from .finalization import FINALIZED, NewDraft, finalize_new_drafts
from ..models import Fee, Invoice, InvoiceTax


def invalid(field_name: str, message: str, code: str, line: int | None = None) -> ValidationError:
    """A ValidationError keyed by `field_name` whose code is the Lago error code (also on the error itself)."""
    params = {"line": line} if line is not None else None
    error = ValidationError({field_name: ValidationError(message, code=code, params=params)})
    error.code = code
    return error


@dataclass
class Line:
    """One validated fee line, ready to be written."""

    add_on: AddOn
    units: Decimal
    unit_amount_cents: int
    description: str
    invoice_display_name: str
    from_datetime: datetime
    to_datetime: datetime
    taxes: list[Tax] | None = None  # None until `_default_taxes` fills in the default ones

    @property
    def amount_cents(self) -> int:
        return round_cents(self.units * self.unit_amount_cents)

    def as_audit(self) -> dict:
        return {
            "add_on_code": self.add_on.code,
            "units": plain_decimal(self.units),
            "unit_amount_cents": self.unit_amount_cents,
            "amount_cents": self.amount_cents,
            "description": self.description,
            "from_datetime": self.from_datetime.isoformat(),
            "to_datetime": self.to_datetime.isoformat(),
            "tax_codes": [tax.code for tax in self.taxes],
        }


def create_one_off_invoice(customer, *, fees, actor: Actor, currency=None, now=None) -> Invoice:
    """Create and finalize a one-off invoice; returns it finalized and numbered."""
    if (upstream := delegation.delegated(delegation.ONE_OFF)) is not None:
        return delegation.hand_over(upstream, customer, fees=fees, actor=actor, currency=currency, now=now)
    return _create_here(customer, fees=fees, actor=actor, currency=currency, now=now)


def _create_here(customer, *, fees, actor: Actor, currency=None, now=None) -> Invoice:
    now = now or timezone.now()
    with transaction.atomic():
        customer = _lock_customer(customer)
        lines = [_parse_line(item, position, now) for position, item in enumerate(fees or [], start=1)]
        _default_taxes(customer, lines)
        if not lines:
            raise invalid("fees", "Add at least one add-on line.", "fees_not_found")
        currency = resolve_currency(customer, currency, [line.add_on for line in lines])
        if not customer.currency:
            # The first invoice fixes the customer's currency (Lago's Customers::UpdateCurrencyService).
            customer.currency = currency
            customer.save(update_fields=["currency", "updated_at"])

        invoice = Invoice.objects.create(
            customer=customer, billing_entity=customer.billing_entity, invoice_type=Invoice.InvoiceType.ONE_OFF, currency=currency,
        )
        # bulk_create skips Fee.save()'s "is the invoice still a draft?" query: it was created just above.
        fees = Fee.objects.bulk_create([
            Fee(
                invoice=invoice, kind=Fee.Kind.ADD_ON, add_on=line.add_on, position=position,
                invoice_display_name=line.invoice_display_name, description=line.description,
                units=line.units, unit_amount_cents=line.unit_amount_cents, precise_unit_amount=Decimal(line.unit_amount_cents),
                amount_cents=line.amount_cents, precise_amount_cents=line.units * line.unit_amount_cents,
                from_datetime=line.from_datetime, to_datetime=line.to_datetime,
            )
            for position, line in enumerate(lines)
        ])
        applied = attach_taxes_many([(fee, line.taxes) for fee, line in zip(fees, lines)])
        for fee in fees:
            seed_prefetched(fee, "applied_taxes", sorted(applied[fee], key=lambda t: t.tax_code))
        # The finalization and the API's answer use these objects as they are, without reading them back.
        seed_prefetched(invoice, "fees", fees)

        def audit(invoice):
            after = {"currency": currency, "total_amount_cents": invoice.total_amount_cents, "lines": [line.as_audit() for line in lines]}
            return [audit_log.entry("invoice.one_off_created", actor, invoice=invoice, obj=invoice, before=None, after=after)]

        outcome = finalize_new_drafts([NewDraft(invoice, fees, audit=audit)], actor, now=now)[0]
        if outcome.result != FINALIZED:  # cannot happen with at least one line; refuse rather than half-issue
            raise ValidationError(outcome.message, code="not_finalized")
        invoice = outcome.invoice
        return invoice


@dataclass
class Preview:
    """What `create_one_off_invoice` would issue: the invoice, its fees and its tax lines (not saved)."""

    invoice: Invoice
    fees: list[Fee]
    taxes: list[InvoiceTax]


class _RollBack(Exception):
    def __init__(self, preview: Preview):
        self.preview = preview


def preview_one_off_invoice(customer, *, fees, actor: Actor, currency=None, now=None) -> Preview:
    """Run the real creation inside a savepoint and roll it back: totals by the same code, nothing kept.

    Validation errors are raised exactly as `create_one_off_invoice` raises them.
    """
    try:
        with transaction.atomic():
            invoice = _create_here(customer, fees=fees, actor=actor, currency=currency, now=now)
            # .all(): the fees seeded on the invoice (a queryset method on a seeded manager would query every fee there is).
            fee_rows = sorted(invoice.fees.all(), key=lambda fee: fee.position)
            for fee in fee_rows:
                fee.tax_names = [f"{t.tax_name} ({t.tax_rate.normalize():f} %)" for t in fee.applied_taxes.all()]
            raise _RollBack(Preview(invoice, fee_rows, list(invoice.applied_taxes.all())))
    except _RollBack as rolled_back:
        return rolled_back.preview


def resolve_currency(customer: Customer, currency, add_ons) -> str:
    """The invoice currency: the given one, else the customer's, else the first add-on's.

    A customer whose currency is set only ever gets invoices in it (seed 004).
    """
    currency = (currency or "").strip().upper() or customer.currency or (add_ons[0].amount_currency if add_ons else "")
    try:
        validate_currency(currency)
    except ValidationError:
        raise invalid("currency", f"{currency or '(blank)'} is not a currency that can be invoiced.", "value_is_invalid")
    if customer.currency and currency != customer.currency:
        raise invalid(
            "currency",
            f"The customer is billed in {customer.currency}; a one-off invoice in {currency} is not allowed.",
            "currencies_does_not_match",
        )
    return currency


def _lock_customer(customer) -> Customer:
    # Locked so two one-off invoices cannot fix a blank customer currency to two different values.
    pk = customer.pk if isinstance(customer, Customer) else customer
    locked = Customer.objects.select_for_update(of=("self",)).select_related("billing_entity").filter(pk=pk, deleted_at__isnull=True).first()
    if locked is None:
        raise invalid("customer", "That customer does not exist.", "customer_not_found")
    return locked


TAXES_SQL = (
    f"SELECT t.*, 'customer' AS owner FROM {Tax._meta.db_table} t JOIN {Customer.taxes.through._meta.db_table} l ON l.tax_id = t.id"
    " WHERE l.customer_id = %s"
    f" UNION ALL SELECT t.*, 'entity' FROM {Tax._meta.db_table} t JOIN {BillingEntity.taxes.through._meta.db_table} l ON l.tax_id = t.id"
    " WHERE l.billingentity_id = %s"
    f" UNION ALL SELECT t.*, l.addon_id::text FROM {Tax._meta.db_table} t JOIN {AddOn.taxes.through._meta.db_table} l ON l.tax_id = t.id"
    " WHERE l.addon_id = ANY(%s) ORDER BY code"
)


def uses_postgres_fast_path() -> bool:
    """True where TAXES_SQL (PostgreSQL's `::text` and `= ANY`) replaces the portable queries."""
    return connection.vendor == "postgresql"


def _default_taxes(customer: Customer, lines: list[Line]) -> None:
    """Taxes of the lines without tax codes: the add-on's, else the customer's applicable taxes (seed 004).

    The customer's and its billing entity's taxes are kept as if prefetched, for `applicable_taxes`
    and for the API's answer.
    """
    add_on_ids = list({line.add_on.pk for line in lines if line.taxes is None})
    found = _taxes_by_owner(customer, add_on_ids)
    seed_prefetched(customer, "taxes", found["customer"])
    entity = customer.billing_entity
    seed_prefetched(entity, "taxes", found["entity"])
    for line in lines:
        if line.taxes is None:
            line.taxes = found.get(str(line.add_on.pk)) or customer.applicable_taxes()


def _taxes_by_owner(customer: Customer, add_on_ids: list) -> dict[str, list[Tax]]:
    """{"customer": [...], "entity": [...], "<add-on id>": [...]}, each list ordered by code.

    On PostgreSQL one raw query reads all three (the ORM's UNION costs more to compile than the
    queries it saves: a one-off benchmark optimisation); elsewhere three ORM queries.
    """
    if uses_postgres_fast_path():
        found = {"customer": [], "entity": []}
        for tax in Tax.objects.raw(TAXES_SQL, [customer.pk, customer.billing_entity_id, add_on_ids]):
            found.setdefault(tax.owner, []).append(tax)
        return found
    links = [
        ("customer", Customer.taxes.through.objects.filter(customer_id=customer.pk)),
        ("entity", BillingEntity.taxes.through.objects.filter(billingentity_id=customer.billing_entity_id)),
    ]
    found = {owner: [link.tax for link in query.select_related("tax").order_by("tax__code")] for owner, query in links}
    if add_on_ids:
        for link in AddOn.taxes.through.objects.filter(addon_id__in=add_on_ids).select_related("tax").order_by("tax__code"):
            found.setdefault(str(link.addon_id), []).append(link.tax)
    return found


def _parse_line(item: dict, line: int, now: datetime) -> Line:
    if not isinstance(item, dict):
        raise invalid("fees", "Line %(line)s: each fee is an object with an add-on.", "value_is_invalid", line)
    add_on = _add_on(item, line)
    units = _units(item.get("units"), line)
    unit_amount_cents = _unit_amount(item.get("unit_amount_cents"), add_on, line)
    from_datetime, to_datetime = _boundaries(item.get("from_datetime"), item.get("to_datetime"), now, line)
    return Line(
        add_on=add_on,
        units=units,
        unit_amount_cents=unit_amount_cents,
        description=item.get("description") or add_on.description,
        invoice_display_name=(item.get("invoice_display_name") or "").strip() or add_on.invoice_display_name or add_on.name,
        from_datetime=from_datetime,
        to_datetime=to_datetime,
        taxes=_coded_taxes(item.get("tax_codes"), line),
    )


def _add_on(item: dict, line: int) -> AddOn:
    add_on = item.get("add_on")
    if isinstance(add_on, AddOn):
        if add_on.deleted_at is None:
            return add_on
        code = add_on.code
    else:
        code = item.get("add_on_code") or ""
        add_on = AddOn.objects.active().prefetch_related("taxes").filter(code=code).first() if code else None
        if add_on is not None:
            return add_on
    raise invalid("add_on", f"Line %(line)s: add-on {code or '(none)'} does not exist.", "add_on_not_found", line)


def _units(value, line: int) -> Decimal:
    if value in (None, ""):
        return Decimal(1)
    try:
        units = to_decimal(value)
    except ValidationError:
        raise invalid("units", "Line %(line)s: units must be a number.", "value_is_invalid", line)
    if units < 0:
        raise invalid("units", "Line %(line)s: units must not be negative.", "value_is_out_of_range", line)
    return units


def _unit_amount(value, add_on: AddOn, line: int) -> int:
    if value in (None, ""):
        return add_on.amount_cents
    try:
        return parse_minor_units(value)
    except MinorUnitsError as exc:
        message, code = {
            "not_a_number": ("Line %(line)s: the unit price must be a number.", "value_is_invalid"),
            "negative": ("Line %(line)s: the unit price must not be negative.", "value_is_out_of_range"),
            "fractional": ("Line %(line)s: the unit price is a whole number of minor units.", "value_is_invalid"),
        }[exc.reason]
        raise invalid("unit_amount_cents", message, code, line)


def _boundaries(start, end, now: datetime, line: int) -> tuple[datetime, datetime]:
    """Both ends or neither (then now), ISO 8601, from <= to."""
    if start in (None, "") and end in (None, ""):
        return now, now
    start, end = _datetime(start), _datetime(end)
    if start is None or end is None or start > end:
        raise invalid(
            "boundaries",
            "Line %(line)s: give both ends of the billing period (ISO 8601), the start not after the end.",
            "values_are_invalid", line,
        )
    return start, end


def _datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time.min)
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            return None
        if parsed is None:
            return None
    else:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt_timezone.utc)


def _coded_taxes(tax_codes, line: int) -> list[Tax] | None:
    """The taxes named by the payload's tax codes; None without codes (see `_default_taxes`)."""
    if tax_codes:
        codes = list(dict.fromkeys(tax_codes))
        found = {tax.code: tax for tax in Tax.objects.filter(code__in=codes)}
        missing = [code for code in codes if code not in found]
        if missing:
            raise invalid("tax_codes", f"Line %(line)s: unknown tax code {', '.join(missing)}.", "tax_not_found", line)
        return [found[code] for code in codes]
    return None
