"""Every raw-SQL fast path has a portable path beside it (STYLE rule 14): the same behaviour, both ways.

Each module says which one it takes through its own `uses_postgres_fast_path()`. The "portable" case
patches it to False, so on PostgreSQL the portable path runs against PostgreSQL too; the "postgres"
case is PostgreSQL-only (deselected on SQLite, where the portable path is the only one anyway).
"""
from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.db import transaction

import core.bulk
import invoices.transitions.one_off
import sequences.models
import usage.ingest
from addons.models import AddOn
from api.views import invoices as invoice_views
from core.bulk import bulk_update
from invoices.models import Fee, Invoice
from invoices.transitions.one_off import create_one_off_invoice
from sequences.models import Sequence, take_next_many
from usage.ingest import EventErrors, ingest
from usage.models import Event

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=dt_timezone.utc)
PATHS = ["portable", pytest.param("postgres", marks=pytest.mark.postgres_only)]


def force(monkeypatch, module, path: str) -> None:
    fast = path == "postgres"
    if not fast:
        monkeypatch.setattr(module, "uses_postgres_fast_path", lambda *args: False)
    # The path under test is the one taken: a check, not an assumption.
    assert module.uses_postgres_fast_path(*([transaction.get_connection()] if module is core.bulk else [])) is fast


@pytest.mark.parametrize("path", PATHS)
def test_one_off_taxes_add_on_else_customer_else_entity(monkeypatch, actor, path):
    """invoices/transitions/one_off.py TAXES_SQL vs. three ORM queries: same taxes on every line."""
    force(monkeypatch, invoices.transitions.one_off, path)
    vat, reduced, entity_vat = f.tax(code="vat-20", rate="20"), f.tax(code="vat-5", rate="5"), f.tax(code="ent-10", rate="10")
    entity = f.billing_entity()
    entity.taxes.set([entity_vat])
    own = f.customer(entity)
    own.taxes.set([vat])
    bare = f.customer(entity)
    taxed = AddOn.objects.create(code="training", name="Training", amount_cents=10000, amount_currency="USD")
    taxed.taxes.set([vat, reduced])
    untaxed = AddOn.objects.create(code="setup", name="Setup", amount_cents=5000, amount_currency="USD")

    invoice = create_one_off_invoice(own, fees=[{"add_on": taxed}, {"add_on": untaxed}], actor=actor, now=NOW)
    fees = {fee.add_on.code: sorted(t.tax_code for t in fee.applied_taxes.all()) for fee in Fee.objects.filter(invoice=invoice).select_related("add_on")}
    assert fees == {"training": ["vat-20", "vat-5"], "setup": ["vat-20"]}
    invoice.refresh_from_db()
    assert invoice.taxes_amount_cents == 2500 + 1000
    assert invoice.total_amount_cents == 15000 + 3500

    # A customer without taxes of its own gets the billing entity's.
    invoice = create_one_off_invoice(bare, fees=[{"add_on": untaxed}], actor=actor, now=NOW)
    assert [t.tax_code for t in Fee.objects.get(invoice=invoice).applied_taxes.all()] == ["ent-10"]


@pytest.mark.parametrize("path", PATHS)
def test_bulk_update_writes_every_field_of_every_row(monkeypatch, path):
    """core/bulk.py: UPDATE … FROM unnest() vs. Django's bulk_update, nulls and datetimes included."""
    force(monkeypatch, core.bulk, path)
    rows = [f.invoice(fees=[(1, 100 * n)]) for n in range(1, 4)]
    deadline = datetime(2026, 12, 1, 8, 30, tzinfo=dt_timezone.utc)
    for n, invoice in enumerate(rows):
        invoice.fees_amount_cents = 1000 + n
        invoice.grace_period_ends_at = None if n == 1 else deadline + timedelta(hours=n)
    bulk_update(rows, ["fees_amount_cents", "grace_period_ends_at"], batch_size=2)
    stored = {i.pk: (i.fees_amount_cents, i.grace_period_ends_at) for i in Invoice.objects.all()}
    assert stored == {
        rows[0].pk: (1000, deadline), rows[1].pk: (1001, None), rows[2].pk: (1002, deadline + timedelta(hours=2)),
    }


