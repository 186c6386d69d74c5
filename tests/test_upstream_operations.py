"""Upstream mode: refresh, void, one-off invoices and credit notes through Lago, by the admin and by /api/v1;
fee edits refused. Against a real upstream (this project standalone in a subprocess) behind the failure proxy."""
import threading
import uuid

import pytest
from django.db import connection

from audit.actors import Actor
from audit.models import AuditLogEntry
from credit_notes.models import CreditNote
from invoices.models import Fee, Invoice, InvoiceLocked
from invoices.transitions import fee_edits
from invoices.transitions.voiding import void_invoice
from upstream import sync
from upstream.models import InvoiceMirror

from .test_one_off_admin import lines
from .upstream_support import lago_mode, proxy, upstream  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def finalized(lago_mode, upstream):
    """A finalized invoice seeded in Lago (10,000 + 20 % VAT), mirrored: its Lago id."""
    def make():
        prefix = f"f{tag()}"
        upstream.seed(1, prefix=prefix)
        pk = upstream.get(f"invoices?search_term={prefix.upper()}-000000")["invoices"][0]["lago_id"]
        assert sync.sync_invoice(pk, trigger="test").ok
        return pk
    return make


@pytest.fixture
def subscription_draft(lago_mode, upstream):
    """A January subscription draft in Lago (plan with a 2.00-per-event charge, grace 3 days), mirrored.

    Returns (its Lago id, a function sending one January event to Lago)."""
    def make():
        t = tag()
        metric = upstream.request("POST", "billable_metrics", {"billable_metric": {
            "name": "Calls", "code": f"calls{t}", "aggregation_type": "count_agg"}}).json()["billable_metric"]
        assert upstream.request("POST", "plans", {"plan": {
            "name": "Startup", "code": f"plan{t}", "interval": "monthly", "amount_cents": 0, "amount_currency": "USD",
            "pay_in_advance": False, "charges": [{"billable_metric_id": metric["lago_id"], "charge_model": "standard",
                                                  "properties": {"amount": "2"}}]}}).status_code == 200
        assert upstream.request("POST", "customers", {"customer": {
            "external_id": f"cust{t}", "name": "Hooli", "currency": "USD",
            "billing_configuration": {"invoice_grace_period": 3}}}).status_code == 200
        assert upstream.request("POST", "subscriptions", {"subscription": {
            "external_customer_id": f"cust{t}", "plan_code": f"plan{t}", "external_id": f"sub{t}", "billing_time": "calendar",
            "subscription_at": "2023-01-01T00:00:00Z"}}).status_code == 200
        upstream.manage("shell", "-c", "from datetime import datetime, timezone; from billing_run.billing import run_billing; "
                                       "run_billing(datetime(2023, 2, 1, 0, 5, tzinfo=timezone.utc))")
        (draft,) = [i for i in upstream.get(f"invoices?external_customer_id=cust{t}")["invoices"] if i["status"] == "draft"]
        assert sync.sync_invoice(draft["lago_id"], trigger="test").ok

        def send_event():
            assert upstream.request("POST", "events", {"event": {
                "transaction_id": f"tx{tag()}", "external_subscription_id": f"sub{t}", "code": f"calls{t}",
                "timestamp": 1673457300}}).status_code == 200
        return draft["lago_id"], send_event
    return make


def lago_invoice(upstream, pk) -> dict:
    return upstream.get(f"invoices/{pk}")["invoice"]


def mirror_state(pk) -> tuple:
    invoice = Invoice.objects.get(pk=pk)
    return invoice.status, invoice.fees_amount_cents, invoice.total_amount_cents, invoice.number


def refused(action, pk) -> AuditLogEntry:
    return AuditLogEntry.objects.get(action=action, object_id=pk)


def test_finalize_through_api_v1_answers_502_as_the_runbook_endpoint(lago_mode, upstream, api):
    pk = upstream.seed(1, drafts=1, prefix=f"a{tag()}")[0]
    assert sync.sync_invoice(pk, trigger="test").ok
    lago_mode.mode = "500"
    response = api.put(f"invoices/{pk}/finalize")
    lago_mode.mode = "pass"
    assert response.status_code == 502
    assert response.json() == {"error": "Failed to finalize invoice: Internal Server Error (HTTP 500)"}
    assert mirror_state(pk)[0] == "draft" and lago_invoice(upstream, pk)["status"] == "draft"
    assert refused("invoice.finalize_refused", pk).api_key_name == "integration"


# --- refresh ------------------------------------------------------------------------------------


