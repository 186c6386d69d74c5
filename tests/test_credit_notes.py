"""Credit notes: numbering, what is creditable, credit balances consumed later, pending refunds, offsets."""
import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditLogEntry
from coupons.models import Credit
from credit_notes.models import CreditNote
from credit_notes.services import create_credit_note
from invoices.transitions.finalization import finalize_invoice
from webhooks.models import WebhookEvent

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


def note(inv, amount, **kwargs):
    kwargs.setdefault("reason", "order_change")
    fee = kwargs.pop("fee", None) or inv.fees.order_by("position").first()
    return create_credit_note(inv.pk, c.SYSTEM, items=[{"fee_id": fee.pk, "amount_cents": amount}], **kwargs)


def code_of(err):
    if hasattr(err.value, "error_dict"):
        return next(iter(err.value.error_dict.values()))[0].code
    return err.value.code


def test_numbered_after_the_invoice_audited_and_announced():
    inv = c.finalized(fees=[(1, 10000)])
    first = note(inv, 1000, credit_amount_cents=1000)
    second = note(inv, 2000, credit_amount_cents=2000)
    assert (first.number, second.number) == (f"{inv.number}-CN001", f"{inv.number}-CN002")
    assert (first.status, first.credit_status, first.balance_amount_cents, first.refund_status) == ("finalized", "available", 1000, None)
    entry = AuditLogEntry.objects.get(action="credit_note.created", object_id=str(first.pk))
    assert entry.invoice_id == inv.pk and entry.after["total_amount_cents"] == 1000
    event = WebhookEvent.objects.get(webhook_type="credit_note.created", object_id=str(first.pk))
    assert event.object_type == "credit_note"


def test_items_are_credited_after_the_coupon_share_and_with_taxes():
    vat = f.tax(rate="20")
    cust = f.customer()
    c.give(cust, c.coupon(rate="10"))
    inv = c.finalized(cust, fees=[(1, 10000)], taxes=[vat])
    assert inv.sub_total_including_taxes_amount_cents == 10800

    cn = note(inv, 10000, credit_amount_cents=10800)
    assert (cn.coupons_adjustment_amount_cents, cn.sub_total_excluding_taxes_amount_cents, cn.taxes_amount_cents, cn.total_amount_cents) == (
        1000, 9000, 1800, 10800
    )
    assert list(cn.items.values_list("amount_cents", flat=True)) == [10000]


def test_amounts_must_match_the_items_within_one_cent():
    vat = f.tax(rate="20")
    inv = c.finalized(fees=[(1, 1001)], taxes=[vat])  # 1001 + 200.2 → 1201
    assert note(inv, 1001, credit_amount_cents=1200).total_amount_cents == 1200  # within 1 cent of 1201
    inv2 = c.finalized(fees=[(1, 1000)], taxes=[vat])
    with pytest.raises(ValidationError) as err:
        note(inv2, 1000, credit_amount_cents=1100)
    assert code_of(err) == "does_not_match_item_amounts"


def test_cannot_credit_more_than_the_fee_or_the_invoice_has_left():
    inv = c.finalized(fees=[(1, 10000), (1, 500)])
    note(inv, 6000, credit_amount_cents=6000)
    with pytest.raises(ValidationError) as err:
        note(inv, 4001, credit_amount_cents=4001)
    assert code_of(err) == "higher_than_remaining_fee_amount"
    note(inv, 4000, credit_amount_cents=4000)
    small = inv.fees.get(amount_cents=500)
    with pytest.raises(ValidationError) as err:  # 1 cent of tolerance does not lift the invoice limit
        note(inv, 500, credit_amount_cents=501, fee=small)
    assert code_of(err) == "total_amount_exceeds_invoice_amount"
    assert CreditNote.objects.filter(invoice=inv).count() == 2


def test_only_finalized_invoices_with_a_known_reason_and_positive_amount():
    draft = f.invoice(fees=[(1, 1000)])
    with pytest.raises(ValidationError) as err:
        note(draft, 100, credit_amount_cents=100)
    assert code_of(err) == "invalid_invoice_status"
    inv = c.finalized()
    with pytest.raises(ValidationError) as err:
        note(inv, 100, credit_amount_cents=100, reason="because")
    assert code_of(err) == "value_is_invalid"
    with pytest.raises(ValidationError) as err:
        note(inv, 100)
    assert code_of(err) == "invalid_amount"
    assert not CreditNote.objects.exists()


def test_refund_is_recorded_pending_and_limited_to_what_was_paid():
    inv = c.finalized(fees=[(1, 10000)])
    with pytest.raises(ValidationError) as err:
        note(inv, 1000, refund_amount_cents=1000)
    assert code_of(err) == "higher_than_remaining_invoice_amount"
    inv.payment_status = "succeeded"
    inv.total_paid_amount_cents = 10000
    inv.save(update_fields=["payment_status", "total_paid_amount_cents"])
    cn = note(inv, 1000, refund_amount_cents=1000)
    assert (cn.refund_status, cn.refund_amount_cents, cn.credit_status) == ("pending", 1000, None)


