"""The invoice's transition table: what save() allows and refuses, the checked bulk writes,
the PostgreSQL triggers (invoices and audit log), and that each transition has one writer."""
import ast
import importlib
import itertools
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import log as audit_log
from audit.actors import Actor
from audit.models import AuditLogEntry
from invoices.transitions import finalization, overdue, payments
from core.bulk import bulk_update
from invoices.db_guards import invoice_guard_sql
from invoices.transitions.deletion import delete_draft
from invoices.transitions.finalization import finalize_invoice, finalize_invoices
from invoices.models import InvalidTransition, Invoice, InvoiceLocked
from invoices.transitions.voiding import void_invoice
from tests import factories as f

SYSTEM = Actor.system()
S = Invoice.Status
STATUSES = [status.value for status in S]
ALLOWED = [(source, target) for source, targets in Invoice.STATUS_TRANSITIONS.items() for target in sorted(targets)]
FORBIDDEN = [
    (source, target) for source, target in itertools.permutations(STATUSES, 2)
    if target not in Invoice.STATUS_TRANSITIONS.get(source, ())
]

pytestmark = pytest.mark.django_db


def stored(status, **kwargs) -> Invoice:
    """An invoice stored with `status` (an INSERT is not a transition), loaded back as code would load it."""
    invoice = f.invoice(status=status, **kwargs)
    return Invoice.objects.get(pk=invoice.pk)


def finalized(fees=((1, 1000),)) -> Invoice:
    invoice = f.invoice(fees=fees)
    assert finalize_invoice(invoice.pk, SYSTEM).result == "finalized"
    return Invoice.objects.get(pk=invoice.pk)


# --- the table ----------------------------------------------------------------------------------


def test_the_table_is_lagos_state_machine():
    assert Invoice.STATUS_TRANSITIONS == {"draft": {"finalized", "closed", "deleted"}, "finalized": {"voided"}}
    assert ("finalized", "draft") in FORBIDDEN and ("voided", "finalized") in FORBIDDEN
    assert ("closed", "finalized") in FORBIDDEN and ("deleted", "draft") in FORBIDDEN and ("draft", "voided") in FORBIDDEN


@pytest.mark.parametrize("source,target", ALLOWED)
def test_allowed_status_change_is_saved(source, target):
    invoice = stored(source)
    invoice.status = target
    invoice.save(update_fields=["status", "updated_at"])
    invoice.refresh_from_db()
    assert invoice.status == target


@pytest.mark.parametrize("source,target", FORBIDDEN)
def test_forbidden_status_change_is_refused_by_save(source, target):
    invoice = stored(source)
    invoice.status = target
    with pytest.raises(InvalidTransition, match=f"status {source} → {target} is not an allowed transition"):
        invoice.save()
    with pytest.raises(InvalidTransition):
        invoice.save(update_fields=["status"])
    assert Invoice.objects.get(pk=invoice.pk).status == source


def test_invalid_transition_is_an_invoice_locked_error_with_its_code():
    invoice = finalized()
    invoice.status = S.DRAFT
    with pytest.raises(InvoiceLocked) as caught:
        invoice.save()
    assert caught.value.code == "invalid_transition"
    assert f"Invoice {invoice.number}: status finalized → draft" in caught.value.message
    assert "from finalized: voided" in caught.value.message


def test_the_from_state_is_what_was_loaded_or_refreshed():
    invoice = f.invoice(fees=[(1, 100)])
    finalize_invoice(invoice.pk, SYSTEM)
    invoice.refresh_from_db()  # the in-memory draft learns it is finalized now
    invoice.status = S.DRAFT
    with pytest.raises(InvalidTransition, match="finalized → draft"):
        invoice.save()
    # A deferred status is read from the database when needed.
    deferred = Invoice.objects.defer("status").get(pk=invoice.pk)
    deferred.status = S.DELETED
    with pytest.raises(InvalidTransition, match="finalized → deleted"):
        deferred.save(update_fields=["status"])
    # Once saved, the new status is the from-state of the next change.
    fresh = Invoice.objects.get(pk=invoice.pk)
    fresh.status = S.VOIDED
    fresh.save(update_fields=["status"])
    fresh.status = S.FINALIZED
    with pytest.raises(InvalidTransition, match="voided → finalized"):
        fresh.save(update_fields=["status"])


