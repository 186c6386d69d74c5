"""One-off invoices from add-ons (seed 004): amounts, currency rule, defaults, taxes, refusals, events."""
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from addons.models import AddOn
from audit.models import AuditLogEntry
from invoices.models import Fee, Invoice
from invoices.transitions.one_off import create_one_off_invoice, preview_one_off_invoice
from webhooks.models import WebhookEvent

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=dt_timezone.utc)


def add_on(code="setup", amount_cents=50000, currency="USD", taxes=(), **kwargs) -> AddOn:
    kwargs.setdefault("name", code.replace("_", " ").title())
    item = AddOn.objects.create(code=code, amount_cents=amount_cents, amount_currency=currency, **kwargs)
    item.taxes.set(taxes)
    return item


def counts() -> tuple:
    return Invoice.objects.count(), Fee.objects.count(), AuditLogEntry.objects.count(), WebhookEvent.objects.count()


def error_code(exc: pytest.ExceptionInfo, field: str) -> str:
    assert exc.value.code == exc.value.error_dict[field][0].code
    return exc.value.error_dict[field][0].code


def test_units_times_unit_price_is_rounded_half_up_once(actor):
    cust = f.customer()
    item = add_on()
    invoice = create_one_off_invoice(cust, fees=[{"add_on": item, "units": "2.5", "unit_amount_cents": 333}], actor=actor, now=NOW)

    invoice.refresh_from_db()
    fee = invoice.fees.get()
    assert fee.units == Decimal("2.5") and fee.unit_amount_cents == 333
    assert fee.amount_cents == 833  # 832.5 -> 833
    assert fee.kind == Fee.Kind.ADD_ON and fee.add_on == item
    assert invoice.invoice_type == Invoice.InvoiceType.ONE_OFF
    assert invoice.status == Invoice.Status.FINALIZED
    assert invoice.fees_amount_cents == invoice.total_amount_cents == 833
    assert invoice.number == f"{cust.billing_entity.document_number_prefix}-{cust.sequential_id:03d}-001"
    assert invoice.issuing_date.isoformat() == "2026-11-20"
    assert invoice.grace_period_ends_at is None


def test_jpy_amounts_have_no_minor_unit(actor):
    cust = f.customer(currency="JPY")
    item = add_on("consulting", amount_cents=1500, currency="JPY")
    invoice = create_one_off_invoice(cust, fees=[{"add_on": item, "units": "1.5"}], actor=actor, now=NOW)

    invoice.refresh_from_db()
    assert invoice.currency == "JPY"
    assert invoice.total_amount_cents == 2250
    assert invoice.display("total_amount_cents") == "2,250 JPY"


def test_currency_mismatch_is_refused_and_nothing_is_written(actor):
    cust = f.customer(currency="EUR")
    item = add_on()
    before = counts()

    with pytest.raises(ValidationError) as exc:
        create_one_off_invoice(cust, fees=[{"add_on": item}], actor=actor, currency="USD", now=NOW)

    assert error_code(exc, "currency") == "currencies_does_not_match"
    assert "EUR" in exc.value.message_dict["currency"][0]
    assert counts() == before


def test_a_later_bad_line_rolls_back_everything(actor):
    cust = f.customer(currency="")
    item = add_on()
    before = counts()

    with pytest.raises(ValidationError) as exc:
        create_one_off_invoice(cust, fees=[{"add_on": item}, {"add_on": item, "units": "-1"}], actor=actor, now=NOW)

    assert error_code(exc, "units") == "value_is_out_of_range"
    assert exc.value.message_dict["units"] == ["Line 2: units must not be negative."]
    assert counts() == before
    cust.refresh_from_db()
    assert cust.currency == ""


def test_the_same_add_on_twice_gives_two_lines(actor):
    cust = f.customer()
    item = add_on(amount_cents=1000)
    invoice = create_one_off_invoice(
        cust, fees=[{"add_on": item}, {"add_on_code": item.code, "units": 3, "description": "Second visit"}], actor=actor, now=NOW
    )

    fees = list(invoice.fees.order_by("position"))
    assert [(fee.add_on_id, fee.units, fee.amount_cents) for fee in fees] == [(item.pk, 1, 1000), (item.pk, 3, 3000)]
    assert fees[1].description == "Second visit"
    invoice.refresh_from_db()
    assert invoice.total_amount_cents == 4000


def test_a_zero_price_line_is_a_line_so_the_invoice_is_finalized(actor):
    entity = f.billing_entity(finalize_zero_amount_invoice=False)
    cust = f.customer(entity, finalize_zero_amount_invoice="skip")
    invoice = create_one_off_invoice(cust, fees=[{"add_on": add_on(), "unit_amount_cents": 0}], actor=actor, now=NOW)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.FINALIZED
    assert invoice.total_amount_cents == 0
    assert invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED
    assert not invoice.number.endswith("DRAFT")


def test_an_empty_line_list_is_refused(actor):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        create_one_off_invoice(f.customer(), fees=[], actor=actor, now=NOW)
    assert error_code(exc, "fees") == "fees_not_found"
    assert counts() == before


