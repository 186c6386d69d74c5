"""Issue 11: an invoice list an operator can work in, an invoice page for review, refusals that say why.

Draft labels instead of PREFIX-DRAFT, drafts first (from an index), per-currency totals of the filtered
list, amounts sorted within a currency, a formula-safe CSV of the filtered list; the page's summary,
deadline only on drafts, the effective net payment term; a 403 naming the permission."""
import csv
import io
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.actors import Actor
from core.csv_cells import safe_cell
from invoices.admin.invoice import currency_totals
from invoices.models import CONSOLE_ORDERING, Invoice
from invoices.transitions.finalization import finalize_invoice

from . import factories as f

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:invoices_invoice_changelist")
EXPORT_URL = reverse("admin:invoices_invoice_export")


def change_url(invoice):
    return reverse("admin:invoices_invoice_change", args=[invoice.pk])


def finalized(customer, fees=((1, 1000),), issued=None):
    invoice = f.invoice(customer, fees=list(fees))
    finalize_invoice(invoice.pk, Actor.system())
    invoice.refresh_from_db()
    return invoice


def listed(response):
    return list(response.context["cl"].result_list)


def test_a_draft_is_labelled_by_customer_and_period_everywhere():
    customer = f.customer(name="Acme", external_id="acme-us", timezone="America/New_York")
    draft = f.invoice(customer, period_from=datetime(2026, 1, 1, 5, tzinfo=dt_timezone.utc),
                      period_to=datetime(2026, 2, 1, 5, tzinfo=dt_timezone.utc))
    assert str(draft) == draft.label == "Draft · Acme (acme-us) · Jan 2026"
    done = finalized(customer)
    assert str(done) == done.number and not done.number.endswith("DRAFT")


def test_the_list_shows_labels_not_the_draft_placeholder(operator_client):
    f.invoice(f.customer(name="Hooli", external_id="hooli-1"))
    content = operator_client.get(LIST_URL).content.decode()
    assert "Draft · Hooli (hooli-1) · Oct 2026" in content
    assert "-DRAFT<" not in content


def test_drafts_come_first_then_the_newest(operator_client):
    entity = f.billing_entity()
    old_done, new_done = finalized(f.customer(entity)), finalized(f.customer(entity))
    # Same issuing date: the newer one (created_at) first.
    drafts = [f.invoice(f.customer(entity)) for _ in range(2)]
    order = [invoice.pk for invoice in listed(operator_client.get(LIST_URL))]
    assert set(order[:2]) == {d.pk for d in drafts}  # on SQLite too, where NULL issuing dates sorted last
    assert order[2:] == [new_done.pk, old_done.pk]
    assert order == list(Invoice.objects.in_console_order().values_list("pk", flat=True))


