"""The hash-chained audit trail, `verify_audit` and `anchor_audit`: an intact history
verifies, and an edited, deleted, truncated or rewritten one is named, even when the
rewrite was made with the database's own rights."""

import importlib
import io
import itertools
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from mediation import audit, checks
from mediation.audit_anchors import write_anchor
from mediation.audit_keys import signing_key
from mediation.models import AuditChainHead, AuditEntry, WorkOrder
from mediation.services import work_orders as services
from tests.workflows import order_in_state

Status = WorkOrder.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def history(people):
    """A few real actions: two orders taken through several transitions."""
    order_in_state(Status.CLOSED, people)
    order = order_in_state(Status.DISPATCHED, people)
    services.start_work_order(order=order, actor=people["judge"])
    entries = list(AuditEntry.objects.order_by("id"))
    assert len(entries) >= 8
    return entries


def as_attacker():
    """What the audit tables' owner can do: on PostgreSQL, switch off their triggers
    first (inside the test's transaction, so they come back on afterwards); SQLite has
    no trigger to switch off."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE mediation_auditentry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE mediation_auditchainhead DISABLE TRIGGER USER")


def verify_audit_fails():
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=io.StringIO())
    return str(failure.value)


def names_entry(message, entry_id):
    return re.search(rf"entry #{entry_id}\b", message) is not None


def test_an_intact_trail_verifies(history):
    out = io.StringIO()

    call_command("verify_audit", stdout=out)

    assert out.getvalue().strip() == f"Audit trail intact: {len(history)} entries."


def test_every_transition_is_in_the_trail_with_its_actor_and_states(people):
    order = order_in_state(Status.DISPATCHED, people)

    entries = AuditEntry.objects.filter(target_type="mediation.workorder", target_id=str(order.pk)).order_by("id")

    assert [entry.action for entry in entries] == ["work_order.receive", "work_order.dispatch"]
    dispatch = entries.last()
    assert dispatch.actor_id == people["liaison"].pk
    # The trail names the account by its id: its e-mail address is personal data.
    assert dispatch.actor_label == ""
    assert audit.actor_display(dispatch) == str(people["liaison"])
    assert (dispatch.data["from"], dispatch.data["to"]) == ("received", "dispatched")
    assert entries.first().actor_label == "system"


def test_each_entry_links_to_the_one_before_and_the_head_remembers_the_last(history):
    assert history[0].prev_hash == audit.GENESIS_HASH
    for previous, entry in itertools.pairwise(history):
        assert entry.prev_hash == previous.entry_hash
    head = AuditChainHead.objects.get()
    assert (head.last_entry_id, head.last_hash, head.entry_count) == (
        history[-1].pk,
        history[-1].entry_hash,
        len(history),
    )


def test_an_entry_is_written_only_inside_the_changes_transaction(people, monkeypatch):
    order = order_in_state(Status.RECEIVED, people)
    before = AuditEntry.objects.count()
    # pytest-django wraps every test in a transaction; pretend there is none.
    monkeypatch.setattr(audit.transaction, "get_connection", lambda: SimpleNamespace(in_atomic_block=False))

    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        audit.record(actor=None, action="work_order.note", target=order)

    monkeypatch.undo()
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("data", {"from": "received", "to": "closed", "note": "backdated"}),
        ("actor_label", "someone-else@example.test"),
        ("action", "work_order.close"),
        ("target_id", "999999"),
    ],
)
def test_an_edited_entry_is_named_by_verify_audit(history, field, value):
    victim = history[3]
    as_attacker()
    assert AuditEntry.objects.filter(pk=victim.pk).update(**{field: value}) == 1

    message = verify_audit_fails()

    assert names_entry(message, victim.pk)
    assert "edited" in message


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_next_link(history):
    victim, following = history[3], history[4]
    forged = {**victim.data, "note": "never happened"}
    # Even with the key (which the database's users do not have), the next link breaks.
    forged_hash = audit.keyed_digest(
        key=signing_key(),
        prev_hash=victim.prev_hash,
        created_at=victim.created_at,
        actor_id=victim.actor_id,
        actor_label=victim.actor_label,
        action=victim.action,
        target_type=victim.target_type,
        target_id=victim.target_id,
        data=forged,
    )
    as_attacker()
    AuditEntry.objects.filter(pk=victim.pk).update(data=forged, entry_hash=forged_hash)

    message = verify_audit_fails()

    assert names_entry(message, following.pk)
    assert "link" in message


def test_a_deleted_entry_in_the_middle_is_detected_at_the_entry_after_it(history):
    victim, following = history[4], history[5]
    as_attacker()
    AuditEntry.objects.filter(pk=victim.pk).delete()

    message = verify_audit_fails()

    assert names_entry(message, following.pk)
    assert "previous entry" in message


def test_a_deleted_newest_entry_is_detected_by_the_chain_head(history):
    newest = history[-1]
    as_attacker()
    AuditEntry.objects.filter(pk=newest.pk).delete()

    message = verify_audit_fails()

    assert "chain head" in message
    assert f"#{newest.pk}" in message
    assert f"found {len(history) - 1} ending at #{history[-2].pk}" in message


def test_the_trail_keeps_verifying_as_it_grows_after_a_check(history, people):
    call_command("verify_audit", stdout=io.StringIO())
    order_in_state(Status.IN_PROGRESS, people)

    out = io.StringIO()
    call_command("verify_audit", stdout=out)

    assert f"{AuditEntry.objects.count()} entries" in out.getvalue()


# PostgreSQL refuses changes itself --------------------------------------------------


def test_postgresql_refuses_to_update_an_audit_entry(postgres, history):
    victim = history[2]

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=victim.pk).update(data={"tampered": True})

    assert AuditEntry.objects.get(pk=victim.pk).data == victim.data
    call_command("verify_audit", stdout=io.StringIO())


def test_postgresql_refuses_to_delete_an_audit_entry(postgres, history):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=history[-1].pk).delete()

    assert AuditEntry.objects.count() == len(history)
    call_command("verify_audit", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("table", "trigger"),
    [
        ("mediation_auditentry", "mediation_auditentry_append_only"),
        ("mediation_auditentry", "mediation_auditentry_no_truncate"),
        ("mediation_auditchainhead", "mediation_auditchainhead_no_truncate"),
    ],
)
def test_postgresql_triggers_are_installed_on_the_audit_tables(postgres, table, trigger):
    with postgres.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass", [trigger, table]
        )
        assert cursor.fetchone() == ("O",)


@pytest.mark.parametrize(
    "tables", ["mediation_auditentry", "mediation_auditchainhead", "mediation_auditentry, mediation_auditchainhead"]
)
def test_postgresql_refuses_to_truncate_the_audit_trail(postgres, history, tables):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), postgres.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")

    assert AuditEntry.objects.count() == len(history)
    call_command("verify_audit", stdout=io.StringIO())


# The chain is keyed with a key outside the database ---------------------------------


def rewrite_without_the_key(entries, start):
    """What the tables' owner can do without the key: change an entry, then recompute
    every hash from there the only way they can, unkeyed, and move the head along."""
    prev_hash = entries[start - 1].entry_hash if start else audit.GENESIS_HASH
    for entry in entries[start:]:
        entry.prev_hash = prev_hash
        entry.key_id = ""
        entry.entry_hash = audit.unkeyed_digest(**audit._fields_of(entry))
        AuditEntry.objects.filter(pk=entry.pk).update(
            prev_hash=entry.prev_hash, key_id="", entry_hash=entry.entry_hash, data=entry.data
        )
        prev_hash = entry.entry_hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev_hash)


@pytest.mark.parametrize("start", [0, 3], ids=["the-whole-chain", "from-the-edit-on"])
def test_an_edit_with_every_hash_recomputed_without_the_key_is_caught(postgres, history, start):
    victim = history[3]
    victim.data = {**victim.data, "note": "never happened"}
    as_attacker()
    rewrite_without_the_key(history, start)

    message = verify_audit_fails()

    assert names_entry(message, history[-1].pk if start == 0 else victim.pk)
    assert "without the key" in message


def test_an_edit_hashed_with_a_guessed_key_is_named(postgres, history, settings):
    victim = history[3]
    settings.AUDIT_CHAIN_KEY = "a-guess-at-the-key-" * 3
    forged = {**victim.data, "note": "never happened"}
    fields = {**audit._fields_of(victim), "data": forged}
    guessed = audit.keyed_digest(key=signing_key(), **fields)
    settings.AUDIT_CHAIN_KEY = ""
    as_attacker()
    AuditEntry.objects.filter(pk=victim.pk).update(data=forged, entry_hash=guessed)

    message = verify_audit_fails()

    assert names_entry(message, victim.pk)
    assert "edited" in message


def test_new_entries_are_keyed_and_verify(history):
    key = signing_key()

    assert {entry.key_id for entry in history} == {key.key_id}
    for entry in history:
        assert entry.entry_hash != audit.unkeyed_digest(**audit._fields_of(entry))
        assert entry.entry_hash == audit.keyed_digest(key=key, **audit._fields_of(entry))
    call_command("verify_audit", stdout=io.StringIO())


def test_the_key_from_the_environment_keys_new_entries_and_older_keys_keep_verifying(history, people, settings):
    derived = signing_key()
    first, second = "first-audit-key-from-the-environment-0001", "second-audit-key-from-the-environment-02"
    settings.AUDIT_CHAIN_KEY = first
    order_in_state(Status.DISPATCHED, people)
    settings.AUDIT_CHAIN_KEY, settings.AUDIT_CHAIN_RETIRED_KEYS = second, [first]
    order_in_state(Status.DISPATCHED, people)

    key_ids = list(AuditEntry.objects.order_by("id").values_list("key_id", flat=True).distinct())
    assert len(set(key_ids)) == 3
    assert key_ids[0] == derived.key_id
    assert key_ids[-1] == signing_key().key_id != derived.key_id
    call_command("verify_audit", stdout=io.StringIO())

    # Forgetting a retired key leaves its entries unverifiable, and says which key.
    settings.AUDIT_CHAIN_RETIRED_KEYS = []
    message = verify_audit_fails()
    assert "which this server does not have" in message


def unkeyed_entry(prev_hash, target, action):
    fields = {
        "created_at": timezone.now(),
        "actor_id": None,
        "actor_label": "system",
        "action": action,
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "data": {"from": "", "to": "received"},
    }
    entry_hash = audit.unkeyed_digest(prev_hash=prev_hash, **fields)
    return AuditEntry.objects.create(prev_hash=prev_hash, entry_hash=entry_hash, key_id="", **fields)


def test_entries_written_before_the_chain_was_keyed_still_verify(people):
    # A chain as the platform wrote it before migration 0009: plain SHA-256, no key.
    target = people["liaison"]
    assert not AuditEntry.objects.exists()
    prev_hash = audit.GENESIS_HASH
    old = []
    for action in ["work_order.receive", "work_order.dispatch", "work_order.start"]:
        old.append(unkeyed_entry(prev_hash, target, action))
        prev_hash = old[-1].entry_hash
    AuditChainHead.objects.update_or_create(
        pk=1, defaults={"last_hash": prev_hash, "last_entry_id": old[-1].pk, "entry_count": len(old)}
    )

    # Migration 0009 keys the chain from its end on.
    migration = importlib.import_module("mediation.migrations.0009_audit_keyed_anchored")
    migration.key_the_chain(django_apps, SimpleNamespace(connection=connection))
    order_in_state(Status.DISPATCHED, people)

    entries = list(AuditEntry.objects.order_by("id"))
    assert [entry.key_id for entry in entries[:3]] == ["", "", ""]
    assert entries[3].action == "audit.chain_keyed"
    assert entries[3].data == {"unkeyed_entries": 3}
    assert all(entry.key_id == signing_key().key_id for entry in entries[3:])
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"Audit trail intact: {len(entries)} entries." in out.getvalue()


# Anchors outside the database --------------------------------------------------------


def anchor(**options):
    out = io.StringIO()
    call_command("anchor_audit", stdout=out, **options)
    return out.getvalue()


def anchor_files(settings):
    return sorted(Path(settings.AUDIT_ANCHOR_DIR).glob("audit-anchor-*.json"))


def test_anchor_audit_writes_a_signed_checkpoint_of_the_head_that_verify_audit_checks(history, people, settings):
    output = anchor()

    [path] = anchor_files(settings)
    assert str(path) in output
    checkpoint = json.loads(path.read_text())
    head = AuditChainHead.objects.get()
    assert (checkpoint["seq"], checkpoint["entry_id"], checkpoint["entry_hash"]) == (
        len(history),
        head.last_entry_id,
        head.last_hash,
    )
    assert checkpoint["anchored_at"].endswith("+00:00") and checkpoint["signature"]
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"Checked against 1 anchors in {settings.AUDIT_ANCHOR_DIR}" in out.getvalue()

    # Idempotent: nothing new while the head has not moved; a new anchor once it has.
    assert "Unchanged" in anchor()
    assert len(anchor_files(settings)) == 1
    order_in_state(Status.DISPATCHED, people)
    anchor()
    assert len(anchor_files(settings)) == 2
    call_command("verify_audit", stdout=io.StringIO())


def test_an_emptied_trail_is_broken_when_an_anchor_says_it_had_entries(postgres, history):
    anchor()
    as_attacker()
    with postgres.cursor() as cursor:
        cursor.execute("TRUNCATE mediation_auditentry, mediation_auditchainhead")

    message = verify_audit_fails()

    assert f"records {len(history)} entries" in message
    assert "the chain has only 0" in message


def test_deleting_the_newest_entries_and_rolling_the_head_back_is_caught_by_an_anchor(postgres, history, people):
    anchor()
    kept = history[-4]
    as_attacker()
    AuditEntry.objects.filter(pk__gt=kept.pk).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_entry_id=kept.pk, last_hash=kept.entry_hash, entry_count=len(history) - 3
    )

    message = verify_audit_fails()
    assert f"records {len(history)} entries ending at #{history[-1].pk}" in message
    assert f"the chain has only {len(history) - 3}" in message

    # New entries after the rollback do not hide it: the anchored entry is another one.
    order_in_state(Status.IN_PROGRESS, people)
    assert AuditEntry.objects.count() >= len(history)
    message = verify_audit_fails()
    assert "differs from anchor" in message


def test_a_rewrite_before_an_anchor_with_the_key_is_caught_by_the_anchor(postgres, history):
    # Whoever holds the key could rewrite the chain; an anchor of the old head still
    # says it was rewritten (once the anchors are kept where they cannot write).
    anchor()
    victim = history[2]
    victim.data = {**victim.data, "note": "never happened"}
    as_attacker()
    key, prev_hash = signing_key(), victim.prev_hash
    for entry in history[2:]:
        entry.prev_hash = prev_hash
        entry.entry_hash = audit.keyed_digest(key=key, **audit._fields_of(entry))
        AuditEntry.objects.filter(pk=entry.pk).update(
            prev_hash=entry.prev_hash, entry_hash=entry.entry_hash, data=entry.data
        )
        prev_hash = entry.entry_hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev_hash)

    message = verify_audit_fails()

    assert names_entry(message, history[-1].pk)
    assert "differs from anchor" in message


@pytest.mark.parametrize(
    "tamper",
    [
        lambda checkpoint: checkpoint.update(seq=checkpoint["seq"] - 1),
        lambda checkpoint: checkpoint.update(entry_hash="f" * 64),
        lambda checkpoint: checkpoint.update(anchored_at="2020-01-01T00:00:00+00:00"),
    ],
    ids=["seq", "hash", "time"],
)
def test_a_tampered_anchor_file_is_reported(history, settings, tamper):
    anchor()
    [path] = anchor_files(settings)
    checkpoint = json.loads(path.read_text())
    tamper(checkpoint)
    path.write_text(json.dumps(checkpoint))

    message = verify_audit_fails()

    assert f"anchor file {path.name} is not genuine" in message
    assert "signature does not match" in message


def test_an_anchor_signed_with_another_key_is_reported(history, settings):
    settings.AUDIT_CHAIN_KEY = "someone-elses-key-" * 3
    head = AuditChainHead.objects.get()
    path = write_anchor(seq=head.entry_count, entry_id=head.last_entry_id, entry_hash=head.last_hash)
    settings.AUDIT_CHAIN_KEY = ""

    message = verify_audit_fails()

    assert f"anchor file {path.name} is not genuine" in message
    assert "which this server does not have" in message


def test_anchor_audit_refuses_to_anchor_a_broken_chain(history, settings):
    as_attacker()
    AuditEntry.objects.filter(pk=history[3].pk).update(data={"tampered": True})

    with pytest.raises(CommandError, match=rf"Not anchored\. Audit trail broken at entry #{history[3].pk}"):
        anchor()

    assert anchor_files(settings) == []


def test_an_entry_added_beyond_the_chain_head_is_named(history):
    newest = history[-1]
    fields = {**audit._fields_of(newest), "prev_hash": newest.entry_hash, "action": "work_order.close"}
    as_attacker()
    added = AuditEntry.objects.create(
        entry_hash=audit.keyed_digest(key=signing_key(), **fields), key_id=signing_key().key_id, **fields
    )

    message = verify_audit_fails()

    assert names_entry(message, added.pk)
    assert "beyond the chain head" in message


def test_verify_audit_checks_a_copy_of_the_anchors_kept_elsewhere(history, tmp_path, settings):
    anchor()
    copy = tmp_path / "off-host-copy"
    copy.mkdir()
    for path in anchor_files(settings):
        (copy / path.name).write_bytes(path.read_bytes())
        path.unlink()  # the attacker also deleted the anchors on this host
    as_attacker()
    AuditEntry.objects.filter(pk=history[-1].pk).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_entry_id=history[-2].pk, last_hash=history[-2].entry_hash, entry_count=len(history) - 1
    )
    call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())

    with pytest.raises(CommandError, match=f"records {len(history)} entries"):
        call_command("verify_audit", anchors=str(copy), stdout=io.StringIO())


# Deployment checks --------------------------------------------------------------------


def test_check_deploy_warns_while_the_audit_key_is_derived_from_the_secret_key(settings):
    settings.AUDIT_CHAIN_KEY = ""
    assert [warning.id for warning in checks.check_audit_chain_key(None)] == ["mediation.W001"]

    settings.AUDIT_CHAIN_KEY = "short"
    assert [warning.id for warning in checks.check_audit_chain_key(None)] == ["mediation.W002"]

    settings.AUDIT_CHAIN_KEY = "k" * 40
    assert checks.check_audit_chain_key(None) == []
