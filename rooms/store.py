"""Storing room messages: the hot path of every room.

A batch of messages (whatever queued while the previous batch was written, see
rooms.writer) is stored in one transaction: membership, open room and mutes are
checked again for every message, retries of a client_id already stored are answered
with the stored message, and the rest get the next sequence numbers of their rooms
and are inserted. Plain SQL rather than the ORM here: a batch is half a dozen
statements whatever its size, and no model instance is built per message. On
PostgreSQL each statement's text is the same for every batch, so it is prepared once
per connection (see `_cursor`), and the statements that do not depend on one another
go out together (see `_together` and `_Transaction`): a batch costs two round trips to
the database (BEGIN and what to decide on, with the rooms locked; the new entries, the
rooms' sequence and COMMIT), which on a busy machine each wait for the database
process to be scheduled.

Retries are rare (a client resends only what was not acknowledged before it lost its
connection), so a batch is first stored without looking for them: the unique index on
(room, author, client_id) refuses a retry, and only then is the batch stored again,
in a new transaction, looking each client_id up first.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

import psycopg
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from psycopg import pq

from mediation.models import RoomKind
from rooms.membership import SIDE_OF_CAUCUS, Member
from rooms.models import RoomEntry
from rooms.protocol import encode, entry_frame, message_frame_text

REFUSAL_DETAILS = {
    "no_such_room": gettext_lazy("This room does not exist."),
    "not_member": gettext_lazy("You are not a member of this room."),
    "room_closed": gettext_lazy("This room is closed to new messages."),
    "muted": gettext_lazy("The mediator has muted you in this room."),
}


@dataclass(frozen=True)
class PostRequest:
    room_id: int
    author: Member
    client_id: uuid.UUID
    body: str


@dataclass
class PostResult:
    """`stored` (new) or `duplicate` (this client_id was stored before), each with the
    message's frame (`text`, as clients get it) and seq; or `refused` (`code` says why;
    nothing stored). The writer answers `unavailable` for a message the database could
    not take (nothing stored)."""

    outcome: str
    text: str = ""
    seq: int = 0
    code: str = ""
    detail: object = ""


def author_snapshot(member: Member) -> dict:
    """The author as they were when they wrote, kept with the message."""
    return {"id": member.id, "name": member.name, "role": member.role, "side": member.side}


@functools.lru_cache(maxsize=4096)
def _author_json(member: Member) -> str:
    """`author_snapshot` encoded, once per member rather than once per message."""
    return encode(author_snapshot(member))


class _NewEntry(NamedTuple):
    """A message about to be stored, with the parts its row and its frame share,
    encoded once."""

    index: int
    room_id: int
    seq: int
    author_id: int
    client_id: uuid.UUID
    client_id_text: str
    body: str
    body_json: str
    author_json: str


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _bigint_array(values) -> str:
    """PostgreSQL's text for an array of integers. psycopg dumps a list element by
    element in Python, which costs more than the statement it goes with."""
    return "{" + ",".join(map(str, values)) + "}"


def _one_of(column: str, values) -> tuple[str, list]:
    """`column` (an integer) is one of `values`: on PostgreSQL one array parameter, so
    that the statement's text is the same whatever the batch (see `_cursor`); elsewhere
    a list of placeholders."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [_bigint_array(values)]
    return f"{column} IN ({_placeholders(values)})", list(values)