def test_refresh_through_the_api_refreshes_in_lago_and_mirrors_its_answer(subscription_draft, upstream, api):
    pk, send_event = subscription_draft()
    assert Invoice.objects.get(pk=pk).fees_amount_cents == 0
    send_event()  # a late January event: Lago's refresh bills it
    response = api.put(f"invoices/{pk}/refresh")
    assert response.status_code == 200, response.content
    assert response.json()["invoice"]["fees_amount_cents"] == 200 and response.json()["invoice"]["lago_id"] == pk
    assert lago_invoice(upstream, pk)["fees_amount_cents"] == 200
    assert mirror_state(pk)[:2] == ("draft", 200)
    assert Fee.objects.filter(invoice_id=pk, kind="charge").get().amount_cents == 200
    assert InvoiceMirror.objects.get(pk=pk).readiness == "as last synced"  # the console's own refresh is no upstream change
    entry = AuditLogEntry.objects.get(action="invoice.refreshed", object_id=pk)
    assert entry.api_key_name == "integration" and entry.before["fees_amount_cents"] == 0 and entry.after["fees_amount_cents"] == 200


def test_the_refresh_button_refreshes_in_lago(subscription_draft, upstream, operator_client, operator):
    pk, send_event = subscription_draft()
    page = operator_client.get(f"/admin/invoices/invoice/{pk}/change/").content.decode()
    assert f"/admin/invoices/invoice/{pk}/refresh/" in page  # offered on a mirrored draft
    send_event()
    response = operator_client.post(f"/admin/invoices/invoice/{pk}/refresh/", follow=True)
    assert "was refreshed" in response.content.decode()
    assert lago_invoice(upstream, pk)["fees_amount_cents"] == 200 and mirror_state(pk)[:2] == ("draft", 200)
    assert AuditLogEntry.objects.get(action="invoice.refreshed", object_id=pk).user == operator


def test_a_refresh_lago_refuses_is_a_502_and_the_mirror_is_unchanged(lago_mode, upstream, api):
    pk = upstream.seed(1, drafts=1, prefix=f"r{tag()}")[0]  # an add-on draft: Lago refreshes subscription invoices only
    assert sync.sync_invoice(pk, trigger="test").ok
    before = mirror_state(pk)
    response = api.put(f"invoices/{pk}/refresh")
    assert response.status_code == 502
    assert response.json() == {"error": "Failed to refresh invoice: Forbidden: feature_unavailable (HTTP 403)"}
    assert mirror_state(pk) == before
    assert refused("invoice.refresh_refused", pk).api_key_name == "integration"


def test_a_refresh_answered_500_is_a_502_and_the_admin_shows_it(subscription_draft, upstream, api, operator_client, operator, lago_mode):
    pk, send_event = subscription_draft()
    send_event()
    before = mirror_state(pk)
    lago_mode.mode = "500"
    response = api.put(f"invoices/{pk}/refresh")
    page = operator_client.post(f"/admin/invoices/invoice/{pk}/refresh/", follow=True).content.decode()
    lago_mode.mode = "pass"
    assert response.status_code == 502
    assert response.json() == {"error": "Failed to refresh invoice: Internal Server Error (HTTP 500)"}
    assert "Failed to refresh invoice: Internal Server Error (HTTP 500)" in page
    assert mirror_state(pk) == before and lago_invoice(upstream, pk)["fees_amount_cents"] == 0  # nothing reached Lago
    entries = AuditLogEntry.objects.filter(action="invoice.refresh_refused", object_id=pk)
    assert {(e.api_key_name, e.user_id) for e in entries} == {("integration", None), ("", operator.pk)}


# --- void ---------------------------------------------------------------------------------------


def test_void_through_the_api_voids_in_lago(finalized, upstream, api):
    pk = finalized()
    response = api.post(f"invoices/{pk}/void")
    assert response.status_code == 200, response.content
    assert response.json()["invoice"]["status"] == "voided"
    assert lago_invoice(upstream, pk)["status"] == "voided" and mirror_state(pk)[0] == "voided"
    entry = AuditLogEntry.objects.get(action="invoice.voided", object_id=pk)
    assert entry.api_key_name == "integration" and (entry.before["status"], entry.after["status"]) == ("finalized", "voided")


def test_void_with_a_credit_note_mirrors_the_note_lago_issued(finalized, upstream, api):
    pk = finalized()
    response = api.post(f"invoices/{pk}/void", {"generate_credit_note": True, "credit_amount": 1200, "refund_amount": 0})
    assert response.status_code == 200, response.content
    (lago_note,) = [n for n in upstream.get("credit_notes?per_page=100")["credit_notes"] if n["lago_invoice_id"] == pk]
    note = CreditNote.objects.get(pk=lago_note["lago_id"])
    assert (note.number, note.credit_amount_cents, str(note.invoice_id)) == (lago_note["number"], 1200, pk)
    assert AuditLogEntry.objects.get(action="invoice.voided", object_id=pk).after["credit_notes"] == [lago_note["number"]]


