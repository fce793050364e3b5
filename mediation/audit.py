"""The append-only, hash-chained audit trail.

Each entry's hash covers its own fields and the previous entry's hash, so editing or
deleting any entry breaks every hash after it; the chain head remembers the newest
entry, so deleting from the end is detected too. The hash is an HMAC under a key kept
outside the database (mediation.audit_keys), so someone who can write the table cannot
recompute the hashes after an edit; and signed anchors outside the database
(mediation.audit_anchors) record how long the chain was, so someone with the
database's own rights cannot delete its newest entries, roll the head back or empty
it unnoticed. On PostgreSQL triggers also refuse UPDATE, DELETE and TRUNCATE on the
table (migrations 0003 and 0009): a guard against mistakes and against the
application's own role, not against the tables' owner, who can switch them off; the
key and the anchors are what catch the owner.

Entries written before the chain was keyed (an empty `key_id`) keep their plain
SHA-256 and still verify; after the first keyed entry every entry must be keyed, and
migration 0009 appended a keyed entry to every chain that had unkeyed ones, so a
chain whose newest entry is unkeyed was rewritten by someone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone

from mediation.audit_anchors import Anchor, load_anchors
from mediation.audit_keys import ChainKey, signing_key, verifying_key
from mediation.models import AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64
# The setting a transaction sets (SET LOCAL ... = 'on') to empty the audit tables with
# TRUNCATE on PostgreSQL: the test suite's flush between tests, nothing in production
# (migration 0009 says why it is no protection against the tables' owner).
TRUNCATE_SETTING = "mediation.allow_audit_truncate"
# The version of the keyed payload, hashed with it so that a later format can never
# produce the same bytes as this one.
KEYED_FORMAT = "mediation-audit/2"


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def unkeyed_digest(*, prev_hash, created_at, actor_id, actor_label, action, target_type, target_id, data) -> str:
    """The hash of an entry written before the chain was keyed (plain SHA-256)."""
    payload = _canonical(
        [prev_hash, created_at.isoformat(), actor_id, actor_label, action, target_type, target_id, data]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def keyed_digest(
    *, key: ChainKey, prev_hash, created_at, actor_id, actor_label, action, target_type, target_id, data
) -> str:
    """The hash of a keyed entry: an HMAC under `key` of its fields, its key's id and
    the previous entry's hash."""
    payload = _canonical(
        [
            KEYED_FORMAT,
            key.key_id,
            prev_hash,
            created_at.isoformat(),
            actor_id,
            actor_label,
            action,
            target_type,
            target_id,
            data,
        ]
    )
    return key.sign(payload.encode("utf-8"))


def _fields_of(entry: AuditEntry) -> dict:
    return {
        "prev_hash": entry.prev_hash,
        "created_at": entry.created_at,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "data": entry.data,
    }


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
        # An account may have no address (a party with only a mobile number).
        "actor_label": ((actor.get_username() or f"user-{actor.pk}") if actor is not None and actor.pk else "system"),
        "action": action,
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "data": stored_data,
    }
    key = signing_key()
    entry_hash = keyed_digest(key=key, prev_hash=head.last_hash, **fields)
    entry = AuditEntry.objects.create(prev_hash=head.last_hash, entry_hash=entry_hash, key_id=key.key_id, **fields)
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
    # The genuine anchors the chain was checked against, oldest first.
    anchors: list[Anchor] = field(default_factory=list)
    # The end of the verified chain: what an anchor of it records.
    last_entry_id: int | None = None
    last_hash: str = GENESIS_HASH


def _entry_problem(entry: AuditEntry, prev_hash: str, keyed_before: bool) -> str:
    """Why this entry does not hold in the chain after `prev_hash`, or ""."""
    if entry.prev_hash != prev_hash:
        return "the link to the previous entry is broken (an entry before it was deleted or changed)"
    if not entry.key_id:
        if keyed_before:
            return (
                "the entry is not keyed although entries before it are "
                "(the history from here was rewritten by someone without the key)"
            )
        expected = unkeyed_digest(**_fields_of(entry))
    else:
        key = verifying_key(entry.key_id)
        if key is None:
            return (
                f"the entry is keyed with {entry.key_id}, which this server does not have "
                "(set AUDIT_CHAIN_KEY, or list the key in AUDIT_CHAIN_RETIRED_KEYS)"
            )
        expected = keyed_digest(key=key, **_fields_of(entry))
    if not hmac.compare_digest(expected, entry.entry_hash):
        return "the entry's content does not match its hash (it was edited)"
    return ""