def _cursor():
    """A cursor for the statements of this module, whose text is the same whatever the
    batch (see `_one_of`).

    On PostgreSQL it is psycopg's own cursor, binding parameters on the server, on a
    connection that prepares each statement the first time it runs: the database then
    plans it once per connection rather than once per batch (planning these small joins
    costs several times running them). Django's cursors bind on the client and never
    prepare (Django also turns psycopg's preparing off, for poolers that lose prepared
    statements), so the setting changes nothing for them. It does need a direct
    connection to the database, or a pooler that keeps prepared statements (PgBouncer
    1.21 and later, with max_prepared_statements set).

    Elsewhere it is Django's cursor. Every use is inside
    `connection.wrap_database_errors`, so errors are Django's either way."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        connection.connection.prepare_threshold = 0
        return psycopg.Cursor(connection.connection)
    return connection.cursor()


class _Transaction:
    """The transaction a batch is stored in.

    On PostgreSQL, unless the caller holds a transaction already, it is begun and
    committed by statements sent with the batch's own (see `_together`): BEGIN with
    those that read what to decide on, COMMIT with those that insert the entries.
    Psycopg would otherwise wait for an answer to a BEGIN of its own before sending
    anything else, and the commit would wait for the inserts' answers: two round trips
    more per batch. The connection stays in autocommit mode at psycopg's level (as
    Django keeps it outside atomic blocks), so that psycopg adds no BEGIN of its own.

    Elsewhere, or inside the caller's transaction (a test, a service), it is Django's
    atomic block, and `begin` and `commit` send nothing."""

    def __init__(self):
        self.by_hand = False
        self._committed = False
        self._atomic = None

    def __enter__(self):
        if connection.vendor == "postgresql" and not connection.in_atomic_block and connection.get_autocommit():
            connection.ensure_connection()
            self.by_hand = True
        else:
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
        return self

    def begin(self, cursor) -> None:
        if self.by_hand:
            cursor.execute("BEGIN")

    def commit(self, cursor) -> None:
        """COMMIT, sent with the statements before it; its answer comes with theirs."""
        if self.by_hand:
            cursor.execute("COMMIT")
            self._committed = True

    def __exit__(self, error_type, error, traceback):
        if self._atomic is not None:
            return self._atomic.__exit__(error_type, error, traceback)
        if error_type is None and not self._committed:
            # Nothing was inserted (every message refused or a duplicate).
            with connection.wrap_database_errors:
                connection.connection.execute("COMMIT")
        elif error_type is not None:
            # Ends the failed transaction. On a broken connection this fails too, and
            # the writer closes the connection.
            with contextlib.suppress(psycopg.Error):
                connection.connection.execute("ROLLBACK")
        return False


@contextlib.contextmanager
def _together():
    """On PostgreSQL, the statements executed inside this block go to the database
    together, and its answers to all of them come back as the block ends: one round
    trip for the lot (fetch the results after the block). Psycopg's pipeline mode sends
    each statement without waiting for the answer to the one before; TCP_CORK holds
    psycopg's writes, one per statement, back until the block ends, so that the
    database's process is woken once rather than once per statement (on a busy
    machine, a context switch each). Elsewhere it changes nothing: each statement runs
    as it is executed."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.connection.pipeline():
        corked = _tcp_socket() if _may_cork() else None
        if corked is None:
            yield
            return
        try:
            corked.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            yield
        finally:
            try:
                corked.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            finally:
                corked.detach()


def _may_cork() -> bool:
    """Whether nothing inside a `_together` block waits for the database: at the
    start of a transaction of its own (Django's atomic block, outside autocommit),
    psycopg sends BEGIN and waits for its answer, which a corked socket would hold
    back for 200 ms."""
    psycopg_connection = connection.connection
    return hasattr(socket, "TCP_CORK") and (
        psycopg_connection.autocommit or psycopg_connection.pgconn.transaction_status != pq.TransactionStatus.IDLE
    )


def _tcp_socket() -> socket.socket | None:
    """The PostgreSQL connection's socket, if it is TCP, wrapping psycopg's file
    descriptor (detach it after use: psycopg owns it)."""
    wrapped = socket.socket(fileno=connection.connection.pgconn.socket)
    if wrapped.family in (socket.AF_INET, socket.AF_INET6):
        return wrapped
    wrapped.detach()
    return None


# The rooms of a batch are locked while it is decided on and stored: their last_seq,
# read with the facts, is raised by the same transaction. In id order, so that two
# batches cannot deadlock. SQLite needs no lock: its transactions take the database's
# one write lock when they begin (transaction_mode IMMEDIATE, see settings).
_LOCK_ROOMS = " ORDER BY room.id FOR UPDATE OF room"


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
    stored_ids: list[int]