def test_frozen_field_change_on_a_finalized_invoice_is_refused():
    invoice = finalized()
    invoice.total_amount_cents += 1
    with pytest.raises(InvoiceLocked, match="total_amount_cents can no longer change"):
        invoice.save()
    invoice.refresh_from_db()
    invoice.number = "OTHER-001"
    with pytest.raises(InvoiceLocked, match="number"):
        invoice.save(update_fields=["number"])
    # A void keeps the frozen fields as they are.
    void_invoice(invoice.pk, SYSTEM)
    voided = Invoice.objects.get(pk=invoice.pk)
    voided.fees_amount_cents = 0
    with pytest.raises(InvoiceLocked, match="fees_amount_cents"):
        voided.save()


# --- the transitions through their modules ------------------------------------------------------


def test_each_transition_through_its_module():
    assert finalized().status == S.FINALIZED
    empty = f.invoice(f.customer(finalize_zero_amount_invoice="skip"))
    assert finalize_invoice(empty.pk, SYSTEM).result == "closed"
    assert delete_draft(f.invoice().pk, SYSTEM).status == S.DELETED
    with pytest.raises(InvoiceLocked, match="Only draft"):
        delete_draft(empty.pk, SYSTEM)  # closed → deleted: the WHERE clause finds no draft
    assert void_invoice(finalized().pk, SYSTEM).status == S.VOIDED


def test_conditional_transition_update_checks_the_table_and_the_stored_state():
    draft, done = f.invoice(), finalized()
    assert Invoice.objects.filter(pk__in=[draft.pk, done.pk]).transition(S.DRAFT, S.DELETED) == 1
    assert Invoice.objects.get(pk=done.pk).status == S.FINALIZED
    with pytest.raises(InvalidTransition, match="status finalized → draft"):
        Invoice.objects.filter(pk=done.pk).transition(S.FINALIZED, S.DRAFT)


def test_finalization_batch_writes_only_rows_still_draft():
    """The bulk write cannot go through save(): the WHERE clause requires status = draft and the count is checked."""
    invoice = finalized()
    invoice.status = S.FINALIZED  # what a stale batch would write again
    with pytest.raises(InvalidTransition, match="expected 1 drafts and wrote 0"):
        with transaction.atomic():
            finalization._save([invoice])
    draft = f.invoice()
    draft.status = S.VOIDED
    with pytest.raises(InvalidTransition, match="status draft → voided"):
        finalization._save([draft])
    assert Invoice.objects.get(pk=draft.pk).status == S.DRAFT


def test_bulk_update_where_counts_the_rows_it_wrote():
    draft, done = f.invoice(), finalized()
    for invoice in (draft, done):
        invoice.grace_period_ends_at = None
    assert bulk_update([draft, done], ["grace_period_ends_at"], where={"status": S.DRAFT}) == 1
    assert bulk_update([draft, done], ["grace_period_ends_at"]) == 2


def test_finalization_batch_queries_do_not_grow_with_the_batch():
    customer = f.customer()

    def queries(count):
        ids = [f.invoice(customer, fees=[(1, 100)]).pk for _ in range(count)]
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            assert all(outcome.ok for outcome in finalize_invoices(ids, SYSTEM))
        return len(captured)

    queries(1)  # the first finalization creates the number counters
    # (On PostgreSQL the bulk UPDATE runs on its own cursor, one statement per 500 rows, and is not captured.)
    assert queries(2) == queries(6)


# --- payment status and the overdue flag --------------------------------------------------------


def test_payment_status_changes_on_finalized_invoices_only():
    invoice = finalized()
    for status in ("succeeded", "failed", "pending", "succeeded"):
        invoice.payment_status = status
        invoice.save(update_fields=["payment_status"])
    assert Invoice.objects.get(pk=invoice.pk).payment_status == "succeeded"
    draft = stored(S.DRAFT)
    draft.payment_status = "succeeded"
    with pytest.raises(InvalidTransition, match="payment status pending → succeeded is not allowed on a draft invoice"):
        draft.save()
    void_invoice(invoice.pk, SYSTEM)
    voided = Invoice.objects.get(pk=invoice.pk)
    voided.payment_status = "pending"
    with pytest.raises(InvalidTransition, match="on a voided invoice"):
        voided.save(update_fields=["payment_status"])


