"""Storing room messages: the hot path of every room.

A batch of messages (whatever queued while the previous batch was written, see
rooms.writer) is stored in one transaction: membership, open room and mutes are
checked again for every message, retries of a client_id already stored are answered
with the stored message, and the rest get the next sequence numbers of their rooms
and are inserted. Plain SQL rather than the ORM here: a batch is half a dozen
statements whatever its size, and no model instance is built per message.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from mediation.models import RoomKind
from rooms.membership import Member
from rooms.models import RoomEntry
from rooms.protocol import entry_frame, message_frame

REFUSAL_DETAILS = {
    "no_such_room": gettext_lazy("This room does not exist."),
    "not_member": gettext_lazy("You are not a member of this room."),
    "room_closed": gettext_lazy("This room is closed to new messages."),
    "muted": gettext_lazy("The mediator has muted you in this room."),
}
SIDE_OF_CAUCUS = {RoomKind.CAUCUS_PLAINTIFF: "plaintiff", RoomKind.CAUCUS_DEFENDANT: "defendant"}


@dataclass(frozen=True)
class PostRequest:
    room_id: int
    author: Member
    client_id: uuid.UUID
    body: str


@dataclass
class PostResult:
    """`stored` (new) or `duplicate` (this client_id was stored before), each with the
    message's frame and seq; or `refused` (`code` says why; nothing stored)."""

    outcome: str
    frame: dict | None = None
    seq: int = 0
    code: str = ""
    detail: object = ""


def author_snapshot(member: Member) -> dict:
    """The author as they were when they wrote, kept with the message."""
    return {"id": member.id, "name": member.name, "role": member.role, "side": member.side}


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _aware(moment):
    if moment is None or (isinstance(moment, dt.datetime) and timezone.is_aware(moment)):
        return moment
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return timezone.make_aware(moment, dt.UTC)


def _rooms(cursor, room_ids: list[int]) -> dict[int, tuple]:
    cursor.execute(
        "SELECT room.id, room.kind, room.closed_at, room.closes_at, room.case_id, c.mediator_id, c.judge_id "
        "FROM rooms_room room JOIN mediation_mediationcase c ON c.id = room.case_id "
        f"WHERE room.id IN ({_placeholders(room_ids)})",
        room_ids,
    )
    return {row[0]: row[1:] for row in cursor.fetchall()}


def _verdicts(cursor, requests: list[PostRequest], rooms: dict[int, tuple]) -> dict[tuple[int, int], str | None]:
    """For each (room, author): None if they may post now, else the refusal code."""
    case_ids = sorted({room[3] for room in rooms.values()})
    author_ids = sorted({request.author.id for request in requests})
    sides = defaultdict(set)
    muted = set()
    if case_ids:
        cursor.execute(
            "SELECT p.case_id, p.user_id, party.side FROM mediation_participant p "
            "JOIN mediation_party party ON party.id = p.party_id "
            f"WHERE p.removed_at IS NULL AND p.case_id IN ({_placeholders(case_ids)}) "
            f"AND p.user_id IN ({_placeholders(author_ids)})",
            [*case_ids, *author_ids],
        )
        for case_id, user_id, side in cursor.fetchall():
            sides[(case_id, user_id)].add(side)
        room_ids = sorted(rooms)
        cursor.execute(
            "SELECT room_id, user_id FROM rooms_roommute WHERE lifted_at IS NULL "
            f"AND room_id IN ({_placeholders(room_ids)}) AND user_id IN ({_placeholders(author_ids)})",
            [*room_ids, *author_ids],
        )
        muted = set(cursor.fetchall())
    now = timezone.now()
    verdicts = {}
    for request in requests:
        key = (request.room_id, request.author.id)
        if key in verdicts:
            continue
        room = rooms.get(request.room_id)
        if room is None:
            verdicts[key] = "no_such_room"
            continue
        kind, closed_at, closes_at, case_id, mediator_id, judge_id = room
        user_id = request.author.id
        participant_sides = sides.get((case_id, user_id), set())
        caucus_side = SIDE_OF_CAUCUS.get(kind)
        is_member = (
            mediator_id == user_id
            or (kind == RoomKind.JOINT and judge_id == user_id)
            or (bool(participant_sides) if caucus_side is None else caucus_side in participant_sides)
        )
        closes_at = _aware(closes_at)
        if not is_member:
            verdicts[key] = "not_member"
        elif closed_at is not None or (closes_at is not None and closes_at <= now):
            verdicts[key] = "room_closed"
        elif key in muted:
            verdicts[key] = "muted"
        else:
            verdicts[key] = None
    return verdicts


def _stored_before(cursor, requests: list[PostRequest], indexes: list[int]) -> dict[tuple, RoomEntry]:
    """Messages already stored under these client_ids (a retry). Looked up by the
    whole key of the unique index, (room, author, client_id): with the room alone the
    database reads every entry of the room, more with every message."""
    if not indexes:
        return {}
    client_id_field = RoomEntry._meta.get_field("client_id")
    keys = {(requests[i].room_id, requests[i].author.id, requests[i].client_id) for i in indexes}
    cursor.execute(
        "SELECT id FROM rooms_roomentry WHERE (room_id, author_id, client_id) IN ("
        + ", ".join(["(%s, %s, %s)"] * len(keys))
        + ")",
        [
            value
            for room_id, author_id, client_id in keys
            for value in (room_id, author_id, client_id_field.get_db_prep_value(client_id, connection))
        ],
    )
    found = [entry_id for (entry_id,) in cursor.fetchall()]
    if not found:
        return {}
    # The rare path: a client resent a message that was stored.
    entries = RoomEntry.objects.filter(id__in=found)
    return {(entry.room_id, entry.author_id, entry.client_id): entry for entry in entries}