def _read_facts(requests: list[PostRequest], now, storing: _Transaction, *, look_for_retries: bool) -> _Facts:
    """What deciding on the batch needs, read in one round trip: the rooms (closed or
    not at `now`, with their last_seq, locked: see _LOCK_ROOMS), the sides the authors
    take part on in each room's case, their mutes, and (when looking for retries) the
    entries already stored under their client_ids. That lookup uses the whole key of
    the unique index, (room, author, client_id): with the room alone the database would
    read every entry of the room."""
    room_ids = sorted({request.room_id for request in requests})
    author_ids = sorted({request.author.id for request in requests})
    room_is, room_params = _one_of("room.id", room_ids)
    user_is, user_params = _one_of("p.user_id", author_ids)
    mute_room_is, mute_room_params = _one_of("room_id", room_ids)
    mute_user_is, mute_user_params = _one_of("user_id", author_ids)
    with (
        connection.wrap_database_errors,
        _cursor() as rooms_cursor,
        _cursor() as sides_cursor,
        _cursor() as mutes_cursor,
        _cursor() as stored_cursor,
    ):
        with _together():
            storing.begin(rooms_cursor)
            rooms_cursor.execute(
                "SELECT room.id, room.kind, "
                "room.closed_at IS NOT NULL OR COALESCE(room.closes_at <= %s, FALSE), "
                "c.mediator_id, c.judge_id, room.last_seq "
                "FROM rooms_room room JOIN mediation_mediationcase c ON c.id = room.case_id "
                f"WHERE {room_is}" + (_LOCK_ROOMS if connection.vendor == "postgresql" else ""),
                [connection.ops.adapt_datetimefield_value(now), *room_params],
            )
            sides_cursor.execute(
                "SELECT room.id, p.user_id, party.side FROM rooms_room room "
                "JOIN mediation_participant p ON p.case_id = room.case_id "
                "JOIN mediation_party party ON party.id = p.party_id "
                f"WHERE p.removed_at IS NULL AND {room_is} AND {user_is}",
                [*room_params, *user_params],
            )
            mutes_cursor.execute(
                "SELECT room_id, user_id FROM rooms_roommute "
                f"WHERE lifted_at IS NULL AND {mute_room_is} AND {mute_user_is}",
                [*mute_room_params, *mute_user_params],
            )
            if look_for_retries:
                client_id_field = RoomEntry._meta.get_field("client_id")
                keys = {(request.room_id, request.author.id, request.client_id) for request in requests}
                stored_cursor.execute(
                    "SELECT id FROM rooms_roomentry WHERE (room_id, author_id, client_id) IN ("
                    + ", ".join(["(%s, %s, %s)"] * len(keys))
                    + ")",
                    [
                        value
                        for room_id, author_id, client_id in keys
                        for value in (room_id, author_id, client_id_field.get_db_prep_value(client_id, connection))
                    ],
                )
        rooms = {room_id: _Room(*rest) for room_id, *rest in rooms_cursor.fetchall()}
        sides = defaultdict(set)
        for room_id, user_id, side in sides_cursor.fetchall():
            sides[(room_id, user_id)].add(side)
        muted = set(mutes_cursor.fetchall())
        stored_ids = [entry_id for (entry_id,) in stored_cursor.fetchall()] if look_for_retries else []
    return _Facts(rooms=rooms, sides=sides, muted=muted, stored_ids=stored_ids)


def _verdicts(requests: list[PostRequest], facts: _Facts) -> dict[tuple[int, int], str | None]:
    """For each (room, author): None if they may post now, else the refusal code."""
    verdicts = {}
    for request in requests:
        key = (request.room_id, request.author.id)
        if key in verdicts:
            continue
        room = facts.rooms.get(request.room_id)
        if room is None:
            verdicts[key] = "no_such_room"
            continue
        user_id = request.author.id
        participant_sides = facts.sides.get(key, set())
        caucus_side = SIDE_OF_CAUCUS.get(room.kind)
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


def _stored_entries(entry_ids: list[int]) -> dict[tuple, RoomEntry]:
    if not entry_ids:
        return {}
    # The rare path: a client resent a message that was stored.
    entries = RoomEntry.objects.filter(id__in=entry_ids)
    return {(entry.room_id, entry.author_id, entry.client_id): entry for entry in entries}


