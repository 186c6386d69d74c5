"""The audit log in the admin: append-only for everyone (superusers included), readable, filterable,
exportable as CSV with the list's filters, in a constant number of queries."""
import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions import fee_edits
from invoices.transitions.finalization import finalize_invoice

from . import factories as f

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:audit_auditlogentry_changelist")
EXPORT_URL = reverse("admin:audit_auditlogentry_export")


@pytest.fixture
def history(operator):
    """A fee edit by the operator, then the worker's finalization, and an API key's finalization."""
    first = f.invoice(fees=[(1, 1000)])
    fee_edits.update_fee(first.fees.get().pk, Actor.operator(operator), adjustment="total_units", units="3")
    finalize_invoice(first.pk, Actor.system())
    second = f.invoice(fees=[(1, 500)])
    finalize_invoice(second.pk, Actor.api_key("billing-sync"))
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_nobody_can_add_change_or_delete_entries_not_even_a_superuser(admin_client, history):
    entry = AuditLogEntry.objects.get(action="fee.updated")
    change_url = reverse("admin:audit_auditlogentry_change", args=[entry.pk])
    assert admin_client.get(reverse("admin:audit_auditlogentry_add")).status_code == 403
    assert admin_client.post(change_url, {"action": "forged"}).status_code == 403
    assert admin_client.post(reverse("admin:audit_auditlogentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    listing = admin_client.get(LIST_URL)
    assert listing.context["action_form"] is None  # no bulk delete either
    entry.refresh_from_db()
    assert entry.action == "fee.updated" and AuditLogEntry.objects.count() == 3


def test_entry_page_is_a_read_only_view_with_pretty_json(admin_client, history):
    entry = AuditLogEntry.objects.get(action="fee.updated")
    page = admin_client.get(reverse("admin:audit_auditlogentry_change", args=[entry.pk]))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    content = page.content.decode()
    assert "&quot;amount_cents&quot;: 3000" in content  # indented JSON, one key per line
    assert "<pre" in content and 'name="_save"' not in content
    assert reverse("admin:invoices_invoice_change", args=[entry.invoice_id]) in content


def test_list_shows_actor_action_linked_invoice_and_source(auditor_client, history):
    first, _ = history
    response = auditor_client.get(LIST_URL)
    assert response.status_code == 200
    content = response.content.decode()
    for text in ("olivia-operator", "system", "api key: billing-sync", "fee.updated", "invoice.finalized", first.number):
        assert text in content
    assert reverse("admin:invoices_invoice_change", args=[first.pk]) in content


@pytest.mark.parametrize("params, expected", [
    ({"action": "invoice.finalized"}, {"invoice.finalized"}),
    ({"source__exact": "admin"}, {"fee.updated"}),
    ({"actor_label": "system"}, {"invoice.finalized"}),
])
def test_filters(auditor_client, history, params, expected):
    response = auditor_client.get(LIST_URL, params)
    assert {entry.action for entry in response.context["cl"].result_list} == expected


def test_search_by_invoice_number(auditor_client, history):
    _, second = history
    response = auditor_client.get(LIST_URL, {"q": second.number})
    assert [(e.action, e.actor_label) for e in response.context["cl"].result_list] == [("invoice.finalized", "api key: billing-sync")]


def test_csv_export_honours_the_list_filters(auditor_client, history):
    first, second = history
    listing = auditor_client.get(LIST_URL, {"action": "invoice.finalized"}).content.decode()
    assert f'{EXPORT_URL}?action=invoice.finalized' in listing  # the button carries the current filters

    response = auditor_client.get(EXPORT_URL, {"action": "invoice.finalized"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [(row["action"], row["actor"], row["source"], row["invoice_number"]) for row in rows] == [
        ("invoice.finalized", "system", "task", first.number),
        ("invoice.finalized", "api key: billing-sync", "api", second.number),
    ]
    assert '"status": "finalized"' in rows[0]["after"]


def test_csv_export_of_a_search(auditor_client, history):
    first, _ = history
    rows = csv_rows(auditor_client.get(EXPORT_URL, {"q": first.number}))
    assert [row["action"] for row in rows] == ["fee.updated", "invoice.finalized"]
    assert rows[0]["actor"] == "olivia-operator"


def test_export_needs_the_export_permission(operator_client, history):
    assert "Export CSV" not in operator_client.get(LIST_URL).content.decode()
    assert operator_client.get(EXPORT_URL).status_code == 403


def test_list_runs_a_constant_number_of_queries(auditor_client, django_assert_max_num_queries):
    def entries(n):
        for _ in range(n):
            invoice = f.invoice(fees=[(1, 100)])
            finalize_invoice(invoice.pk, Actor.system())

    entries(5)
    with CaptureQueriesContext(connection) as five:
        auditor_client.get(LIST_URL)
    entries(25)
    with django_assert_max_num_queries(len(five)):
        response = auditor_client.get(LIST_URL)
    assert len(response.context["cl"].result_list) == 30


def test_the_model_refuses_changes_too(history):
    entry = AuditLogEntry.objects.first()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        AuditLogEntry.objects.all().delete()


def test_list_links_the_invoice_under_its_current_number_and_shows_the_customer(auditor_client, history):
    first, _ = history
    fee_entry = AuditLogEntry.objects.get(action="fee.updated")
    assert fee_entry.invoice_number != first.number  # written while it was a draft
    content = auditor_client.get(LIST_URL, {"action": "fee.updated"}).content.decode()
    link = reverse("admin:invoices_invoice_change", args=[first.pk])
    assert f'<a href="{link}">{first.number}</a>' in content
    assert f"{first.customer.name} ({first.customer.external_id})" in content


def test_search_by_customer_external_id(auditor_client, history):
    first, _ = history
    response = auditor_client.get(LIST_URL, {"q": first.customer.external_id})
    assert {e.action for e in response.context["cl"].result_list} == {"fee.updated", "invoice.finalized"}


def test_fee_snapshots_are_taken_after_the_recompute_with_plain_decimals(operator):
    tax = f.tax(rate="10")
    invoice = f.invoice(fees=[(1, 1000)], taxes=[tax])
    fee_edits.update_fee(invoice.fees.get().pk, Actor.operator(operator), adjustment="total_units", units="400")
    entry = AuditLogEntry.objects.get(action="fee.updated")
    assert entry.before["taxes_amount_cents"] == 100
    assert entry.after["units"] == "400"  # not "4E+2"
    assert entry.after["amount_cents"] == 400_000 and entry.after["taxes_amount_cents"] == 40_000  # the recomputed tax


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(auditor_client, operator, dangerous):
    from django.db import transaction

    from audit import log as audit_log

    with transaction.atomic():
        audit_log.record("note.added", Actor.api_key(dangerous))
    rows = csv_rows(auditor_client.get(EXPORT_URL))
    assert rows[-1]["api_key"] == "'" + dangerous
    assert rows[-1]["action"] == "note.added"  # harmless cells untouched


def test_sources_tell_the_button_the_bulk_action_and_the_runbook_apart(operator):
    from audit.models import AuditLogEntry as Entry

    assert Actor.operator(operator).source == Entry.Source.ADMIN
    assert Actor.bulk_operator(operator).source == Entry.Source.ADMIN_BULK
    assert Actor.runbook(operator).source == Entry.Source.RUNBOOK
    from api.serializers_billing import SOURCES

    assert {SOURCES[s] for s in ("admin", "admin_bulk", "runbook")} == {"front"}


def test_action_and_actor_filters_offer_the_values_the_log_holds(auditor_client, history):
    cl = auditor_client.get(LIST_URL).context["cl"]
    choices = {spec.title: {c["display"] for c in spec.choices(cl)} for spec in cl.filter_specs}
    assert {"fee.updated", "invoice.finalized"} <= choices["action"]
    assert {"olivia-operator", "system", "api key: billing-sync"} <= choices["actor"]


@pytest.fixture
def unnumbered(operator):
    """A draft with an edited fee, an empty draft its customer's policy closed, and a draft edited then finalized."""
    acme = f.customer(name="Acme", external_id="acme-us")
    draft = f.invoice(acme, fees=[(1, 1000)])
    fee_edits.update_fee(draft.fees.get().pk, Actor.operator(operator), adjustment="total_units", units="2")
    closed = f.invoice(f.customer(name="Initech", external_id="initech", finalize_zero_amount_invoice="skip"))
    finalize_invoice(closed.pk, Actor.operator(operator))
    numbered = f.invoice(f.customer(name="Hooli", external_id="hooli"), fees=[(1, 500)])
    fee_edits.update_fee(numbered.fees.get().pk, Actor.operator(operator), adjustment="total_units", units="3")
    finalize_invoice(numbered.pk, Actor.operator(operator))
    for invoice in (draft, closed, numbered):
        invoice.refresh_from_db()
    assert (draft.status, closed.status, numbered.status) == ("draft", "closed", "finalized")
    return draft, closed, numbered


def test_entries_name_drafts_and_closed_invoices_by_label_and_finalized_ones_by_number(auditor_client, unnumbered):
    draft, closed, numbered = unnumbered
    assert draft.number.endswith("-DRAFT") and closed.number.endswith("-DRAFT")  # the stored placeholder
    content = auditor_client.get(LIST_URL).content.decode()

    link = reverse("admin:invoices_invoice_change", args=[draft.pk])
    assert f'<a href="{link}">Draft · Acme (acme-us) · Oct 2026</a>' in content
    link = reverse("admin:invoices_invoice_change", args=[closed.pk])
    assert f'<a href="{link}">Closed · Initech (initech) · Oct 2026</a>' in content
    link = reverse("admin:invoices_invoice_change", args=[numbered.pk])
    assert content.count(f'<a href="{link}">{numbered.number}</a>') == 2  # the draft-time edit and the finalization
    assert "-DRAFT<" not in content

    entry = AuditLogEntry.objects.get(action="fee.updated", invoice=draft)
    page = auditor_client.get(reverse("admin:audit_auditlogentry_change", args=[entry.pk])).content.decode()
    assert f'<a href="{reverse("admin:invoices_invoice_change", args=[draft.pk])}">Draft · Acme (acme-us) · Oct 2026</a>' in page
    assert "-DRAFT<" not in page


def test_csv_names_the_invoice_as_now_and_keeps_the_number_as_written(auditor_client, unnumbered):
    draft, closed, numbered = unnumbered
    rows = csv_rows(auditor_client.get(EXPORT_URL))
    got = [(row["action"], row["invoice"], row["invoice_current_number"], row["invoice_id"]) for row in rows]
    assert got == [
        ("fee.updated", "Draft · Acme (acme-us) · Oct 2026", "", str(draft.pk)),
        ("invoice.closed", "Closed · Initech (initech) · Oct 2026", "", str(closed.pk)),
        ("fee.updated", numbered.number, numbered.number, str(numbered.pk)),
        ("invoice.finalized", numbered.number, numbered.number, str(numbered.pk)),
    ]
    # As written: the entry made on the draft keeps the placeholder it stored (the chain's hash covers it).
    assert rows[2]["invoice_number"].endswith("-DRAFT") and rows[3]["invoice_number"] == numbered.number


def test_the_list_and_csv_of_draft_entries_run_a_constant_number_of_queries(auditor_client, operator):
    def drafts_edited(n):
        for _ in range(n):
            draft = f.invoice(f.customer(), fees=[(1, 100)])  # each its own customer and entity (the label's zone)
            fee_edits.update_fee(draft.fees.get().pk, Actor.operator(operator), adjustment="total_units", units="2")

    def counted():
        with CaptureQueriesContext(connection) as listing:
            response = auditor_client.get(LIST_URL)
        with CaptureQueriesContext(connection) as export:
            rows = csv_rows(auditor_client.get(EXPORT_URL))
        assert len(response.context["cl"].result_list) == len(rows)
        assert all(row["invoice"].startswith("Draft · Customer ") for row in rows)
        return len(listing), len(export), len(rows)

    drafts_edited(3)
    auditor_client.get(LIST_URL)  # warm the per-process caches (content types)
    *three, _ = counted()
    drafts_edited(12)
    *fifteen, rows = counted()
    assert rows == 15 and fifteen == three