def test_the_void_form_voids_in_lago(finalized, upstream, operator_client, operator):
    pk = finalized()
    response = operator_client.post(f"/admin/invoices/invoice/{pk}/void/", {"credit_amount": "", "refund_amount": ""}, follow=True)
    assert "was voided" in response.content.decode()
    assert lago_invoice(upstream, pk)["status"] == "voided" and mirror_state(pk)[0] == "voided"
    assert AuditLogEntry.objects.get(action="invoice.voided", object_id=pk).user == operator


def test_a_void_with_lago_stopped_is_a_502_and_the_mirror_stays_finalized(finalized, upstream, api, operator_client, operator, settings):
    pk = finalized()
    before = mirror_state(pk)
    settings.LAGO_API_URL = "http://127.0.0.1:9"  # nothing listens: Lago is down
    response = api.post(f"invoices/{pk}/void")
    page = operator_client.post(f"/admin/invoices/invoice/{pk}/void/", {"credit_amount": "", "refund_amount": ""}).content.decode()
    assert response.status_code == 502
    api_entry, admin_entry = AuditLogEntry.objects.filter(action="invoice.void_refused", object_id=pk).order_by("created_at")
    detail = api_entry.after["upstream_error"]
    assert api_entry.api_key_name == "integration" and admin_entry.user == operator
    assert detail.startswith("Lago could not be reached (ConnectError")
    assert response.json() == {"error": f"Failed to void invoice: {detail}"}
    assert "Failed to void invoice: Lago could not be reached" in page
    assert mirror_state(pk) == before and lago_invoice(upstream, pk)["status"] == "finalized"


@pytest.mark.postgres_only
def test_two_operators_voiding_one_invoice_call_lago_once(finalized, lago_mode, operator):
    pk = finalized()
    lago_mode.mode = "delay:0.5"  # the first void is in flight while the second operator clicks
    results, barrier = [], threading.Barrier(2)

    def click():
        barrier.wait()
        try:
            results.append(void_invoice(pk, Actor.operator(operator)).status)
        except InvoiceLocked as refused:
            results.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["not_voidable", "voided"] and lago_mode.calls[("POST", "void")] == 1


# --- one-off invoices ---------------------------------------------------------------------------


@pytest.fixture
def add_on(lago_mode, upstream):
    """An add-on and a customer in Lago, mirrored by a full sync: (add-on code, customer external id)."""
    prefix = f"o{tag()}"
    upstream.seed(1, prefix=prefix)
    code = f"setup{prefix}"
    assert upstream.request("POST", "add_ons", {"add_on": {"name": "Setup fee", "code": code, "amount_cents": 1500,
                                                           "amount_currency": "USD"}}).status_code == 200
    run = sync.run_full_sync()
    assert run.ok, run.errors
    return code, f"{prefix}-cust-0"


def test_a_one_off_invoice_through_the_api_is_created_in_lago_and_mirrored_under_its_id(add_on, upstream, api):
    code, customer = add_on
    response = api.post("invoices", {"invoice": {"external_customer_id": customer, "currency": "USD",
                                                 "fees": [{"add_on_code": code, "units": 2, "unit_amount_cents": 1500}]}})
    assert response.status_code == 200, response.content
    pk = response.json()["invoice"]["lago_id"]
    lago = lago_invoice(upstream, pk)
    assert (lago["status"], lago["fees_amount_cents"]) == ("finalized", 3000)
    assert InvoiceMirror.objects.filter(pk=pk).exists()
    assert mirror_state(pk) == ("finalized", 3000, lago["total_amount_cents"], lago["number"])
    entry = AuditLogEntry.objects.get(action="invoice.one_off_created", object_id=pk)
    assert entry.api_key_name == "integration" and entry.after["lines"][0]["add_on_code"] == code