def allocate_seq(room_id: int) -> int:
    """Reserve the next sequence number of a room. The UPDATE holds the room row's lock
    until commit, so concurrent writers to the room queue up and a rolled-back
    transaction gives its number back."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rooms_room SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq", [room_id])
        return cursor.fetchone()[0]


ENTRY_COLUMNS = "room_id, seq, kind, author_id, client_id, body, data, created_at"


def _insert(
    entries: list[_NewEntry], last_seqs: dict[int, int], created_at, storing: _Transaction
) -> dict[tuple[int, int], int]:
    """Insert message entries and set their rooms' last_seq; returns the entries' ids
    by (room, seq). On PostgreSQL both statements go out together, with the COMMIT of
    a transaction begun by hand (see `_Transaction`), and the rows travel as one JSON
    document, so that the statement's text is the same for every batch and
    is prepared (see `_cursor`): a list of placeholders per row would make each batch
    size a statement of its own, planned afresh."""
    room_ids = sorted(last_seqs)
    with connection.wrap_database_errors, _cursor() as rooms_cursor, _cursor() as cursor:
        if connection.vendor == "postgresql":
            with _together():
                rooms_cursor.execute(
                    "UPDATE rooms_room AS room SET last_seq = batch.last_seq "
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS batch(id, last_seq) WHERE room.id = batch.id",
                    [_bigint_array(room_ids), _bigint_array(last_seqs[room_id] for room_id in room_ids)],
                )
                cursor.execute(
                    f"INSERT INTO rooms_roomentry ({ENTRY_COLUMNS}) "
                    "SELECT entry.room_id, entry.seq, %s, entry.author_id, entry.client_id, entry.body, entry.data, %s "
                    "FROM json_to_recordset(%s::json) AS entry("
                    "room_id bigint, seq bigint, author_id bigint, client_id uuid, body text, data jsonb) "
                    "RETURNING room_id, seq, id",
                    [RoomEntry.MESSAGE, created_at, "[" + ",".join(map(_row_json, entries)) + "]"],
                )
                storing.commit(rooms_cursor)
        else:
            rooms_cursor.executemany(
                "UPDATE rooms_room SET last_seq = %s WHERE id = %s",
                [(last_seqs[room_id], room_id) for room_id in room_ids],
            )
            client_id_field = RoomEntry._meta.get_field("client_id")
            created = RoomEntry._meta.get_field("created_at").get_db_prep_value(created_at, connection)
            cursor.execute(
                f"INSERT INTO rooms_roomentry ({ENTRY_COLUMNS}) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(entries))
                + " RETURNING room_id, seq, id",
                [
                    value
                    for entry in entries
                    for value in (
                        entry.room_id,
                        entry.seq,
                        RoomEntry.MESSAGE,
                        entry.author_id,
                        client_id_field.get_db_prep_value(entry.client_id, connection),
                        entry.body,
                        _data_json(entry),
                        created,
                    )
                ],
            )
        # Matched by (room, seq): neither database promises the order of RETURNING rows.
        return {(room_id, seq): entry_id for room_id, seq, entry_id in cursor.fetchall()}


def _data_json(entry: _NewEntry) -> str:
    return '{"author":' + entry.author_json + "}"


def _row_json(entry: _NewEntry) -> str:
    return (
        f'{{"room_id":{entry.room_id},"seq":{entry.seq},"author_id":{entry.author_id},'
        f'"client_id":"{entry.client_id_text}","body":{entry.body_json},"data":{_data_json(entry)}}}'
    )


def store_messages(requests: list[PostRequest]) -> list[PostResult]:
    """Store a batch of messages in one transaction (group commit) and return one
    result per request, in order. A client_id already stored for its author and
    room is not stored again: the stored message is returned as a duplicate."""
    try:
        return _store(requests, look_for_retries=False)
    except IntegrityError:
        # A retry of a stored message (or the same message stored by another process
        # meanwhile): nothing of the first attempt was kept.
        return _store(requests, look_for_retries=True)


def _store(requests: list[PostRequest], *, look_for_retries: bool) -> list[PostResult]:
    with _Transaction() as storing:
        return _store_in(storing, requests, look_for_retries=look_for_retries)


def _store_in(storing: _Transaction, requests: list[PostRequest], *, look_for_retries: bool) -> list[PostResult]:
    results: list[PostResult | None] = [None] * len(requests)
    now = timezone.now()
    facts = _read_facts(requests, now, storing, look_for_retries=look_for_retries)
    verdicts = _verdicts(requests, facts)
    candidates = []
    for index, request in enumerate(requests):
        refusal = verdicts[(request.room_id, request.author.id)]
        if refusal:
            results[index] = PostResult("refused", code=refusal, detail=REFUSAL_DETAILS[refusal])
        else:
            candidates.append(index)
    existing = _stored_entries(facts.stored_ids)
    new_by_room: dict[int, list[int]] = defaultdict(list)
    claimed: dict[tuple, int] = {}
    retries_in_batch: list[tuple[int, int]] = []
    for index in candidates:
        request = requests[index]
        key = (request.room_id, request.author.id, request.client_id)
        if key in existing:
            entry = existing[key]
            results[index] = PostResult("duplicate", text=encode(entry_frame(entry)), seq=entry.seq)
        elif key in claimed:
            # The same message twice in one batch: the second is the retry.
            retries_in_batch.append((index, claimed[key]))
        else:
            claimed[key] = index
            new_by_room[request.room_id].append(index)
    if new_by_room:
        last_seqs = {room_id: facts.rooms[room_id].last_seq + len(indexes) for room_id, indexes in new_by_room.items()}
        entries = [
            _NewEntry(
                index,
                room_id,
                seq,
                requests[index].author.id,
                requests[index].client_id,
                str(requests[index].client_id),
                requests[index].body,
                encode(requests[index].body),
                _author_json(requests[index].author),
            )
            for room_id in sorted(new_by_room)
            for seq, index in enumerate(new_by_room[room_id], start=facts.rooms[room_id].last_seq + 1)
        ]
        ids = _insert(entries, last_seqs, now, storing)
        sent_at = now.isoformat()
        for entry in entries:
            text = message_frame_text(
                entry_id=ids[(entry.room_id, entry.seq)],
                seq=entry.seq,
                author_json=entry.author_json,
                body_json=entry.body_json,
                sent_at=sent_at,
                client_id=entry.client_id_text,
            )
            results[entry.index] = PostResult("stored", text=text, seq=entry.seq)
    for index, first in retries_in_batch:
        results[index] = PostResult("duplicate", text=results[first].text, seq=results[first].seq)
    return results
