"""The PostgreSQL trigger that refuses what `Invoice.save()` refuses, for every UPDATE (raw SQL included).

The SQL is generated from data, so the trigger and the model share one table: the migrations pass
a snapshot of `Invoice.STATUS_TRANSITIONS` and the columns of `Invoice.FROZEN_FIELDS`, and
`tests/test_invoice_transitions.py` asserts the snapshot in the latest migration equals the model's
(change the table, add a migration). Elsewhere (SQLite) the migration does nothing: `save()` and the
checked bulk writes are the guard there.
"""

INVOICE_TABLE = "invoices_invoice"
INVOICE_FUNCTION = "invoices_invoice_guard"


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def invoice_guard_sql(transitions: dict, frozen_columns: list[str], draft: str = "draft", *, bypass: str = "") -> str:
    """CREATE the BEFORE UPDATE trigger on invoices: status changes only along `transitions`;
    `frozen_columns` do not change once the stored status is not `draft`.

    `bypass`, a SQL condition on OLD/NEW, lets an UPDATE through unchecked (upstream mode's mirror
    writes: upstream/migrations/0002_mirror_write_bypass.py); empty, nothing is let through."""
    pairs = ", ".join(
        f"({_literal(source)}, {_literal(target)})" for source in sorted(transitions) for target in sorted(transitions[source])
    )
    frozen = "\n".join(
        f"        IF NEW.{column} IS DISTINCT FROM OLD.{column} THEN changed := changed || {_literal(column)}::text; END IF;"
        for column in frozen_columns
    )
    return f"""
CREATE OR REPLACE FUNCTION {INVOICE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $guard$
DECLARE
    changed text[] := ARRAY[]::text[];
BEGIN
{f"    IF {bypass} THEN RETURN NEW; END IF;" if bypass else ""}
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN ({pairs}) THEN
        RAISE EXCEPTION 'Invoice % (%): status % -> % is not an allowed transition', OLD.number, OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'raise_exception', HINT = 'See Invoice.STATUS_TRANSITIONS.';
    END IF;
    IF OLD.status <> {_literal(draft)} THEN
{frozen}
        IF cardinality(changed) > 0 THEN
            RAISE EXCEPTION 'Invoice % is %: % can no longer change', OLD.number, OLD.status, array_to_string(changed, ', ')
                USING ERRCODE = 'raise_exception';
        END IF;
    END IF;
    RETURN NEW;
END
$guard$;
DROP TRIGGER IF EXISTS {INVOICE_FUNCTION} ON {INVOICE_TABLE};
CREATE TRIGGER {INVOICE_FUNCTION} BEFORE UPDATE ON {INVOICE_TABLE} FOR EACH ROW EXECUTE FUNCTION {INVOICE_FUNCTION}();
"""


DROP_INVOICE_GUARD_SQL = f"""
DROP TRIGGER IF EXISTS {INVOICE_FUNCTION} ON {INVOICE_TABLE};
DROP FUNCTION IF EXISTS {INVOICE_FUNCTION}();
"""


def on_postgresql(sql: str):
    """A RunPython function that runs `sql` on PostgreSQL and does nothing elsewhere."""
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no client-side interpolation: the SQL holds plpgsql's %
    return run
