"""On PostgreSQL a row trigger refuses UPDATE and DELETE of audit entries.

It does not see TRUNCATE (0009 adds a statement trigger for that), and it stops only
mistakes and the application's own statements: the table's owner can disable it. Nor
did the chain as first written (a plain SHA-256) catch someone with the database's
rights, who could recompute every hash after an edit or delete the newest entries and
roll the head back; since 0009 the hashes are keyed with a key outside the database
and `anchor_audit` records the chain's head outside it, which is what catches them."""

from django.db import migrations

FORBID_CHANGES = """
CREATE OR REPLACE FUNCTION mediation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mediation_auditentry_append_only
    BEFORE UPDATE OR DELETE ON mediation_auditentry
    FOR EACH ROW EXECUTE FUNCTION mediation_audit_append_only();
"""

ALLOW_CHANGES = """
DROP TRIGGER IF EXISTS mediation_auditentry_append_only ON mediation_auditentry;
DROP FUNCTION IF EXISTS mediation_audit_append_only();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds a literal % that must not be read as a placeholder.
        schema_editor.execute(FORBID_CHANGES, params=None)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW_CHANGES, params=None)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0002_roles_policies_calendar")]

    operations = [migrations.RunPython(forbid, allow)]
