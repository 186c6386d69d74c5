"""The kernel (`core/`) is where Django internals are touched (STYLE rule 12); these tests pin each one on Django 5.2.

- `core.db.as_prefetched` sets `QuerySet._result_cache` and `QuerySet._prefetch_done`;
- `core.db.seed_prefetched` writes `Model._prefetched_objects_cache`, which related managers read;
  `core.db.related_rows` reads it;
- `core.db.is_unsaved` reads `Model._state.adding`;
- `core.db.lock_in_order` builds SELECT ... FOR UPDATE in primary-key order;
- `core.bulk.bulk_update`'s PostgreSQL path runs through a Django cursor wrapper (seen by query capture);
- `core.queue.enqueue_many` reads django_q's `Conf.SYNC`; `core.queue.queues_in_transaction` also `Conf.ORM`
  and the ORM broker's class;
- `core.db.with_children` builds instances with `Model.from_db` (public) from one LEFT JOIN, and seeds the children;
  `core.db.decimals_stored_exactly` reads the DecimalFields' places (SQLite keeps 15 significant digits);
- `core.prepared.Prepared` keeps a compiler (`Query.get_compiler`) whose `as_sql` it replaces, so a queryset's
  iterable (instances with select_related and annotations, values_list tuples) runs the SQL compiled once.
"""
from decimal import Decimal

import django
import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

import core.bulk
from core.db import as_prefetched, is_unsaved, lock_in_order, related_rows, seed_prefetched
from customers.models import Customer
from invoices.models import Fee, FeeTax, Invoice

from . import factories as f

pytestmark = pytest.mark.django_db


def test_this_is_the_django_the_internals_were_pinned_on():
    assert django.VERSION[:2] == (5, 2), "Re-check tests/test_core_internals.py against the new Django, then update this line."


def test_a_prefetched_relation_is_read_from_memory(django_assert_num_queries):
    fee = f.fee(f.invoice(), taxes=[f.tax(rate="10")])
    applied = list(FeeTax.objects.filter(fee=fee))
    fee = Fee.objects.get(pk=fee.pk)
    fee._prefetched_objects_cache = {"applied_taxes": as_prefetched(FeeTax, applied)}

    with django_assert_num_queries(0):
        assert list(fee.applied_taxes.all()) == applied
        assert fee.applied_taxes.count() == 1


def test_the_queryset_internals_it_sets_still_exist():
    queryset = QuerySet(model=FeeTax)
    assert queryset._result_cache is None and queryset._prefetch_done is False
    assert list(as_prefetched(FeeTax, [])) == []
    assert as_prefetched(FeeTax, [1, 2])._result_cache == [1, 2]


def test_prefetch_related_stores_its_rows_where_seed_prefetched_puts_them():
    invoice = f.invoice(fees=[(1, 100)])
    loaded = Invoice.objects.prefetch_related("fees").get(pk=invoice.pk)
    assert set(loaded._prefetched_objects_cache) == {"fees"}  # the name is the related manager's accessor
    assert loaded._prefetched_objects_cache["fees"]._prefetch_done is True


def test_seed_prefetched_answers_reverse_and_many_to_many_relations_without_a_query(django_assert_num_queries):
    invoice = f.invoice(fees=[(1, 100), (2, 50)])
    fees = list(Fee.objects.filter(invoice=invoice).order_by("position"))
    customer = Customer.objects.get(pk=invoice.customer_id)
    tax = f.tax(rate="5")
    invoice = Invoice.objects.get(pk=invoice.pk)

    seed_prefetched(invoice, "fees", fees)
    seed_prefetched(invoice, "applied_taxes", [])
    seed_prefetched(customer, "taxes", [tax])
    with django_assert_num_queries(0):
        assert list(invoice.fees.all()) == fees
        assert list(invoice.applied_taxes.all()) == []
        assert list(customer.taxes.all()) == [tax]
    assert set(invoice._prefetched_objects_cache) == {"fees", "applied_taxes"}  # seeding one keeps the others


def test_related_rows_gives_the_prefetched_instances_without_a_query_and_queries_otherwise(django_assert_num_queries):
    invoice = f.invoice(fees=[(1, 100), (2, 50)])
    prefetched = Invoice.objects.prefetch_related("fees", "customer__taxes").get(pk=invoice.pk)
    with django_assert_num_queries(0):
        rows = list(related_rows(prefetched, "fees"))
        assert rows == list(prefetched.fees.all()) and len(rows) == 2
        assert rows[0] is prefetched.fees.all()[0]  # the very instances: what a caller sets on them stays
        assert list(related_rows(prefetched.customer, "taxes")) == []
    plain = Invoice.objects.get(pk=invoice.pk)
    with django_assert_num_queries(1):
        assert len(list(related_rows(plain, "fees"))) == 2


def test_is_unsaved_follows_model_state():
    fee = Fee(invoice=f.invoice())
    assert fee._state.adding is True and is_unsaved(fee)  # a uuid pk is set before saving: pk is no test
    assert fee.pk is not None
    invoice = Invoice.objects.first()
    assert invoice._state.adding is False and not is_unsaved(invoice)