def test_record_payment_is_the_paid_in_full_write():
    invoice = finalized()
    with transaction.atomic():
        payments.record_payment(invoice)
    invoice.refresh_from_db()
    assert (invoice.payment_status, invoice.total_paid_amount_cents) == ("succeeded", invoice.total_amount_cents)


def test_overdue_flag_is_raised_only_on_finalized_unpaid_invoices():
    invoice = finalized()
    overdue.flag(invoice)
    assert Invoice.objects.get(pk=invoice.pk).payment_overdue is True
    paid = finalized()
    payments.record_payment(paid)
    with pytest.raises(InvalidTransition, match="only a finalized, unpaid invoice can become overdue"):
        overdue.flag(paid)
    with pytest.raises(InvalidTransition, match="it is draft"):
        overdue.flag(stored(S.DRAFT))
    # Clearing is always allowed (void, payment, the task).
    void_invoice(invoice.pk, SYSTEM)
    assert Invoice.objects.get(pk=invoice.pk).payment_overdue is False


# --- the PostgreSQL triggers --------------------------------------------------------------------


def raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres_only
def test_trigger_refuses_a_raw_status_update_and_leaves_the_row():
    invoice = finalized()
    with pytest.raises(DatabaseError, match="status finalized -> draft is not an allowed transition"):
        with transaction.atomic():
            raw("UPDATE invoices_invoice SET status = 'draft' WHERE id = %s", [invoice.pk])
    assert Invoice.objects.get(pk=invoice.pk).status == S.FINALIZED
    # Through the ORM's bulk door too.
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(status=S.DRAFT)
    assert Invoice.objects.get(pk=invoice.pk).status == S.FINALIZED


@pytest.mark.postgres_only
def test_trigger_refuses_a_frozen_column_change_once_not_draft():
    invoice = finalized()
    with pytest.raises(DatabaseError, match="total_amount_cents can no longer change"):
        with transaction.atomic():
            raw("UPDATE invoices_invoice SET total_amount_cents = 1 WHERE id = %s", [invoice.pk])
    assert Invoice.objects.get(pk=invoice.pk).total_amount_cents == invoice.total_amount_cents
    # What still changes after finalization does; a draft's money is not frozen.
    raw("UPDATE invoices_invoice SET payment_status = 'succeeded', metadata = '[]' WHERE id = %s", [invoice.pk])
    draft = f.invoice()
    raw("UPDATE invoices_invoice SET total_amount_cents = 5 WHERE id = %s", [draft.pk])


@pytest.mark.postgres_only
def test_trigger_is_the_backstop_for_a_stale_object():
    stale = f.invoice(fees=[(1, 100)])  # loaded as a draft...
    finalize_invoice(stale.pk, SYSTEM)  # ...finalized elsewhere
    stale.status = S.DELETED
    with pytest.raises(DatabaseError, match="finalized -> deleted"):
        with transaction.atomic():
            stale.save(update_fields=["status"])


@pytest.mark.postgres_only
def test_trigger_agrees_with_the_table_for_every_pair():
    refused = set()
    for source, target in itertools.permutations(STATUSES, 2):
        invoice = f.invoice(status=source)
        try:
            with transaction.atomic():
                raw("UPDATE invoices_invoice SET status = %s WHERE id = %s", [target, invoice.pk])
        except DatabaseError:
            refused.add((source, target))
    assert refused == set(FORBIDDEN)


