"""Storing a batch elsewhere (SQLite): a few statements, and Python decides on each
message from what they read, by the same rules as the PostgreSQL statement (see
rooms.store)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from mediation.models import RoomKind
from rooms.membership import SIDE_OF_CAUCUS
from rooms.models import RoomEntry
from rooms.store.messages import (
    ENTRY_COLUMNS,
    PostResult,
    _answer_resent,
    _data_json,
    _Message,
    _refused,
    _stored,
)


class _Room(NamedTuple):
    kind: str
    closed: bool
    mediator_id: int | None
    judge_id: int | None
    last_seq: int


@dataclass
class _Facts:
    rooms: dict[int, _Room]
    sides: dict[tuple[int, int], set[str]]
    muted: set[tuple[int, int]]
    stored_ids: dict[tuple, int]


def _store_in_steps(messages: list[_Message], *, look_for_retries: bool) -> list[PostResult]:
    """The batch stored in the caller's transaction, which holds the database's one
    write lock from its start (SQLite's transaction_mode IMMEDIATE, see settings)."""
    now = timezone.now()
    facts = _read_facts(messages, now, look_for_retries=look_for_retries)
    verdicts = _verdicts(messages, facts)
    results: list[PostResult | None] = [None] * len(messages)
    to_store: dict[int, list[int]] = defaultdict(list)
    resent: dict[int, int] = {}
    for i, message in enumerate(messages):
        refusal = verdicts[(message.room_id, message.author_id)]
        stored_id = facts.stored_ids.get((message.room_id, message.author_id, message.client_id))
        if refusal:
            results[i] = _refused(refusal)
        elif stored_id is not None:
            resent[i] = stored_id
        else:
            to_store[message.room_id].append(i)
    numbered = [
        (i, seq)
        for room_id in sorted(to_store)
        for seq, i in enumerate(to_store[room_id], start=facts.rooms[room_id].last_seq + 1)
    ]
    if numbered:
        _insert(messages, numbered, now)
        sent_at = now.isoformat()
        for i, seq in numbered:
            results[i] = _stored(messages[i], seq, sent_at)
    _answer_resent(results, resent)
    return results


def _read_facts(messages: list[_Message], now, *, look_for_retries: bool) -> _Facts:
    """What deciding on the batch needs: the rooms (closed or not at `now`, with their
    last_seq), the sides the authors take part on in each room's case, their mutes, and
    (when looking for retries) the entries already stored under their client_ids."""
    room_ids = sorted({message.room_id for message in messages})
    author_ids = sorted({message.author_id for message in messages})
    rooms_in, users_in = _placeholders(room_ids), _placeholders(author_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT room.id, room.kind, "
            "room.closed_at IS NOT NULL OR COALESCE(room.closes_at <= %s, FALSE), "
            "c.mediator_id, c.judge_id, room.last_seq "
            "FROM rooms_room room JOIN mediation_mediationcase c ON c.id = room.case_id "
            f"WHERE room.id IN ({rooms_in})",
            [connection.ops.adapt_datetimefield_value(now), *room_ids],
        )
        rooms = {room_id: _Room(*rest) for room_id, *rest in cursor.fetchall()}
        cursor.execute(
            "SELECT room.id, p.user_id, party.side FROM rooms_room room "
            "JOIN mediation_participant p ON p.case_id = room.case_id "
            "JOIN mediation_party party ON party.id = p.party_id "
            f"WHERE p.removed_at IS NULL AND room.id IN ({rooms_in}) AND p.user_id IN ({users_in})",
            [*room_ids, *author_ids],
        )
        sides = defaultdict(set)
        for room_id, user_id, side in cursor.fetchall():
            sides[(room_id, user_id)].add(side)
        cursor.execute(
            "SELECT room_id, user_id FROM rooms_roommute "
            f"WHERE lifted_at IS NULL AND room_id IN ({rooms_in}) AND user_id IN ({users_in})",
            [*room_ids, *author_ids],
        )
        muted = set(cursor.fetchall())
        stored_ids = {}
        if look_for_retries:
            # The whole key of the unique index, (room, author, client_id): with the
            # room alone the database would read every entry of the room.
            client_id_field = RoomEntry._meta.get_field("client_id")
            cursor.execute(
                "SELECT id, room_id, author_id, client_id FROM rooms_roomentry "
                "WHERE (room_id, author_id, client_id) IN (" + ", ".join(["(%s, %s, %s)"] * len(messages)) + ")",
                [
                    value
                    for message in messages
                    for value in (
                        message.room_id,
                        message.author_id,
                        client_id_field.get_db_prep_value(message.client_id, connection),
                    )
                ],
            )
            for entry_id, room_id, author_id, client_id in cursor.fetchall():
                stored_ids[(room_id, author_id, client_id_field.to_python(client_id))] = entry_id
    return _Facts(rooms=rooms, sides=sides, muted=muted, stored_ids=stored_ids)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _verdicts(messages: list[_Message], facts: _Facts) -> dict[tuple[int, int], str | None]:
    """For each (room, author): None if they may post now, else the refusal code."""
    verdicts = {}
    for message in messages:
        key = (message.room_id, message.author_id)
        if key in verdicts:
            continue
        room = facts.rooms.get(message.room_id)
        if room is None:
            verdicts[key] = "no_such_room"
            continue
        user_id = message.author_id
        participant_sides = facts.sides.get(key, set())
        caucus_side = SIDE_OF_CAUCUS.get(room.kind)
        # The joint room holds every active participant, a third party's (第三人) too;
        # a caucus its own side's only, and no caucus is a third party's.
        is_member = (
            room.mediator_id == user_id
            or (room.kind == RoomKind.JOINT and room.judge_id == user_id)
            or (bool(participant_sides) if caucus_side is None else caucus_side in participant_sides)
        )
        if not is_member:
            verdicts[key] = "not_member"
        elif room.closed:
            verdicts[key] = "room_closed"
        elif key in facts.muted:
            verdicts[key] = "muted"
        else:
            verdicts[key] = None
    return verdicts


def _insert(messages: list[_Message], numbered: list[tuple[int, int]], created_at) -> None:
    """Insert the entries of `numbered` ((i, seq): `messages[i]` gets seq) and raise
    their rooms' last_seq."""
    last_seqs: dict[int, int] = {}
    for i, seq in numbered:
        last_seqs[messages[i].room_id] = max(seq, last_seqs.get(messages[i].room_id, 0))
    client_id_field = RoomEntry._meta.get_field("client_id")
    created = RoomEntry._meta.get_field("created_at").get_db_prep_value(created_at, connection)
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE rooms_room SET last_seq = %s WHERE id = %s",
            [(last_seq, room_id) for room_id, last_seq in sorted(last_seqs.items())],
        )
        cursor.execute(
            f"INSERT INTO rooms_roomentry ({ENTRY_COLUMNS}) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(numbered)),
            [
                value
                for i, seq in numbered
                for value in (
                    messages[i].room_id,
                    seq,
                    RoomEntry.MESSAGE,
                    messages[i].author_id,
                    client_id_field.get_db_prep_value(messages[i].client_id, connection),
                    messages[i].body,
                    _data_json(messages[i]),
                    created,
                )
            ],
        )