def test_the_one_off_form_creates_the_invoice_in_lago(add_on, upstream, operator_client, operator):
    from customers.models import Customer
    from addons.models import AddOn

    code, external_id = add_on
    customer = Customer.objects.get(external_id=external_id)
    url = f"/admin/customers/customer/{customer.pk}/one-off-invoice/"
    data = lines({"add_on": AddOn.objects.get(code=code).pk, "units": "1", "unit_price": "", "description": ""})
    preview = operator_client.post(url, {**data, "_preview": "Preview"})
    assert preview.status_code == 200 and not Invoice.objects.filter(customer=customer, invoice_type="one_off").exists()
    assert [fee["amount"] for fee in preview.context["preview"]["fees"]] == ["15.00 USD"]  # its line only, not every fee stored
    response = operator_client.post(url, {**data, "previewed": preview.context["digest"], "_create": "Create"})
    assert response.status_code == 302, response.content.decode()[:2000]
    invoice = Invoice.objects.get(customer=customer, invoice_type="one_off")
    assert response["Location"] == f"/admin/invoices/invoice/{invoice.pk}/change/"  # Lago's id is the page's id
    lago = lago_invoice(upstream, invoice.pk)
    assert (lago["status"], lago["fees_amount_cents"], lago["number"]) == ("finalized", 1500, invoice.number)
    assert AuditLogEntry.objects.get(action="invoice.one_off_created", object_id=invoice.pk).user == operator


def test_a_one_off_invoice_answered_500_is_a_502_and_nothing_is_mirrored(add_on, upstream, api, lago_mode):
    code, customer = add_on
    count, lago_count = Invoice.objects.count(), upstream.get("invoices?per_page=1")["meta"]["total_count"]
    lago_mode.mode = "500"
    response = api.post("invoices", {"invoice": {"external_customer_id": customer, "fees": [{"add_on_code": code}]}})
    lago_mode.mode = "pass"
    assert response.status_code == 502
    assert response.json() == {"error": "Failed to create invoice: Internal Server Error (HTTP 500)"}
    assert Invoice.objects.count() == count and upstream.get("invoices?per_page=1")["meta"]["total_count"] == lago_count
    entry = AuditLogEntry.objects.get(action="invoice.one_off_refused")
    assert entry.api_key_name == "integration" and entry.customer_external_id == customer


# --- credit notes -------------------------------------------------------------------------------


def test_a_credit_note_through_the_api_is_issued_by_lago_and_mirrored(finalized, upstream, api):
    pk = finalized()
    fee = Fee.objects.get(invoice_id=pk)  # its pk is Lago's fee id
    response = api.post("credit_notes", {"credit_note": {"invoice_id": pk, "reason": "other", "credit_amount_cents": 1200,
                                                         "items": [{"fee_id": str(fee.pk), "amount_cents": 1000}]}})
    assert response.status_code == 200, response.content
    note_id = response.json()["credit_note"]["lago_id"]
    lago = upstream.get(f"credit_notes/{note_id}")["credit_note"]
    note = CreditNote.objects.get(pk=note_id)
    assert (note.number, note.total_amount_cents, note.balance_amount_cents, str(note.invoice_id)) == (lago["number"], 1200, 1200, pk)
    assert [(str(i.fee_id), i.amount_cents) for i in note.items.all()] == [(str(fee.pk), 1000)]
    entry = AuditLogEntry.objects.get(action="credit_note.created", object_id=note_id)
    assert entry.api_key_name == "integration" and entry.after["number"] == lago["number"]
    assert sync.sync_invoice(pk, trigger="test").ok  # the invoice is mirrored again later: the note's items keep their fee


def test_the_credit_note_form_issues_it_in_lago(finalized, upstream, operator_client, operator):
    pk = finalized()
    fee = Fee.objects.get(invoice_id=pk)
    response = operator_client.post(f"/admin/invoices/invoice/{pk}/credit-note/", {
        "reason": "other", "description": "", f"fee_{fee.pk}": "10.00", "credit_amount": "12.00", "refund_amount": "",
        "offset_amount": ""}, follow=True)
    assert "was issued" in response.content.decode()
    note = CreditNote.objects.get(invoice_id=pk)
    assert upstream.get(f"credit_notes/{note.pk}")["credit_note"]["number"] == note.number
    assert AuditLogEntry.objects.get(action="credit_note.created", object_id=note.pk).user == operator


def test_a_credit_note_answered_500_is_a_502_and_the_admin_shows_it(finalized, upstream, api, operator_client, operator, lago_mode):
    pk = finalized()
    fee = Fee.objects.get(invoice_id=pk)
    lago_mode.mode = "500"
    response = api.post("credit_notes", {"credit_note": {"invoice_id": pk, "reason": "other", "credit_amount_cents": 1200,
                                                         "items": [{"fee_id": str(fee.pk), "amount_cents": 1000}]}})
    page = operator_client.post(f"/admin/invoices/invoice/{pk}/credit-note/", {
        "reason": "other", f"fee_{fee.pk}": "10.00", "credit_amount": "12.00"}).content.decode()
    lago_mode.mode = "pass"
    assert response.status_code == 502
    assert response.json() == {"error": "Failed to create credit note: Internal Server Error (HTTP 500)"}
    assert "Failed to create credit note: Internal Server Error (HTTP 500)" in page
    assert not CreditNote.objects.filter(invoice_id=pk).exists()
    assert not [n for n in upstream.get("credit_notes?per_page=100")["credit_notes"] if n["lago_invoice_id"] == pk]
    entries = AuditLogEntry.objects.filter(action="credit_note.refused", invoice_id=pk)
    assert {(e.api_key_name, e.user_id) for e in entries} == {("integration", None), ("", operator.pk)}