def _anchor_label(anchor: Anchor) -> str:
    return f"anchor {anchor.name} ({anchor.anchored_at.isoformat()})"


def verify_chain(*, anchor_dir=None, batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in order and check the chain against the chain head and
    every anchor in `anchor_dir` (default `AUDIT_ANCHOR_DIR`). Returns the first
    problem: an anchor file that is not genuine, an entry whose hash, key or link does
    not hold, an entry that differs from an anchor, or a chain shorter than the head
    or an anchor says it was (entries deleted from the end, or the trail emptied).

    Takes no lock: the chain is read up to the head as it was when the check began,
    so entries appended meanwhile are left for the next check."""
    anchors, problems = load_anchors(anchor_dir)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return ChainReport(
            False, 0, None, f"anchor file {problems[0].name} is not genuine: {problems[0].reason}{more}", anchors
        )
    # The head before the entries: an append commits its entry and the head together,
    # so the entries up to this head form the chain it describes.
    head = AuditChainHead.objects.filter(pk=1).first()
    entries = AuditEntry.objects.order_by("id")
    if head is not None and head.last_entry_id is not None:
        entries = entries.filter(id__lte=head.last_entry_id)

    prev_hash, checked, last_id, keyed = GENESIS_HASH, 0, None, False
    to_match = list(anchors)

    def broken(entry_id, reason):
        return ChainReport(False, checked, entry_id, reason, anchors, last_id, prev_hash)

    for entry in entries.iterator(chunk_size=batch_size):
        problem = _entry_problem(entry, prev_hash, keyed)
        if problem:
            return broken(entry.pk, problem)
        keyed = keyed or bool(entry.key_id)
        prev_hash, last_id = entry.entry_hash, entry.pk
        checked += 1
        while to_match and to_match[0].seq == checked:
            anchor = to_match.pop(0)
            if (anchor.entry_id, anchor.entry_hash) != (entry.pk, entry.entry_hash):
                return broken(
                    entry.pk,
                    f"entry {checked} of the chain differs from {_anchor_label(anchor)}, which recorded "
                    f"#{anchor.entry_id} with another hash (the history up to it was rewritten)",
                )

    if head is None:
        if checked:
            return broken(last_id, "the chain head is missing")
    elif head.entry_count != checked or head.last_hash != prev_hash or head.last_entry_id != last_id:
        return broken(
            head.last_entry_id,
            f"the chain head expects {head.entry_count} entries ending at #{head.last_entry_id}; "
            f"found {checked} ending at #{last_id} (entries were deleted from the end)",
        )
    elif last_id is not None:
        beyond = AuditEntry.objects.filter(id__gt=last_id).order_by("id").first()
        still = AuditChainHead.objects.filter(pk=1).values_list("last_entry_id", flat=True).first()
        # Beyond an unmoved head: written around the platform, which moves the head with every entry.
        if beyond is not None and still == last_id:
            return broken(beyond.pk, "the entry is beyond the chain head (it was added outside the platform)")
    if to_match:
        anchor = to_match[-1]
        return broken(
            anchor.entry_id,
            f"{_anchor_label(anchor)} records {anchor.seq} entries ending at #{anchor.entry_id}, "
            f"but the chain has only {checked} (entries were deleted from the end, or the trail was emptied)",
        )
    if checked and not keyed:
        return broken(
            last_id,
            "no entry is keyed, yet the newest must be since the chain was keyed "
            "(the history was rewritten by someone without the key)",
        )
    return ChainReport(True, checked, None, "", anchors, last_id, prev_hash)
