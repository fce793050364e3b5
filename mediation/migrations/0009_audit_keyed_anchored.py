"""The audit chain is keyed from here on, and PostgreSQL refuses TRUNCATE of its tables.

- `key_id` on each entry names the key of its HMAC (mediation.audit_keys); the entries
  before this migration keep an empty `key_id` and their plain SHA-256, and still
  verify.
- A chain that already has entries gets one keyed entry now (`audit.chain_keyed`), so
  that its newest entry is keyed from this moment: a chain whose newest entry is not
  keyed was then rewritten by someone without the key.
- A statement trigger refuses TRUNCATE of the entries and of the head (0003's row
  triggers never see a TRUNCATE). The test suite empties every table between
  transactional tests with TRUNCATE, so the trigger lets a transaction through that
  has set `mediation.allow_audit_truncate` to `on` (SET LOCAL; tests/conftest.py).
  Any role may set such a setting, and the tables' owner may drop the trigger anyway:
  like 0003's, it stops mistakes and the application's own statements, not the owner.
  What catches the owner are the key outside the database and the anchors outside it
  (`anchor_audit`, `verify_audit`).

There is no going back: without `key_id` the keyed entries could no longer be verified.
"""

import json

from django.db import migrations, models
from django.utils import timezone

TRUNCATE_SETTING = "mediation.allow_audit_truncate"

FORBID_TRUNCATE = f"""
CREATE OR REPLACE FUNCTION mediation_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('{TRUNCATE_SETTING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only (TRUNCATE of % refused)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mediation_auditentry_no_truncate
    BEFORE TRUNCATE ON mediation_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION mediation_audit_no_truncate();
CREATE TRIGGER mediation_auditchainhead_no_truncate
    BEFORE TRUNCATE ON mediation_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION mediation_audit_no_truncate();
"""

ALLOW_TRUNCATE = """
DROP TRIGGER IF EXISTS mediation_auditentry_no_truncate ON mediation_auditentry;
DROP TRIGGER IF EXISTS mediation_auditchainhead_no_truncate ON mediation_auditchainhead;
DROP FUNCTION IF EXISTS mediation_audit_no_truncate();
"""


def forbid_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds a literal % that must not be read as a placeholder.
        schema_editor.execute(FORBID_TRUNCATE, params=None)


def allow_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW_TRUNCATE, params=None)


def key_the_chain(apps, schema_editor):
    """Append one keyed entry to a chain of unkeyed entries, as mediation.audit.record
    would (the same fields, hash and head update)."""
    from mediation.audit import keyed_digest
    from mediation.audit_keys import signing_key

    AuditEntry = apps.get_model("mediation", "AuditEntry")
    AuditChainHead = apps.get_model("mediation", "AuditChainHead")
    using = schema_editor.connection.alias
    head = AuditChainHead.objects.using(using).select_for_update().filter(pk=1).first()
    if head is None or not head.entry_count or AuditEntry.objects.using(using).exclude(key_id="").exists():
        return
    key = signing_key()
    fields = {
        "created_at": timezone.now(),
        "actor_id": None,
        "actor_label": "system",
        "action": "audit.chain_keyed",
        "target_type": "mediation.auditchainhead",
        "target_id": "1",
        "data": json.loads(json.dumps({"unkeyed_entries": head.entry_count})),
    }
    entry_hash = keyed_digest(key=key, prev_hash=head.last_hash, **fields)
    entry = AuditEntry.objects.using(using).create(
        prev_hash=head.last_hash, entry_hash=entry_hash, key_id=key.key_id, **fields
    )
    head.last_hash = entry_hash
    head.last_entry_id = entry.pk
    head.entry_count += 1
    head.save(update_fields=["last_hash", "last_entry_id", "entry_count"])


class Migration(migrations.Migration):
    dependencies = [("mediation", "0008_figures_tally")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(key_the_chain),
        migrations.RunPython(forbid_truncate, allow_truncate),
    ]