def _allocate_one(cursor, room_id: int, count: int) -> int:
    cursor.execute("UPDATE rooms_room SET last_seq = last_seq + %s WHERE id = %s RETURNING last_seq", [count, room_id])
    return cursor.fetchone()[0]


def allocate_seqs(counts: dict[int, int]) -> dict[int, int]:
    """Reserve sequence numbers in rooms (room → how many); returns each room's last.
    The UPDATE holds the room rows' locks until commit, so concurrent writers to a
    room queue up and a rolled-back transaction gives its numbers back. Rows are
    locked in id order first, so that two batches cannot deadlock."""
    room_ids = sorted(counts)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(room_ids) <= 1:
            return {room_id: _allocate_one(cursor, room_id, counts[room_id]) for room_id in room_ids}
        cursor.execute(
            f"SELECT id FROM rooms_room WHERE id IN ({_placeholders(room_ids)}) ORDER BY id FOR UPDATE", room_ids
        )
        rows = ", ".join(["(%s, %s)"] * len(room_ids))
        cursor.execute(
            "UPDATE rooms_room AS room SET last_seq = room.last_seq + batch.n "
            f"FROM (VALUES {rows}) AS batch(id, n) WHERE room.id = batch.id RETURNING room.id, room.last_seq",
            [value for room_id in room_ids for value in (room_id, counts[room_id])],
        )
        return dict(cursor.fetchall())


def _insert(cursor, rows: list[tuple]) -> dict[tuple[int, int], int]:
    """Insert entries; returns their ids by (room, seq)."""
    client_id_field = RoomEntry._meta.get_field("client_id")
    created_field = RoomEntry._meta.get_field("created_at")
    values = []
    for room_id, seq, author_id, client_id, body, data, created_at in rows:
        values += [
            room_id,
            seq,
            RoomEntry.MESSAGE,
            author_id,
            client_id_field.get_db_prep_value(client_id, connection),
            body,
            json.dumps(data, ensure_ascii=False),
            created_field.get_db_prep_value(created_at, connection),
        ]
    cursor.execute(
        "INSERT INTO rooms_roomentry (room_id, seq, kind, author_id, client_id, body, data, created_at) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        + " RETURNING room_id, seq, id",
        values,
    )
    # Matched by (room, seq): neither database promises the order of RETURNING rows.
    return {(room_id, seq): entry_id for room_id, seq, entry_id in cursor.fetchall()}


@transaction.atomic
def store_messages(requests: list[PostRequest]) -> list[PostResult]:
    """Store a batch of messages in one transaction (group commit) and return one
    result per request, in order. A client_id already stored for its author and
    room is not stored again: the stored message is returned as a duplicate."""
    results: list[PostResult | None] = [None] * len(requests)
    with connection.cursor() as cursor:
        rooms = _rooms(cursor, sorted({request.room_id for request in requests}))
        verdicts = _verdicts(cursor, requests, rooms)
        candidates = []
        for index, request in enumerate(requests):
            refusal = verdicts[(request.room_id, request.author.id)]
            if refusal:
                results[index] = PostResult("refused", code=refusal, detail=REFUSAL_DETAILS[refusal])
            else:
                candidates.append(index)
        existing = _stored_before(cursor, requests, candidates)
    new_by_room: dict[int, list[int]] = defaultdict(list)
    claimed: dict[tuple, int] = {}
    retries_in_batch: list[tuple[int, int]] = []
    for index in candidates:
        request = requests[index]
        key = (request.room_id, request.author.id, request.client_id)
        if key in existing:
            entry = existing[key]
            results[index] = PostResult("duplicate", frame=entry_frame(entry), seq=entry.seq)
        elif key in claimed:
            # The same message twice in one batch: the second is the retry.
            retries_in_batch.append((index, claimed[key]))
        else:
            claimed[key] = index
            new_by_room[request.room_id].append(index)
    if new_by_room:
        now = timezone.now()
        last_seqs = allocate_seqs({room_id: len(indexes) for room_id, indexes in new_by_room.items()})
        order, rows = [], []
        for room_id in sorted(new_by_room):
            indexes = new_by_room[room_id]
            first = last_seqs[room_id] - len(indexes) + 1
            for offset, index in enumerate(indexes):
                request = requests[index]
                author = author_snapshot(request.author)
                order.append((index, room_id, first + offset, author))
                rows.append(
                    (
                        room_id,
                        first + offset,
                        request.author.id,
                        request.client_id,
                        request.body,
                        {"author": author},
                        now,
                    )
                )
        with connection.cursor() as cursor:
            ids = _insert(cursor, rows)
        for index, room_id, seq, author in order:
            request = requests[index]
            frame = message_frame(
                entry_id=ids[(room_id, seq)],
                seq=seq,
                author=author,
                body=request.body,
                sent_at=now,
                client_id=request.client_id,
            )
            results[index] = PostResult("stored", frame=frame, seq=seq)
    for index, first in retries_in_batch:
        results[index] = PostResult("duplicate", frame=results[first].frame, seq=results[first].seq)
    return results
