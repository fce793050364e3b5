"""The append-only, hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so editing or
deleting any entry breaks every hash after it; the chain head remembers the newest
entry, so deleting from the end is detected too. On PostgreSQL a trigger also refuses
UPDATE and DELETE on the table (migration 0003).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from mediation.models import AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_digest(*, prev_hash, created_at, actor_id, actor_label, action, target_type, target_id, data) -> str:
    payload = _canonical(
        [prev_hash, created_at.isoformat(), actor_id, actor_label, action, target_type, target_id, data]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(*, actor, action: str, target: models.Model, data: dict | None = None) -> AuditEntry:
    """Append one entry. Call inside the transaction that makes the change, so that the
    entry exists exactly when the change does. Appends are serialised by a row lock on
    the chain head."""
    head = hold_chain()
    # Round-trip through JSON so the hashed value is exactly what the database returns.
    stored_data = json.loads(_canonical(data or {}))
    fields = {
        "created_at": timezone.now(),
        "actor_id": actor.pk if actor is not None and actor.pk else None,
        "actor_label": (actor.get_username() if actor is not None and actor.pk else "system"),
        "action": action,
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "data": stored_data,
    }
    entry_hash = entry_digest(prev_hash=head.last_hash, **fields)
    entry = AuditEntry.objects.create(prev_hash=head.last_hash, entry_hash=entry_hash, **fields)
    head.last_hash = entry_hash
    head.last_entry_id = entry.pk
    head.entry_count += 1
    head.save(update_fields=["last_hash", "last_entry_id", "entry_count"])
    return entry


def hold_chain() -> AuditChainHead:
    """Lock the chain's head for the rest of the change's transaction, and return it.

    Audited changes take their locks in one order: the case (and its work order),
    then this head, then rooms. A case's, a session's or a document's change records,
    then posts its room events (from signals, after the record); a change that would
    lock a room before recording calls this first. Two changes taking them in
    different orders can each hold what the other waits for, and PostgreSQL then
    fails one of them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit entries are written inside the change's transaction.")
    AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS_HASH})
    return AuditChainHead.objects.select_for_update().get(pk=1)


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_entry_id: int | None = None
    reason: str = ""


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in order. Returns the first entry whose hash or link does
    not hold, or a mismatch with the chain head (entries missing from the end)."""
    prev_hash = GENESIS_HASH
    checked = 0
    last_id = None
    queryset = AuditEntry.objects.order_by("id")
    for entry in queryset.iterator(chunk_size=batch_size):
        if entry.prev_hash != prev_hash:
            return ChainReport(
                False,
                checked,
                entry.pk,
                "the link to the previous entry is broken (an entry before it was deleted or changed)",
            )
        expected = entry_digest(
            prev_hash=entry.prev_hash,
            created_at=entry.created_at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            data=entry.data,
        )
        if expected != entry.entry_hash:
            return ChainReport(False, checked, entry.pk, "the entry's content does not match its hash (it was edited)")
        prev_hash = entry.entry_hash
        last_id = entry.pk
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if checked:
            return ChainReport(False, checked, last_id, "the chain head is missing")
        return ChainReport(True, 0)
    if head.entry_count != checked or head.last_hash != prev_hash or head.last_entry_id != last_id:
        return ChainReport(
            False,
            checked,
            head.last_entry_id,
            f"the chain head expects {head.entry_count} entries ending at #{head.last_entry_id}; "
            f"found {checked} ending at #{last_id} (entries were deleted from the end)",
        )
    return ChainReport(True, checked)