def test_lock_in_order_selects_for_update_by_primary_key():
    queryset = lock_in_order(Customer.objects.all(), no_key=True)
    assert queryset.query.select_for_update and queryset.query.select_for_no_key_update
    assert queryset.query.order_by == ("pk",)


@pytest.mark.postgres_only
def test_the_fast_bulk_update_is_seen_by_query_capture():
    invoice = f.invoice(fees=[(1, 100), (2, 50)])
    fees = list(Fee.objects.filter(invoice=invoice))
    for fee in fees:
        fee.invoice_display_name = "Renamed"
    assert core.bulk.uses_postgres_fast_path(connection)
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        assert core.bulk.bulk_update(fees, ["invoice_display_name"]) == 2  # many rows: UPDATE … FROM unnest()
        fees[0].invoice_display_name = "Once more"
        assert core.bulk.bulk_update(fees[:1], ["invoice_display_name"]) == 1  # one row: a plain UPDATE
    assert len(captured) == 2 and "unnest(" in captured[0]["sql"] and "unnest(" not in captured[1]["sql"]
    assert sorted(Fee.objects.filter(invoice=invoice).values_list("invoice_display_name", flat=True)) == ["Once more", "Renamed"]


def test_django_q_conf_has_the_sync_flag_enqueue_many_reads():
    from django_q.conf import Conf

    assert isinstance(Conf.SYNC, bool)


