"""On PostgreSQL the database itself refuses to change or delete audit entries. The
hash chain still detects changes made by someone who can drop the trigger."""

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
