"""The hash-chained audit trail and `verify_audit`: an intact history verifies, and
an edited, deleted or truncated one is named."""

import io
import itertools
import re
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from mediation import audit
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
    """What someone with the database's superuser rights can do: on PostgreSQL, switch
    off the append-only trigger first (inside the test's transaction, so it comes back
    on afterwards); SQLite has no trigger to switch off."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE mediation_auditentry DISABLE TRIGGER mediation_auditentry_append_only")


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
    assert dispatch.actor_label == people["liaison"].email
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
    forged_hash = audit.entry_digest(
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


def test_postgresql_trigger_is_installed_on_the_audit_table(postgres):
    with postgres.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'mediation_auditentry_append_only' "
            "AND tgrelid = 'mediation_auditentry'::regclass"
        )
        assert cursor.fetchone() == ("O",)