def test_offset_reduces_what_is_due_not_the_total():
    inv = c.finalized(fees=[(1, 10000)])
    note(inv, 3000, offset_amount_cents=3000)
    inv.refresh_from_db()
    assert (inv.total_amount_cents, inv.credit_notes_offset_amount_cents, inv.total_due_amount_cents) == (10000, 3000, 7000)
    inv.total_paid_amount_cents = 5000
    inv.save(update_fields=["total_paid_amount_cents"])
    with pytest.raises(ValidationError) as err:  # 2000 is due
        note(inv, 2001, offset_amount_cents=2001)
    assert code_of(err) == "higher_than_remaining_invoice_amount"


def test_credit_balance_is_consumed_by_later_subscription_invoices_after_taxes():
    vat = f.tax(rate="20")
    cust = f.customer()
    inv = c.finalized(cust, fees=[(1, 10000)], taxes=[vat])
    cn = note(inv, 2500, credit_amount_cents=3000)

    one_off = c.finalized(cust, fees=[(1, 1000)], invoice_type="one_off")
    assert one_off.credit_notes_amount_cents == 0
    later = c.finalized(cust, fees=[(1, 1000)], taxes=[vat])
    assert (later.sub_total_including_taxes_amount_cents, later.credit_notes_amount_cents, later.total_amount_cents) == (1200, 1200, 0)
    cn.refresh_from_db()
    assert (cn.balance_amount_cents, cn.credit_status) == (1800, "available")

    last = c.finalized(cust, fees=[(1, 5000)], taxes=[vat])
    assert (last.credit_notes_amount_cents, last.total_amount_cents) == (1800, 4200)
    cn.refresh_from_db()
    assert (cn.balance_amount_cents, cn.credit_status) == (0, "consumed")
    assert list(Credit.objects.filter(credit_note=cn).order_by("created_at").values_list("amount_cents", "before_taxes")) == [
        (1200, False), (1800, False)
    ]


def test_credit_notes_in_another_currency_are_not_used():
    cust = f.customer(currency="EUR")
    inv = c.finalized(cust, fees=[(1, 1000)], currency="USD")
    note(inv, 1000, credit_amount_cents=1000)
    draft = f.invoice(cust, fees=[(1, 1000)])
    assert finalize_invoice(draft.pk, c.SYSTEM).invoice.credit_notes_amount_cents == 0


def test_voiding_a_credit_note_gives_up_its_balance_but_not_what_was_credited():
    from credit_notes.services import void_credit_note

    cust = f.customer()
    inv = c.finalized(cust, fees=[(1, 1000)])
    cn = note(inv, 1000, credit_amount_cents=1000)
    assert c.finalized(cust, fees=[(1, 300)]).credit_notes_amount_cents == 300
    void_credit_note(cn.pk, c.SYSTEM)
    cn.refresh_from_db()
    assert (cn.credit_status, cn.balance_amount_cents) == ("voided", 0)
    assert c.finalized(cust, fees=[(1, 300)]).credit_notes_amount_cents == 0
    with pytest.raises(ValidationError) as err:
        note(inv, 1, credit_amount_cents=1)
    assert code_of(err) == "higher_than_remaining_fee_amount"
    with pytest.raises(ValidationError) as err:
        void_credit_note(cn.pk, c.SYSTEM)
    assert code_of(err) == "no_voidable_amount"
    assert AuditLogEntry.objects.filter(action="credit_note.voided", object_id=str(cn.pk)).count() == 1


def test_lago_client_reads_the_credit_note_and_applied_coupon_shapes():
    from lago_python_client.models.applied_coupon import AppliedCouponResponse
    from lago_python_client.models.credit_note import CreditNoteResponse

    from coupons.serializers import serialize_applied_coupon
    from credit_notes.serializers import serialize_credit_note

    vat = f.tax(rate="20")
    cust = f.customer()
    applied = c.give(cust, c.coupon(amount_cents=1000))
    inv = c.finalized(cust, fees=[(1, 10000)], taxes=[vat])
    cn = note(inv, 5000, credit_amount_cents=5000, refund_amount_cents=0, offset_amount_cents=400)

    data = serialize_credit_note(cn)
    parsed = CreditNoteResponse.parse_obj(data)
    assert (parsed.number, parsed.total_amount_cents, parsed.coupons_adjustment_amount_cents) == (cn.number, 5400, 500)
    [tax] = data["applied_taxes"]
    assert (tax["base_amount_cents"], tax["amount_cents"]) == (4500, 900)
    assert data["items"][0]["fee"]["lago_id"] == str(inv.fees.get().pk)

    coupon_data = serialize_applied_coupon(applied)
    assert AppliedCouponResponse.parse_obj(coupon_data).amount_cents_remaining == 0
    assert coupon_data["credits"][0]["amount_cents"] == 1000