@pytest.mark.parametrize("path", PATHS)
def test_bulk_update_of_one_row_writes_it_only_where_its_condition_holds(monkeypatch, path):
    """core/bulk.py: one row (a plain UPDATE … WHERE pk = %s on PostgreSQL) with `where`, JSON and nulls included."""
    force(monkeypatch, core.bulk, path)
    invoice, other = f.invoice(fees=[(1, 100)]), f.invoice(fees=[(1, 200)])
    invoice.fees_amount_cents, invoice.metadata, invoice.grace_period_ends_at = 4242, {"po": "17"}, None
    assert bulk_update([invoice], ["fees_amount_cents", "metadata", "grace_period_ends_at"], where={"status": "draft"}) == 1
    invoice.fees_amount_cents = 1
    assert bulk_update([invoice], ["fees_amount_cents"], where={"status": "finalized"}) == 0  # not a finalized one: untouched
    stored = {i.pk: (i.fees_amount_cents, i.metadata, i.grace_period_ends_at) for i in Invoice.objects.all()}
    assert stored[invoice.pk] == (4242, {"po": "17"}, None)
    assert stored[other.pk][0] == other.fees_amount_cents


@pytest.mark.parametrize("path", PATHS)
def test_event_ingestion_stores_the_batch_and_refuses_duplicates(monkeypatch, path):
    """usage/ingest.py: INSERT … SELECT FROM unnest() vs. a VALUES list, both ON CONFLICT DO NOTHING RETURNING."""
    force(monkeypatch, usage.ingest, path)
    batch = [
        {"transaction_id": "tx-1", "external_subscription_id": "sub-1", "code": "calls", "timestamp": 1673457300,
         "properties": {"region": "eu", "n": 3}, "precise_total_amount_cents": "12.125"},
        {"transaction_id": "tx-2", "external_subscription_id": "sub-1", "code": "calls", "timestamp": "1673457300.5"},
    ]
    events = ingest(batch)
    assert [e.transaction_id for e in events] == ["tx-1", "tx-2"]
    stored = {e.transaction_id: e for e in Event.objects.all()}
    assert {e.id for e in events} == {e.pk for e in stored.values()}
    assert stored["tx-1"].properties == {"region": "eu", "n": 3}
    assert stored["tx-1"].precise_total_amount_cents == Decimal("12.125")
    assert stored["tx-1"].timestamp == datetime(2023, 1, 11, 17, 15, tzinfo=dt_timezone.utc)
    assert stored["tx-2"].timestamp == datetime(2023, 1, 11, 17, 15, 0, 500000, tzinfo=dt_timezone.utc)
    assert stored["tx-2"].properties == {} and stored["tx-2"].precise_total_amount_cents is None

    # One known transaction id refuses the whole batch: nothing of it is stored.
    with pytest.raises(EventErrors) as refused:
        ingest([{**batch[1], "transaction_id": "tx-3"}, batch[0]])
    assert refused.value.details == {1: {"transaction_id": ["value_already_exist"]}}
    assert Event.objects.count() == 2


@pytest.mark.parametrize("path", PATHS)
def test_counters_advance_existing_and_seed_missing_ones(monkeypatch, path):
    """sequences/models.py take_next_many: one UPDATE … FROM unnest() vs. locked ORM rows and bulk_update."""
    force(monkeypatch, sequences.models, path)
    Sequence.objects.create(key="b", last_value=7)
    with transaction.atomic():
        taken = take_next_many({"b": 2, "a": 3, "c": 0}, initial=lambda missing: {key: 10 for key in missing})
    assert taken == {"a": [11, 12, 13], "b": [8, 9]}
    with transaction.atomic():
        assert take_next_many({"a": 1, "b": 1}) == {"a": [14], "b": [10]}
    assert dict(Sequence.objects.values_list("key", "last_value")) == {"a": 14, "b": 10}


@pytest.mark.parametrize("path", PATHS)
def test_invoice_list_metadata_filter(monkeypatch, api, path):
    """api/views/invoices.py `metadata[key]=value`: JSON containment (@>) vs. matching the pairs in Python."""
    force(monkeypatch, invoice_views, path)
    cust = f.customer()
    tagged = f.invoice(cust, metadata=[{"id": "m1", "key": "po", "value": "42"}, {"id": "m2", "key": "ref", "value": "x"}])
    f.invoice(cust, metadata=[{"id": "m3", "key": "po", "value": "43"}])
    f.invoice(cust)

    def ids(query):
        response = api.get("invoices", query)
        assert response.status_code == 200, response.content
        return [row["lago_id"] for row in response.json()["invoices"]]

    assert ids({"metadata[po]": "42"}) == [str(tagged.pk)]
    assert ids({"metadata[po]": "42", "metadata[ref]": "x"}) == [str(tagged.pk)]
    assert ids({"metadata[po]": "42", "metadata[ref]": "y"}) == []
    assert ids({"metadata[ref]": "x", "external_customer_id": cust.external_id}) == [str(tagged.pk)]