def test_the_console_order_has_an_index_postgresql_uses_for_the_first_page():
    # 0007_invoice_console_order_idx: the same expression as CONSOLE_ORDERING, portable to SQLite.
    index = next(i for i in Invoice._meta.indexes if i.name == "invoice_console_order_idx")
    assert len(index.expressions) == len(CONSOLE_ORDERING)
    with connection.cursor() as cursor:
        names = [c for c in connection.introspection.get_constraints(cursor, Invoice._meta.db_table)]
    assert "invoice_console_order_idx" in names
    if connection.vendor != "postgresql":
        return
    entity = f.billing_entity()
    customer = f.customer(entity)
    Invoice.objects.bulk_create([Invoice(customer=customer, billing_entity=entity, currency="USD", number="X")
                                 for _ in range(300)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE invoices_invoice")
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Invoice.objects.in_console_order().values("pk")[:50].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "invoice_console_order_idx" in plan and "Sort" not in plan.split("invoice_console_order_idx")[0], plan


def test_the_footer_totals_the_filtered_list_per_currency_in_one_query(operator_client, django_assert_num_queries):
    entity = f.billing_entity()
    usd, eur = f.customer(entity, currency="USD"), f.customer(entity, currency="EUR")
    f.invoice(usd, fees=[(1, 1000)]), f.invoice(usd, fees=[(2, 250)]), f.invoice(eur, fees=[(1, 50985)])
    response = operator_client.get(LIST_URL)
    assert response.context["currency_totals"] == [
        {"currency": "EUR", "invoices": 1, "total": "509.85 EUR"}, {"currency": "USD", "invoices": 2, "total": "15.00 USD"}]
    assert 'id="currency-totals"' in response.content.decode()
    filtered = operator_client.get(LIST_URL, {"currency__exact": "USD"})
    assert [row["currency"] for row in filtered.context["currency_totals"]] == ["USD"]
    with django_assert_num_queries(1):
        currency_totals(Invoice.objects.all())


def test_the_result_count_comes_from_the_footer_aggregate(operator_client):
    """One aggregate gives the paginator's count and the footer; no second COUNT of the whole table."""
    entity = f.billing_entity()
    for _ in range(3):
        f.invoice(f.customer(entity, currency="USD"), fees=[(1, 500)])
    finalized(f.customer(entity, currency="EUR"), fees=[(1, 700)])
    response = operator_client.get(LIST_URL, {"currency__exact": "USD"})
    cl = response.context["cl"]
    assert cl.result_count == 3 and cl.paginator.count == 3
    assert cl.full_result_count is None  # show_full_result_count is off: the table is not counted again
    with CaptureQueriesContext(connection) as queries:
        operator_client.get(LIST_URL, {"currency__exact": "USD"})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "invoices_invoice" in q["sql"]]
    assert len(counts) == 1 and "GROUP BY" in counts[0].upper()


def test_search_finds_a_number_by_its_start_and_customers_by_name_or_external_id(operator_client):
    entity = f.billing_entity(document_number_prefix="SRCH")
    acme = f.customer(entity, name="Acme Corp", external_id="acme-us")
    globex = f.customer(entity, name="Globex", external_id="gx-42")
    numbered = finalized(acme)
    acme_draft = f.invoice(acme)
    globex_draft = f.invoice(globex)

    def found(term):
        return {invoice.pk for invoice in listed(operator_client.get(LIST_URL, {"q": term}))}

    assert found(numbered.number) == {numbered.pk}
    assert found(numbered.number.lower()[:6]) == {numbered.pk}  # the start of a number, any case
    assert found("acme corp") == {numbered.pk, acme_draft.pk}
    assert found("GX-4") == {globex_draft.pk}
    assert found("nobody") == set()
    assert found("  ") == {numbered.pk, acme_draft.pk, globex_draft.pk}


@pytest.mark.parametrize("direction", ["", "-"])
def test_sorting_by_total_keeps_each_currency_together(operator_client, direction):
    entity = f.billing_entity()
    eur, jpy = f.customer(entity, currency="EUR"), f.customer(entity, currency="JPY")
    f.invoice(eur, fees=[(1, 50985)]), f.invoice(jpy, fees=[(1, 21294)]), f.invoice(eur, fees=[(1, 100)])
    response = operator_client.get(LIST_URL)
    admin_index = response.context["cl"].list_display.index("total_column")
    response = operator_client.get(LIST_URL, {"o": f"{direction}{admin_index}"})
    rows = [(invoice.currency, invoice.total_amount_cents) for invoice in listed(response)]
    assert rows == [("EUR", 100), ("EUR", 50985), ("JPY", 21294)] if not direction else \
        rows == [("EUR", 50985), ("EUR", 100), ("JPY", 21294)]


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_exports_the_filtered_list(operator_client):
    entity = f.billing_entity()
    f.invoice(f.customer(entity, name="Acme", external_id="acme-1"), fees=[(3, 1234)])
    done = finalized(f.customer(entity, name="Globex", external_id="globex-1", currency="JPY"), fees=[(2, 500)])
    response = operator_client.get(EXPORT_URL, {"status": "finalized"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming and "attachment" in response["Content-Disposition"]
    [row] = csv_rows(response)
    assert row["number"] == done.number and row["customer_external_id"] == "globex-1"
    assert row["currency"] == "JPY" and row["total"] == "1000"
    everything = csv_rows(operator_client.get(EXPORT_URL))
    assert [r["invoice"] for r in everything][0].startswith("Draft · Acme (acme-1)")
    assert 'href="/admin/invoices/invoice/export.csv?status=draft"' in operator_client.get(
        LIST_URL, {"status": "draft"}).content.decode()


def test_the_csv_cells_cannot_run_as_formulas(operator_client):
    f.invoice(f.customer(name="=HYPERLINK(\"http://evil\")", external_id="+cmd|' /C calc'!A0"))
    [row] = csv_rows(operator_client.get(EXPORT_URL))
    assert row["customer_name"] == "'=HYPERLINK(\"http://evil\")"
    assert row["customer_external_id"].startswith("'+cmd")
    assert [safe_cell(v) for v in ("-1", "@x", "\tx", "\rx", "ok", None)] == ["'-1", "'@x", "'\tx", "'\rx", "ok", ""]


def test_the_page_opens_with_a_summary_then_the_fees(operator_client):
    customer = f.customer(name="Hooli", external_id="hooli-9", timezone="Asia/Tokyo")
    draft = f.invoice(customer, fees=[(1, 1000)], grace_period_ends_at=datetime(2026, 11, 3, 15, tzinfo=dt_timezone.utc))
    content = operator_client.get(change_url(draft)).content.decode()
    summary, fees, details = (content.index(s) for s in ("invoice-summary", 'id="fees-group"', ">Details<"))
    assert summary < fees < details
    assert 'title="2026-11-03 15:00 UTC">2026-11-04 00:00 Asia/Tokyo<' in content
    assert "(null: never)" not in content


def test_the_deadline_shows_only_on_drafts(operator_client):
    customer = f.customer()
    done = finalized(customer)
    Invoice.objects.filter(pk=done.pk).update(grace_period_ends_at=timezone.now())
    content = operator_client.get(change_url(done)).content.decode()
    assert "field-grace_deadline" not in content and "grace deadline" not in content.lower().split("result_list")[0]


def test_a_draft_shows_the_effective_net_payment_term(operator_client):
    entity = f.billing_entity(net_payment_term=15)
    draft = f.invoice(f.customer(entity))
    content = operator_client.get(change_url(draft)).content.decode()
    assert "15 days (the billing entity&#x27;s)" in content or "15 days (the billing entity's)" in content
    own = f.invoice(f.customer(entity, net_payment_term=30))
    assert "30 days (the customer" in operator_client.get(change_url(own)).content.decode()


def test_finalize_is_the_primary_action(operator_client):
    content = operator_client.get(change_url(f.invoice())).content.decode()
    assert 'class="invoice-tool primary-action">Finalize invoice<' in content


def test_a_refusal_names_the_missing_permission(auditor_client):
    draft = f.invoice()
    response = auditor_client.get(reverse("admin:invoices_invoice_finalize", args=[draft.pk]))
    assert response.status_code == 403
    content = response.content.decode()
    assert "invoices.finalize_invoice" in content and 'id="error-message"' in content
    assert "Billing console" in content  # in the console's frame, not a bare "403 Forbidden"


def test_a_missing_page_is_styled(operator_client):
    response = operator_client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'id="error-message"' in response.content.decode()


def test_a_fee_error_sits_in_its_row_and_is_summed_up_at_the_top(operator_client):
    from .admin_helpers import change_form_data

    invoice = f.invoice(fees=[(1, 1000)])
    data = change_form_data(operator_client.get(change_url(invoice)))
    data.update({"fees-0-adjustment": "total_amount", "fees-0-amount": "12.345"})  # USD has two decimals

    content = operator_client.post(change_url(invoice), data).content.decode()

    summary, fees = content.index('id="error-summary"'), content.index('id="fees-group"')
    assert summary < fees and 'href="#fees-0">Fee 1' in content[summary:fees]
    assert "more decimals" in content[summary:fees] and "more decimals" in content[fees:]  # in the row too