# --- fee edits ----------------------------------------------------------------------------------


def test_a_fee_edit_of_a_mirror_is_refused_with_a_link_to_lago(lago_mode, upstream, operator_client, operator):
    pk = upstream.seed(1, drafts=1, prefix=f"e{tag()}")[0]
    assert sync.sync_invoice(pk, trigger="test").ok
    fee = Fee.objects.get(invoice_id=pk)
    page = operator_client.get(f"/admin/invoices/invoice/{pk}/change/").content.decode()
    assert 'class="help upstream-fee-notice"' in page and "Lago offers no REST call for adjusted fees" in page
    assert f"/invoice/{pk}/overview" in page and 'name="fees-0-units"' not in page
    assert "/add-charge-fee/" not in page
    with pytest.raises(InvoiceLocked, match="Lago offers no REST call for adjusted fees"):
        fee_edits.update_fee(fee.pk, Actor.operator(operator), adjustment="total_amount", amount_cents=1)
    with pytest.raises(InvoiceLocked, match=f"/invoice/{pk}/overview"):
        fee_edits.remove_fee(fee.pk, Actor.operator(operator))
    fee.refresh_from_db()
    assert fee.amount_cents == lago_invoice(upstream, pk)["fees_amount_cents"] and Fee.objects.filter(invoice_id=pk).count() == 1


# --- credit note void, regenerate --------------------------------------------------------------


def issued_note(pk, api) -> str:
    fee = Fee.objects.get(invoice_id=pk)
    response = api.post("credit_notes", {"credit_note": {"invoice_id": pk, "reason": "other", "credit_amount_cents": 1200,
                                                         "items": [{"fee_id": str(fee.pk), "amount_cents": 1000}]}})
    assert response.status_code == 200, response.content
    return response.json()["credit_note"]["lago_id"]


def test_a_credit_note_void_through_the_api_voids_it_in_lago(finalized, upstream, api):
    note_id = issued_note(finalized(), api)

    response = api.put(f"credit_notes/{note_id}/void")

    assert response.status_code == 200, response.content
    lago = upstream.get(f"credit_notes/{note_id}")["credit_note"]
    assert (lago["credit_status"], lago["balance_amount_cents"]) == ("voided", 0)
    note = CreditNote.objects.get(pk=note_id)
    assert (note.credit_status, note.balance_amount_cents) == ("voided", 0)
    assert response.json()["credit_note"]["credit_status"] == "voided"
    entry = AuditLogEntry.objects.get(action="credit_note.voided", object_id=note_id)
    assert entry.after["upstream"] is True and entry.before["balance_amount_cents"] == 1200


def test_a_credit_note_void_answered_500_is_a_502_and_the_note_keeps_its_balance(finalized, upstream, api, lago_mode):
    note_id = issued_note(finalized(), api)
    lago_mode.mode = "500"
    response = api.put(f"credit_notes/{note_id}/void")
    lago_mode.mode = "pass"

    assert response.status_code == 502
    assert response.json() == {"error": "Failed to void credit note: Internal Server Error (HTTP 500)"}
    note = CreditNote.objects.get(pk=note_id)
    assert (note.credit_status, note.balance_amount_cents) == ("available", 1200)
    assert upstream.get(f"credit_notes/{note_id}")["credit_note"]["credit_status"] == "available"
    assert refused("credit_note.void_refused", note_id).api_key_name == "integration"


def test_regenerating_a_voided_mirror_is_refused_with_a_link_to_lago(finalized, upstream, api, operator_client):
    pk = finalized()
    assert api.post(f"invoices/{pk}/void").status_code == 200
    drafts_before = Invoice.objects.filter(status="draft").count()

    page = operator_client.post(f"/admin/invoices/invoice/{pk}/regenerate/").content.decode()

    assert "Lago&#x27;s REST API offers no call to regenerate a voided invoice" in page
    assert f"/invoice/{pk}/overview" in page  # where Lago's front end shows the invoice
    assert Invoice.objects.filter(status="draft").count() == drafts_before
    assert not Invoice.objects.filter(voided_invoice_id=pk).exists()
