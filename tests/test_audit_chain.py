"""The audit log as a hash chain: every entry carries a gapless seq, the previous hash and its own;
verify_audit_log recomputes it and reports altered and removed rows; concurrent writers do not fork it."""
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from audit import log as audit_log
from audit.actors import Actor
from audit.chain import GENESIS, entry_hash
from audit.models import AuditLogEntry, AuditVerification
from audit.verification import last_verification
from invoices.transitions.finalization import finalize_invoice

from . import factories as f

TRIGGER = "audit_auditlogentry_append_only"


def some_entries(n=5):
    invoices = [f.invoice(fees=[(1, 100 * (i + 1))]) for i in range(n)]
    for invoice in invoices:
        finalize_invoice(invoice.pk, Actor.system())
    return invoices


def run_verify():
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def raw(sql, params=()):
    """Tamper with the table as a database superuser would: the append-only trigger off for this one statement."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own INSERTs left deferred FK checks pending; ALTER TABLE wants none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE audit_auditlogentry DISABLE TRIGGER {TRIGGER}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE audit_auditlogentry ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.mark.django_db
def test_entries_are_chained_in_order_with_a_gapless_seq():
    some_entries(3)
    entries = list(AuditLogEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS
    for previous, entry in zip(entries, entries[1:]):
        assert entry.prev_hash == previous.hash
    assert all(entry_hash(e) == e.hash for e in entries)


@pytest.mark.django_db
def test_record_many_chains_a_batch_in_list_order(operator):
    invoices = [f.invoice(fees=[(1, 100)]) for _ in range(3)]
    with transaction.atomic():
        audit_log.record_many([audit_log.entry("invoice.touched", Actor.operator(operator), invoice=i, obj=i) for i in invoices])
    entries = list(AuditLogEntry.objects.filter(action="invoice.touched").order_by("seq"))
    assert [e.invoice_id for e in entries] == [i.pk for i in invoices]
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash


@pytest.mark.django_db
def test_entries_snapshot_the_customer():
    invoice = some_entries(1)[0]
    entry = AuditLogEntry.objects.get(action="invoice.finalized")
    assert entry.customer_id == invoice.customer_id
    assert entry.customer_external_id == invoice.customer.external_id and entry.customer_name == invoice.customer.name


@pytest.mark.django_db
def test_a_clean_chain_verifies_and_the_run_is_recorded():
    assert last_verification() is None
    some_entries(4)
    code, out, _ = run_verify()
    head = AuditLogEntry.objects.order_by("-seq").first()
    assert code == 0
    assert f"OK: {AuditLogEntry.objects.count()} entries, head hash {head.hash}" in out
    run = last_verification()
    assert run.ok and run.entries_checked == AuditLogEntry.objects.count() and run.first_broken_seq is None
    assert run.head_hash == head.hash


@pytest.mark.django_db
def test_an_empty_log_verifies():
    code, out, _ = run_verify()
    assert code == 0 and "OK: 0 entries" in out


@pytest.mark.django_db
def test_deleting_a_middle_entry_is_a_gap():
    some_entries(3)
    middle = AuditLogEntry.objects.get(seq=2)
    raw("DELETE FROM audit_auditlogentry WHERE id = %s", [middle.pk.hex if connection.vendor == "sqlite" else middle.pk])
    code, _, err = run_verify()
    assert code == 1
    assert "seq 3" in err and "gap: seq 2 missing" in err
    run = last_verification()
    assert not run.ok and run.first_broken_seq == 3


@pytest.mark.django_db
def test_deleting_the_last_entry_leaves_the_head_ahead():
    some_entries(2)
    last = AuditLogEntry.objects.order_by("-seq").first()
    raw("DELETE FROM audit_auditlogentry WHERE id = %s", [last.pk.hex if connection.vendor == "sqlite" else last.pk])
    code, _, err = run_verify()
    assert code == 1 and "the chain head is at seq" in err


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_trigger_still_refuses_updates_of_chained_entries():
    some_entries(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditlogentry SET action = 'forged'")


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_altering_an_entry_behind_the_triggers_back_is_reported():
    some_entries(3)
    target = AuditLogEntry.objects.get(seq=2)
    raw("UPDATE audit_auditlogentry SET after = jsonb_set(after, '{total_amount_cents}', '1') WHERE id = %s", [target.pk])
    code, _, err = run_verify()
    assert code == 1
    assert f"seq 2 (entry {target.pk}): hash mismatch" in err
    assert last_verification().first_broken_seq == 2


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_rehashing_an_altered_entry_breaks_the_next_link():
    some_entries(3)
    target = AuditLogEntry.objects.get(seq=2)
    target.actor_label = "someone-else"
    raw("UPDATE audit_auditlogentry SET actor_label = %s, hash = %s WHERE id = %s", ["someone-else", entry_hash(target), target.pk])
    code, _, err = run_verify()
    assert code == 1 and "seq 3" in err and "prev_hash does not match" in err


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_produce_a_gapless_chain():
    threads_n, per_thread = 4, 10
    barrier = threading.Barrier(threads_n)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_log.record("bench.concurrent", Actor.system(), after={"thread": n, "i": i})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(AuditLogEntry.objects.values_list("seq", flat=True)) == list(range(1, threads_n * per_thread + 1))
    code, out, _ = run_verify()
    assert code == 0 and f"OK: {threads_n * per_thread} entries" in out
    assert AuditVerification.objects.count() == 1