@pytest.mark.parametrize(
    "line, field, code",
    [
        ({"add_on_code": "nope"}, "add_on", "add_on_not_found"),
        ({"units": "-0.5"}, "units", "value_is_out_of_range"),
        ({"from_datetime": "2026-01-01T00:00:00Z"}, "boundaries", "values_are_invalid"),
        ({"from_datetime": "yesterday", "to_datetime": "2026-01-01T00:00:00Z"}, "boundaries", "values_are_invalid"),
        ({"from_datetime": "2026-02-01T00:00:00Z", "to_datetime": "2026-01-01T00:00:00Z"}, "boundaries", "values_are_invalid"),
        ({"tax_codes": ["no-such-tax"]}, "tax_codes", "tax_not_found"),
    ],
)
def test_bad_lines_are_refused_with_lago_codes(actor, line, field, code):
    item = add_on()
    before = counts()
    line = {"add_on": item, **line} if "add_on_code" not in line else line
    with pytest.raises(ValidationError) as exc:
        create_one_off_invoice(f.customer(), fees=[line], actor=actor, now=NOW)
    assert error_code(exc, field) == code
    assert exc.value.error_dict[field][0].params == {"line": 1}
    assert counts() == before


def test_defaults_come_from_the_add_on(actor):
    item = add_on(amount_cents=12345, description="Onboarding workshop", invoice_display_name="Workshop")
    invoice = create_one_off_invoice(f.customer(), fees=[{"add_on": item}], actor=actor, now=NOW)

    fee = invoice.fees.get()
    assert (fee.units, fee.unit_amount_cents, fee.amount_cents) == (1, 12345, 12345)
    assert fee.description == "Onboarding workshop"
    assert fee.invoice_display_name == "Workshop"
    assert fee.from_datetime == NOW and fee.to_datetime == NOW


def test_a_period_in_the_past_or_future_is_kept(actor):
    invoice = create_one_off_invoice(
        f.customer(),
        fees=[{"add_on": add_on(), "from_datetime": "2025-01-01T00:00:00Z", "to_datetime": "2027-12-31T23:59:59Z"}],
        actor=actor, now=NOW,
    )
    fee = invoice.fees.get()
    assert fee.from_datetime == datetime(2025, 1, 1, tzinfo=dt_timezone.utc)
    assert fee.to_datetime == datetime(2027, 12, 31, 23, 59, 59, tzinfo=dt_timezone.utc)


def test_taxes_come_from_the_add_on_else_the_customer_else_the_payload(actor):
    customer_vat, add_on_vat, payload_vat = f.tax(rate="20"), f.tax(rate="10"), f.tax(rate="5")
    cust = f.customer()
    cust.taxes.set([customer_vat])
    taxed = add_on("taxed", amount_cents=1000, taxes=[add_on_vat])
    plain = add_on("plain", amount_cents=1000)

    invoice = create_one_off_invoice(
        cust,
        fees=[{"add_on": taxed}, {"add_on": plain}, {"add_on": plain, "tax_codes": [payload_vat.code]}],
        actor=actor, now=NOW,
    )

    invoice.refresh_from_db()
    rates = [[t.tax_code for t in fee.applied_taxes.all()] for fee in invoice.fees.order_by("position")]
    assert rates == [[add_on_vat.code], [customer_vat.code], [payload_vat.code]]
    assert invoice.taxes_amount_cents == 100 + 200 + 50
    assert invoice.total_amount_cents == 3350
    assert {t.tax_code: t.amount_cents for t in invoice.applied_taxes.all()} == {
        add_on_vat.code: 100, customer_vat.code: 200, payload_vat.code: 50,
    }


def test_a_blank_customer_currency_is_filled_by_the_first_one_off_invoice(actor):
    cust = f.customer(currency="")
    invoice = create_one_off_invoice(cust, fees=[{"add_on": add_on(currency="EUR")}], actor=actor, now=NOW)
    cust.refresh_from_db()
    assert invoice.currency == cust.currency == "EUR"

    other = f.customer(currency="")
    invoice = create_one_off_invoice(other, fees=[{"add_on": add_on("b", currency="EUR")}], actor=actor, currency="gbp", now=NOW)
    other.refresh_from_db()
    assert invoice.currency == other.currency == "GBP"


def test_one_off_created_event_and_audit_not_invoice_created(actor):
    invoice = create_one_off_invoice(f.customer(), fees=[{"add_on": add_on(), "units": 2}], actor=actor, now=NOW)

    events = list(WebhookEvent.objects.filter(object_id=str(invoice.pk)).values_list("webhook_type", flat=True))
    assert events == ["invoice.one_off_created"]
    actions = set(AuditLogEntry.objects.filter(invoice=invoice).values_list("action", flat=True))
    assert actions == {"invoice.finalized", "invoice.one_off_created"}
    entry = AuditLogEntry.objects.get(invoice=invoice, action="invoice.one_off_created")
    assert entry.invoice_number == invoice.number
    assert entry.after["lines"][0]["units"] == "2" and entry.after["lines"][0]["amount_cents"] == 100000


def test_preview_computes_the_same_totals_and_writes_nothing(actor):
    vat = f.tax(rate="20")
    cust = f.customer(currency="")
    cust.taxes.set([vat])
    before = counts()

    preview = preview_one_off_invoice(cust, fees=[{"add_on": add_on(), "units": "2.5", "unit_amount_cents": 333}], actor=actor, now=NOW)

    assert counts() == before
    cust.refresh_from_db()
    assert cust.currency == ""
    assert preview.invoice.total_amount_cents == 833 + 167
    assert [(t.tax_code, t.amount_cents) for t in preview.taxes] == [(vat.code, 167)]
    assert [fee.amount_cents for fee in preview.fees] == [833]