@pytest.mark.postgres_only
def test_audit_log_refuses_raw_update_and_delete():
    entry = audit_log.entry("test.recorded", SYSTEM, after={"n": 1})
    with transaction.atomic():
        entry.save()
    for sql in ("UPDATE audit_auditlogentry SET action = 'forged' WHERE id = %s", "DELETE FROM audit_auditlogentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                raw(sql, [entry.pk])
    assert AuditLogEntry.objects.get(pk=entry.pk).action == "test.recorded"


def test_latest_migration_snapshot_is_the_models_table():
    migration = importlib.import_module("invoices.migrations.0006_invoice_transition_trigger")
    assert {source: set(targets) for source, targets in migration.TRANSITIONS.items()} == Invoice.STATUS_TRANSITIONS
    assert migration.FROZEN_COLUMNS == [Invoice._meta.get_field(name).column for name in Invoice.FROZEN_FIELDS]
    sql = invoice_guard_sql(migration.TRANSITIONS, migration.FROZEN_COLUMNS)
    assert "('draft', 'finalized')" in sql and "('finalized', 'voided')" in sql and "('finalized', 'draft')" not in sql


# --- one writer per transition ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
WRITERS = {
    "status": {"invoices/transitions/finalization.py", "invoices/transitions/voiding.py", "invoices/transitions/deletion.py", "invoices/models.py"},
    "payment_status": {"invoices/transitions/finalization.py", "invoices/transitions/payments.py"},
    "payment_overdue": {"invoices/transitions/overdue.py"},
}
INVOICE_WORDS = ("invoice", "inv")


def _source_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/")) or "/migrations/" in relative or "/." in f"/{relative}":
            continue
        yield relative, ast.parse(path.read_text(), filename=relative)


def _mentions_invoice(node) -> bool:
    return any(word in ast.unparse(node).lower() for word in INVOICE_WORDS)


def _writes(tree):
    """(field, line) for every write of a tracked field: attribute assignments, update()/transition()
    keywords, and field names listed in update_fields= or bulk_update() (literally or through a module constant).

    `status` is also a coupon's, a wallet's or a delivery's: it counts only on invoice objects and querysets
    or with an `Invoice.Status` value. Only invoices have `payment_status` and `payment_overdue`.
    """
    constants = {
        target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, ast.Name)
    }

    def counts(field, subject, value=None) -> bool:
        return field != "status" or _mentions_invoice(subject) or (value is not None and "Invoice.Status" in ast.unparse(value))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Attribute) and target.attr in WRITERS and counts(target.attr, target.value, node.value):
                    yield target.attr, node.lineno
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "transition":  # InvoiceQuerySet.transition(from, to, **fields)
                yield "status", node.lineno
            if name in ("update", "transition"):
                for keyword in node.keywords:
                    if keyword.arg in WRITERS and counts(keyword.arg, node.func, keyword.value):
                        yield keyword.arg, node.lineno
            lists = [keyword.value for keyword in node.keywords if keyword.arg == "update_fields"]
            if name == "bulk_update":
                lists += node.args[1:2] + [keyword.value for keyword in node.keywords if keyword.arg == "fields"]
            for value in lists:
                value = constants.get(value.id, value) if isinstance(value, ast.Name) else value
                for constant in ast.walk(value):
                    if isinstance(constant, ast.Constant) and constant.value in WRITERS and counts(constant.value, node):
                        yield constant.value, node.lineno


def test_status_and_payment_writes_live_in_their_transition_modules():
    found = {field: set() for field in WRITERS}
    strays = []
    for relative, tree in _source_files():
        for field, line in _writes(tree):
            found[field].add(relative)
            if relative not in WRITERS[field]:
                strays.append(f"{relative}:{line} writes {field}")
    assert strays == []
    # The scan sees the writers it allows (else it would prove nothing).
    assert found["status"] >= {"invoices/transitions/finalization.py", "invoices/transitions/voiding.py", "invoices/transitions/deletion.py"}
    assert found["payment_status"] == WRITERS["payment_status"]
    assert found["payment_overdue"] == WRITERS["payment_overdue"]


def test_the_scan_catches_a_stray_write():
    tree = ast.parse(
        "invoice.status = 'draft'\n"
        "Invoice.objects.filter(pk=1).update(payment_status='succeeded')\n"
        "invoice.save(update_fields=['payment_overdue'])\n"
        "applied.status = AppliedCoupon.Status.TERMINATED\n"
        "applied.save(update_fields=['status'])\n"
        "FIELDS = ['status', 'payment_status']\n"
        "bulk_update(invoices, FIELDS)\n"
        "Invoice.objects.filter(pk=1).transition('draft', 'deleted')\n"
    )
    assert sorted(_writes(tree)) == [
        ("payment_overdue", 3), ("payment_status", 2), ("payment_status", 7), ("status", 1), ("status", 7), ("status", 8),
    ]
