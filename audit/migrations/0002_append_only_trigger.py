"""On PostgreSQL, a trigger refuses UPDATE and DELETE of audit entries, raw SQL included (a no-op elsewhere).

The model already refuses both; this makes the database say so too. TRUNCATE (the test runner's
flush) fires no row trigger.
"""
from django.db import migrations

GUARD_SQL = """
CREATE OR REPLACE FUNCTION audit_auditlogentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: % of entry % refused', TG_OP, OLD.id USING ERRCODE = 'raise_exception';
END
$guard$;
DROP TRIGGER IF EXISTS audit_auditlogentry_append_only ON audit_auditlogentry;
CREATE TRIGGER audit_auditlogentry_append_only BEFORE UPDATE OR DELETE ON audit_auditlogentry
    FOR EACH ROW EXECUTE FUNCTION audit_auditlogentry_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS audit_auditlogentry_append_only ON audit_auditlogentry;
DROP FUNCTION IF EXISTS audit_auditlogentry_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no client-side interpolation: the SQL holds plpgsql's %
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(GUARD_SQL), _on_postgresql(DROP_SQL), elidable=False),
    ]