@pytest.mark.django_db
def test_large_text_fields_are_bulk_inserted_as_values_rows_not_unnest():
    """core.db.LargeTextField relies on the insert compiler consulting Field.get_placeholder (Django 5.2:
    a model with such a field is bulk-inserted with VALUES, not PostgreSQL's UNNEST of arrays)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webhooks.models import WebhookEvent

    events = [WebhookEvent(webhook_type="invoice.created", object_type="invoice", object_id=str(i), payload="{}") for i in range(3)]
    with CaptureQueriesContext(connection) as captured:
        WebhookEvent.objects.bulk_create(events)
    insert = next(q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT"))
    assert "UNNEST" not in insert.upper() and insert.count("VALUES") == 1
    assert WebhookEvent.objects.filter(object_id__in=["0", "1", "2"]).count() == 3


def test_django_q_orm_broker_is_what_queues_in_transaction_checks(monkeypatch):
    """core.queue.queues_in_transaction reads Conf.SYNC and Conf.ORM and knows the ORM broker by its class."""
    from django_q.brokers import get_broker
    from django_q.brokers.orm import ORM
    from django_q.conf import Conf

    from core.queue import queues_in_transaction

    assert Conf.ORM == "default" and isinstance(get_broker(), ORM)
    assert not queues_in_transaction()  # sync mode (tests): the task would run at once, inside the transaction
    monkeypatch.setattr(Conf, "SYNC", False)
    with transaction.atomic():
        assert queues_in_transaction() and not queues_in_transaction("other")


def test_with_children_reads_parents_and_their_children_in_one_query(django_assert_num_queries):
    from core.db import with_children

    ten, five = f.tax(code="b-ten", rate="10"), f.tax(code="a-five", rate="5")
    invoice = f.invoice(fees=[(1, 100), (2, 50), (3, 10)])
    fees = list(Fee.objects.filter(invoice=invoice).order_by("position"))
    FeeTax.objects.bulk_create([FeeTax(fee=fees[0], tax=ten, tax_code=ten.code, tax_name="Ten", tax_rate=ten.rate),
                                FeeTax(fee=fees[0], tax=five, tax_code=five.code, tax_name="Five", tax_rate=five.rate),
                                FeeTax(fee=fees[2], tax=ten, tax_code=ten.code, tax_name="Ten", tax_rate=ten.rate)])
    with django_assert_num_queries(1):
        loaded = with_children(Fee.objects.filter(invoice=invoice), "applied_taxes", order_by=["-position"], defer=["updated_at"])
        taxes = [[t.tax_code for t in fee.applied_taxes.all()] for fee in loaded]
        assert all(t.fee is fee for fee in loaded for t in fee.applied_taxes.all())
    assert [fee.pk for fee in loaded] == [fee.pk for fee in reversed(fees)]
    assert taxes == [["b-ten"], [], ["a-five", "b-ten"]]
    assert loaded[0].get_deferred_fields() == {"updated_at"} and loaded[0].amount_cents == 30
    assert [t.pk for t in loaded[2].applied_taxes.all()] == list(FeeTax.objects.filter(fee=fees[0]).values_list("pk", flat=True))


def test_decimals_stored_exactly_knows_what_a_column_would_round():
    from core.db import decimals_stored_exactly

    fee = Fee(units=Decimal("2.5"), precise_amount_cents=Decimal("1234.000000000000001"))
    assert not decimals_stored_exactly([fee])  # 19 significant digits: SQLite keeps 15
    fee.precise_amount_cents = Decimal("1234.5")
    assert decimals_stored_exactly([fee])
    fee.units = Decimal("1.123456789012")  # 12 decimals; the column keeps 10
    assert not decimals_stored_exactly([fee])


def _locking_with_look(pk):
    from django.db.models import Exists, OuterRef

    return (Invoice.objects.select_related("customer__billing_entity").filter(pk=pk)
            .annotate(has_fees=Exists(Fee.objects.filter(invoice_id=OuterRef("pk"))))
            .select_for_update(of=("self",)).prefetch_related("applied_taxes"))


def test_a_prepared_statement_gives_what_the_queryset_gives_with_one_compile(django_assert_num_queries, monkeypatch):
    from django.db.models.sql.compiler import SQLCompiler

    from core.db import is_prefetched
    from core.prepared import Prepared

    with_fees, without = f.invoice(fees=[(1, 100)]), f.invoice(f.customer(external_id="other"))
    statement = Prepared(_locking_with_look, Invoice._meta.pk)
    compiled = []
    real_as_sql = SQLCompiler.as_sql
    def counting(self, *args, **kwargs):
        if self.query.model is Invoice and not self.query.subquery:
            compiled.append(self.query)
        return real_as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    with transaction.atomic():
        for invoice in (with_fees, without, with_fees):
            expected = list(_locking_with_look(invoice.pk))[0]
            with django_assert_num_queries(2):  # the statement and its prefetch
                (got,) = statement.rows(invoice.pk)
            assert got.pk == invoice.pk and got.has_fees == expected.has_fees == (invoice is with_fees)
            assert got.customer.external_id == expected.customer.external_id
            assert got.customer.billing_entity.code == expected.customer.billing_entity.code
            assert [field.value_from_object(got) for field in Invoice._meta.concrete_fields] == \
                   [field.value_from_object(expected) for field in Invoice._meta.concrete_fields]
            assert is_prefetched(got, "applied_taxes")
        assert statement.rows(Invoice._meta.pk.to_python("00000000-0000-0000-0000-000000000001")) == []
    # the invoices' statement: compiled by each of the three querysets, and once in all by the prepared one
    assert len(compiled) == 3 + 1


def test_a_prepared_values_list_binds_several_values():
    from core.prepared import Prepared

    invoice = f.invoice(fees=[(1, 100), (2, 50)])
    statement = Prepared(
        lambda invoice_id, kind: Fee.objects.filter(invoice_id=invoice_id, kind=kind).order_by("position").values_list("position", "amount_cents"),
        Fee._meta.get_field("invoice"), Fee._meta.get_field("kind"),
    )
    kind = Fee.objects.filter(invoice=invoice).values_list("kind", flat=True).first()
    assert statement.rows(invoice.pk, kind) == list(Fee.objects.filter(invoice=invoice, kind=kind).order_by("position").values_list("position", "amount_cents"))
    assert len(statement.rows(invoice.pk, kind)) == 2
    assert statement.rows(invoice.pk, "no-such-kind") == []


def test_a_prepared_statement_refuses_a_template_it_cannot_bind():
    from core.prepared import Prepared

    ignoring = Prepared(lambda pk: Invoice.objects.filter(pk__isnull=False), Invoice._meta.pk)
    with pytest.raises(ValueError, match="sits in 0 places"):
        ignoring.rows(f.invoice().pk)
    with pytest.raises(TypeError, match="binds 1 values, not 2"):
        ignoring.rows(1, 2)


@pytest.mark.django_db(transaction=True)
def test_a_prepared_lock_outside_a_transaction_is_refused_as_django_refuses_it():
    from core.prepared import Prepared

    invoice = f.invoice()
    locking = Prepared(lambda pk: Invoice.objects.select_for_update().filter(pk=pk), Invoice._meta.pk)

    def refused(run) -> bool:
        try:
            run()
        except transaction.TransactionManagementError:
            return True
        return False

    django_refuses = refused(lambda: list(Invoice.objects.select_for_update().filter(pk=invoice.pk)))
    assert django_refuses == (connection.vendor == "postgresql")  # SQLite has no row locks: Django lets it through
    assert refused(lambda: locking.rows(invoice.pk)) == django_refuses
    with transaction.atomic():
        assert [row.pk for row in locking.rows(invoice.pk)] == [invoice.pk]
    assert refused(lambda: locking.rows(invoice.pk)) == django_refuses  # compiled now: the same answer


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_is_compiled_per_connection():
    import threading

    from django.db import connections

    from core.prepared import Prepared

    one, two = f.invoice(), f.invoice(f.customer(external_id="two"))
    statement = Prepared(lambda pk: Invoice.objects.filter(pk=pk).values_list("pk", flat=True), Invoice._meta.pk)
    assert statement.rows(one.pk) == [one.pk]
    found = []

    def other_thread():
        try:
            found.append(statement.rows(two.pk))
            # this thread's connection compiled its own (checked here: the entry goes with the connection)
            found.append(connections["default"] in statement._compiled and len(statement._compiled) == 2)
        finally:
            connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert found == [[two.pk], True]
    assert statement.rows(one.pk) == [one.pk]  # this thread's compiled statement, still its own
