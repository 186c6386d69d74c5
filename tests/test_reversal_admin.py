"""The admin side: void with a confirmation page (one invoice or a selection), regenerate, issue a credit note,
the invoice panel, and coupons / wallets managed through their services."""
import pytest
from django.urls import reverse

from audit.models import AuditLogEntry
from coupons.models import AppliedCoupon
from credit_notes.models import CreditNote
from invoices.models import Invoice
from wallets.models import Wallet

from . import credit_factories as c
from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, django_user_model):
    user = django_user_model.objects.create_superuser("olga", "olga@example.com", "pw")
    client.force_login(user)
    return user


def test_void_page_confirms_then_voids_with_a_credit_note(client, operator):
    inv = c.finalized(fees=[(1, 10000)])
    url = reverse("admin:invoices_invoice_void", args=[inv.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert f"Yes, void {inv.number}" in page.content.decode()
    assert Invoice.objects.get(pk=inv.pk).status == "finalized"  # GET changes nothing

    bad = client.post(url, {"generate_credit_note": "on", "credit_amount": "100.01"})
    assert bad.status_code == 200 and "exceeds what can be credited" in bad.content.decode()
    assert Invoice.objects.get(pk=inv.pk).status == "finalized"

    done = client.post(url, {"generate_credit_note": "on", "credit_amount": "40.00"})
    assert done.status_code == 302
    inv.refresh_from_db()
    assert inv.status == "voided"
    assert CreditNote.objects.get(invoice=inv).credit_amount_cents == 4000
    entry = AuditLogEntry.objects.get(action="invoice.voided", invoice=inv)
    assert (entry.source, entry.user_id) == ("admin", operator.pk)


def test_void_selected_action_asks_first_and_reports_refusals(client, operator):
    finalized = c.finalized()
    draft = f.invoice(fees=[(1, 100)])
    changelist = reverse("admin:invoices_invoice_changelist")
    data = {"action": "void_selected_invoices", "_selected_action": [finalized.pk, draft.pk]}

    confirm = client.post(changelist, data)
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Yes, void them" in body and "Not voidable" in body
    assert Invoice.objects.get(pk=finalized.pk).status == "finalized"

    result = client.post(changelist, {**data, "post": "yes"}, follow=True)
    assert Invoice.objects.get(pk=finalized.pk).status == "voided"
    assert Invoice.objects.get(pk=draft.pk).status == "draft"
    text = " ".join(str(m) for m in result.context["messages"])
    assert f"Voided 1 invoice(s): {finalized.number}" in text and "only finalized invoices can be voided" in text


def test_regenerate_page_creates_the_draft_and_opens_it(client, operator):
    inv = c.finalized(fees=[(1, 700)])
    voided = client.post(reverse("admin:invoices_invoice_void", args=[inv.pk]), {})
    assert voided.status_code == 302, voided.content.decode()[-3000:]
    response = client.post(reverse("admin:invoices_invoice_regenerate", args=[inv.pk]))
    new = Invoice.objects.get(voided_invoice=inv)
    assert response.status_code == 302 and response.url == reverse("admin:invoices_invoice_change", args=[new.pk])
    assert new.status == "draft" and new.fees_amount_cents == 700


def test_credit_note_page(client, operator):
    vat = f.tax(rate="20")
    inv = c.finalized(fees=[(1, 10000)], taxes=[vat])
    fee = inv.fees.get()
    url = reverse("admin:invoices_invoice_credit_note", args=[inv.pk])
    assert "120.00 USD" in client.get(url).content.decode()  # left to credit

    mismatch = client.post(url, {"reason": "order_change", f"fee_{fee.pk}": "10.00", "credit_amount": "10.00"})
    assert "must equal the items" in mismatch.content.decode()
    ok = client.post(url, {"reason": "order_change", f"fee_{fee.pk}": "10.00", "credit_amount": "8.00", "offset_amount": "4.00"})
    assert ok.status_code == 302
    note = CreditNote.objects.get(invoice=inv)
    assert (note.number, note.total_amount_cents, note.credit_amount_cents, note.offset_amount_cents) == (f"{inv.number}-CN001", 1200, 800, 400)


def test_panel_shows_pending_credits_on_drafts_and_applied_ones_after(client, operator):
    cust = f.customer()
    c.give(cust, c.coupon(amount_cents=500, name="Spring promo"))
    c.wallet(cust, granted_cents=200)
    draft = f.invoice(cust, fees=[(1, 1000)])
    page = client.get(reverse("admin:invoices_invoice_change", args=[draft.pk])).content.decode()
    assert "Applied at finalization" in page and "Spring promo" in page and "balance 2.00 USD" in page

    done = c.finalized(cust, fees=[(1, 1000)])
    page = client.get(reverse("admin:invoices_invoice_change", args=[done.pk])).content.decode()
    assert "Spring promo" in page and "−5.00 USD" in page and "2.00 USD" in page


def test_applying_a_coupon_in_the_admin_goes_through_the_service(client, operator):
    cust = f.customer()
    cpn = c.coupon(amount_cents=500, reusable=False)
    url = reverse("admin:coupons_appliedcoupon_add")
    assert client.post(url, {"customer": cust.pk, "coupon": cpn.pk}).status_code == 302
    applied = AppliedCoupon.objects.get()
    assert (applied.amount_cents, applied.status) == (500, "active")
    assert AuditLogEntry.objects.filter(action="applied_coupon.created", user=operator).count() == 1
    again = client.post(url, {"customer": cust.pk, "coupon": cpn.pk})
    assert again.status_code == 200 and "not reusable" in again.content.decode()
    assert AppliedCoupon.objects.count() == 1


def test_wallet_creation_and_top_up_action(client, operator):
    cust = f.customer()
    assert client.post(reverse("admin:wallets_wallet_add"), {"customer": cust.pk, "name": "Main", "currency": "USD", "granted_credits": "5.00"}).status_code == 302
    wallet = Wallet.objects.get(customer=cust)
    assert wallet.balance_cents == 500
    changelist = reverse("admin:wallets_wallet_changelist")
    data = {"action": "top_up_wallets", "_selected_action": [wallet.pk]}
    assert "Top up" in client.post(changelist, data).content.decode()
    client.post(changelist, {**data, "post": "yes", "granted_credits": "2.50", "paid_credits": "10"})
    wallet.refresh_from_db()
    assert wallet.balance_cents == 750
    assert Invoice.objects.get(customer=cust, invoice_type="credit").total_amount_cents == 1000
