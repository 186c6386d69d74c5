"""Chain the entries written before the chain existed, in the order they were written (created_at, id).

On PostgreSQL the append-only trigger refuses UPDATE; its function now lets through exactly one kind:
an entry not yet chained (OLD.hash IS NULL) getting its seq, prev_hash, hash and customer snapshot,
every other column unchanged. Everything else is still refused, raw SQL included.
"""
import uuid

from django.db import migrations

from audit.chain import GENESIS, chain_in_order

GUARD_SQL = """
CREATE OR REPLACE FUNCTION audit_auditlogentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.created_at, NEW.action, NEW.source, NEW.user_id, NEW.api_key_name, NEW.actor_label,
            NEW.invoice_id, NEW.invoice_number, NEW.object_type, NEW.object_id, NEW.before::text, NEW.after::text)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.created_at, OLD.action, OLD.source, OLD.user_id, OLD.api_key_name, OLD.actor_label,
            OLD.invoice_id, OLD.invoice_number, OLD.object_type, OLD.object_id, OLD.before::text, OLD.after::text)
    THEN
        RETURN NEW;  -- chaining an entry written before the chain existed
    END IF;
    RAISE EXCEPTION 'The audit log is append-only: % of entry % refused', TG_OP, OLD.id USING ERRCODE = 'raise_exception';
END
$guard$;
"""

STRICT_SQL = """
CREATE OR REPLACE FUNCTION audit_auditlogentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: % of entry % refused', TG_OP, OLD.id USING ERRCODE = 'raise_exception';
END
$guard$;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


def _uuid(value):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def chain_existing(apps, schema_editor):
    Entry = apps.get_model("audit", "AuditLogEntry")
    Head = apps.get_model("audit", "AuditChainHead")
    Invoice = apps.get_model("invoices", "Invoice")
    Customer = apps.get_model("customers", "Customer")
    db = schema_editor.connection.alias
    last = Entry.objects.using(db).filter(seq__isnull=False).order_by("-seq").first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    unchained = Entry.objects.using(db).filter(hash__isnull=True).order_by("created_at", "id")
    batch = []

    def flush():
        nonlocal seq, prev
        invoice_customers = dict(Invoice.objects.using(db).filter(pk__in={e.invoice_id for e in batch if e.invoice_id}).values_list("pk", "customer_id"))
        for e in batch:
            if e.invoice_id:
                e.customer_id = invoice_customers.get(e.invoice_id)
            elif e.object_type == "customers.customer" and e.object_id:
                e.customer_id = _uuid(e.object_id)
        names = {pk: (x, n) for pk, x, n in Customer.objects.using(db).filter(pk__in={e.customer_id for e in batch if e.customer_id}).values_list("pk", "external_id", "name")}
        for e in batch:
            e.customer_external_id, e.customer_name = names.get(e.customer_id, ("", ""))
            if e.customer_id not in names:
                e.customer_id = None
        seq, prev = chain_in_order(batch, seq, prev)
        Entry.objects.using(db).bulk_update(batch, ["customer", "customer_external_id", "customer_name", "seq", "prev_hash", "hash"])
        batch.clear()

    for e in unchained.iterator(chunk_size=2000):
        batch.append(e)
        if len(batch) == 2000:
            flush()
    if batch:
        flush()
    Head.objects.using(db).update_or_create(pk=1, defaults={"seq": seq, "hash": prev if seq else ""})


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_chain_and_customer"),
        ("invoices", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(GUARD_SQL), _on_postgresql(STRICT_SQL), elidable=False),
        migrations.RunPython(chain_existing, migrations.RunPython.noop, elidable=False),
    ]
