"""Storing room messages: the hot path of every room.

A batch of messages (whatever queued while the previous batch was written, see
rooms.writer) is stored in one transaction: membership, open room and mutes are
checked again for every message, retries of a client_id already stored are answered
with the stored message, and the rest get the next sequence numbers of their rooms
and are inserted. Plain SQL rather than the ORM here, and no model instance is built
per message.

On PostgreSQL a batch is two statements: one locks the batch's rooms (`_LOCK_ROOMS`),
the other (`_STORE_BATCH`) decides on each message, numbers and inserts those it may
store and raises the rooms' last_seq. Their texts are the same for every batch, so
that they are prepared and planned once per connection (see `_cursor` and
`_Transaction.begin`), and sent together with BEGIN and COMMIT (see `_Transaction`
and `_together`) a batch costs one round trip to the database, which on a busy machine
waits for the database's process to be scheduled. Elsewhere (SQLite, which serves
`make run` and tests without services) the batch takes a few statements, and Python
decides on each message from what they read (`_store_in_steps`): the same rules, which
the tests check on both.

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
from django.db.models import Q
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


class _Message(NamedTuple):
    """A message of the batch (`index`: its place in the batch), with the parts its
    row and its frame share, encoded once."""

    index: int
    room_id: int
    author_id: int
    client_id: uuid.UUID
    client_id_text: str
    body: str
    body_json: str
    author_json: str


def _distinct_messages(requests: list[PostRequest]) -> tuple[list[_Message], list[tuple[int, int]]]:
    """The batch's messages, each (room, author, client_id) once, and for each repeat
    within the batch (a client resending before its first attempt was answered) its
    index and that of the first."""
    messages: list[_Message] = []
    repeats: list[tuple[int, int]] = []
    first_of: dict[tuple, int] = {}
    for index, request in enumerate(requests):
        key = (request.room_id, request.author.id, request.client_id)
        if key in first_of:
            repeats.append((index, first_of[key]))
            continue
        first_of[key] = index
        messages.append(
            _Message(
                index,
                request.room_id,
                request.author.id,
                request.client_id,
                str(request.client_id),
                request.body,
                encode(request.body),
                _author_json(request.author),
            )
        )
    return messages, repeats


def _stored(message: _Message, seq: int, sent_at: str) -> PostResult:
    return PostResult(
        "stored",
        text=message_frame_text(
            seq=seq,
            author_json=message.author_json,
            body_json=message.body_json,
            sent_at=sent_at,
            client_id=message.client_id_text,
        ),
        seq=seq,
    )


def _refused(code: str) -> PostResult:
    return PostResult("refused", code=code, detail=REFUSAL_DETAILS[code])


def _answer_resent(results: list[PostResult | None], resent: dict[int, int]) -> None:
    """Answer each message the batch resent (`resent`: its place → the id of the entry
    stored for it) with that entry, as a duplicate (the rare path)."""
    if not resent:
        return
    duplicates = {entry.pk: _duplicate_of(entry) for entry in RoomEntry.objects.filter(pk__in=resent.values())}
    for i, stored_id in resent.items():
        results[i] = duplicates[stored_id]


def _answer_refused_retries(messages: list[_Message], decided: list[PostResult]) -> None:
    """A refused message whose client_id is stored already for its author and room is
    the retry of one stored before the refusal began (its author muted since, say, or
    the room closed): it is answered with that entry, as a duplicate, not with a refusal
    of a message everyone has (the rare path: a query only when the batch refused one)."""
    refused = [i for i, result in enumerate(decided) if result.outcome == "refused"]
    if not refused:
        return
    keys = Q()
    for i in refused:
        keys |= Q(room_id=messages[i].room_id, author_id=messages[i].author_id, client_id=messages[i].client_id)
    stored = {(entry.room_id, entry.author_id, entry.client_id): entry for entry in RoomEntry.objects.filter(keys)}
    for i in refused:
        entry = stored.get((messages[i].room_id, messages[i].author_id, messages[i].client_id))
        if entry is not None:
            decided[i] = _duplicate_of(entry)


def _duplicate_of(entry: RoomEntry) -> PostResult:
    """The answer to a message stored before: its entry, as members got it."""
    return PostResult("duplicate", text=encode(entry_frame(entry)), seq=entry.seq)


def _data_json(message: _Message) -> str:
    return '{"author":' + message.author_json + "}"


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
    messages, repeats = _distinct_messages(requests)
    with _Transaction() as storing:
        if connection.vendor == "postgresql":
            decided = _store_in_one_round_trip(storing, messages, look_for_retries=look_for_retries)
        else:
            decided = _store_in_steps(messages, look_for_retries=look_for_retries)
    _answer_refused_retries(messages, decided)
    results: list[PostResult | None] = [None] * len(requests)
    for message, result in zip(messages, decided, strict=True):
        results[message.index] = result
    for index, first in repeats:
        original = results[first]
        results[index] = (
            original if original.outcome == "refused" else PostResult("duplicate", text=original.text, seq=original.seq)
        )
    return results


# -- PostgreSQL: one round trip ------------------------------------------------------

ENTRY_COLUMNS = "room_id, seq, kind, author_id, client_id, body, data, created_at"

# The batch's rooms are locked until commit (their last_seq is raised), in id order so
# that two batches cannot deadlock, by a statement of their own sent just before the
# batch's (one round trip all the same). The batch's statement then starts once the
# rooms are held, and reads what whoever held them last (muting or removing an author,
# closing the room) committed. A lock taken inside it would come too late: a statement
# reads the database as it was when the statement started, only the rows it locks
# excepted, so a message waiting for a room while its author was being muted would be
# stored after the mute. (This relies on READ COMMITTED, PostgreSQL's default and
# Django's, where each statement reads as of its own start.)
_LOCK_ROOMS = """
SELECT count(*) FROM (
    SELECT FROM rooms_room WHERE id IN (SELECT unnest(%(room_ids)s::bigint[])) ORDER BY id FOR UPDATE
) locked
"""

# The batch's messages arrive as one JSON document (`i`: the message's place in it),
# so that the statement's text is the same whatever the batch.
#
# The batch's time (its entries' created_at, and the moment rooms are closed or not at)
# is `batch_time`: the later of the server's time when it sent the batch and the
# database's when the statement started, once the rooms were held. A message that
# waited for its room while the holder recorded an event there thus comes after that
# event in time as it does in seq (the server's time alone would predate the event by
# as long as the wait), and never before the server's clock, which dates room events
# and sets when rooms close: on one host the two clocks are one, on several they agree
# to within what NTP keeps them to.
#
# - room: the batch's rooms (locked above); closed or not at the batch's time.
# - verdict: why each message is refused, if it is (the first of: no such room, not a
#   member, room closed, muted; the rules of rooms.membership), and, in the statement
#   that looks for retries, the entry already stored under its client_id.
# - numbered: the messages to store, each with its entry's id and its room's next seq.
#   Materialized: the ids come from nextval, once per message.
# - inserted, raised: the entries, and each room's last_seq.
#
# The result is one row per message, (i, refusal, stored entry id) or (i, seq, id), and
# one with the batch's time.
# Two statements rather than one with a switch for retries: each is planned once per
# connection (see `_Transaction.begin`), and a plan made while the entries table was
# small keeps scanning it, whether a switch turns the lookup off or not.
_STORE_BATCH = """
WITH clock AS (
    SELECT GREATEST(%(sent_at)s::timestamptz, statement_timestamp()) AS batch_time
), message AS (
    SELECT * FROM json_to_recordset(%(messages)s::json)
        AS message(i int, room_id bigint, author_id bigint, client_id uuid, body text, data jsonb)
), room AS (
    SELECT room.id, room.kind, room.case_id, room.last_seq,
        room.closed_at IS NOT NULL OR COALESCE(room.closes_at <= clock.batch_time, FALSE) AS closed,
        c.mediator_id, c.judge_id
    FROM rooms_room room JOIN mediation_mediationcase c ON c.id = room.case_id CROSS JOIN clock
    WHERE room.id IN (SELECT room_id FROM message)
), verdict AS (
    SELECT message.*, room.last_seq, CASE
        WHEN room.id IS NULL THEN 'no_such_room'
        WHEN NOT (
            room.mediator_id = message.author_id
            OR (room.kind = %(joint)s AND room.judge_id = message.author_id)
            OR EXISTS (
                SELECT FROM mediation_participant p JOIN mediation_party party ON party.id = p.party_id
                WHERE p.case_id = room.case_id AND p.user_id = message.author_id AND p.removed_at IS NULL
                AND (%(side_of_caucus)s::jsonb ->> room.kind IS NULL
                    OR party.side = %(side_of_caucus)s::jsonb ->> room.kind)
            )
        ) THEN 'not_member'
        WHEN room.closed THEN 'room_closed'
        WHEN EXISTS (
            SELECT FROM rooms_roommute mute
            WHERE mute.room_id = room.id AND mute.user_id = message.author_id AND mute.lifted_at IS NULL
        ) THEN 'muted'
    END AS refusal, {stored_id}
    FROM message LEFT JOIN room ON room.id = message.room_id{stored}
), entry_ids AS (
    SELECT pg_get_serial_sequence('rooms_roomentry', 'id')::regclass AS sequence
), numbered AS MATERIALIZED (
    SELECT verdict.*, nextval(entry_ids.sequence) AS id,
        last_seq + row_number() OVER (PARTITION BY room_id ORDER BY i) AS seq
    FROM verdict CROSS JOIN entry_ids
    WHERE refusal IS NULL AND stored_id IS NULL
), inserted AS (
    INSERT INTO rooms_roomentry (id, {entry_columns})
    SELECT id, room_id, seq, %(kind)s, author_id, client_id, body, data, clock.batch_time FROM numbered CROSS JOIN clock
), raised AS (
    UPDATE rooms_room room SET last_seq = newest.seq
    FROM (SELECT room_id, max(seq) AS seq FROM numbered GROUP BY room_id) newest WHERE room.id = newest.room_id
)
SELECT i, refusal, stored_id, NULL::bigint, NULL::bigint, NULL::timestamptz FROM verdict
WHERE refusal IS NOT NULL OR stored_id IS NOT NULL
UNION ALL
SELECT i, NULL, NULL, seq, id, NULL FROM numbered
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, batch_time FROM clock
"""
_STORE_NEW_MESSAGES = _STORE_BATCH.format(entry_columns=ENTRY_COLUMNS, stored_id="NULL::bigint AS stored_id", stored="")
# The whole key of the unique index, (room, author, client_id): with the room alone
# the database would read every entry of the room.
_STORE_LOOKING_FOR_RETRIES = _STORE_BATCH.format(
    entry_columns=ENTRY_COLUMNS,
    stored_id="stored.id AS stored_id",
    stored="""
    LEFT JOIN rooms_roomentry stored ON stored.room_id = message.room_id
        AND stored.author_id = message.author_id AND stored.client_id = message.client_id""",
)


_SIDE_OF_CAUCUS_JSON = encode(SIDE_OF_CAUCUS)


def _store_in_one_round_trip(
    storing: _Transaction, messages: list[_Message], *, look_for_retries: bool
) -> list[PostResult]:
    with connection.wrap_database_errors, _cursor() as control, _cursor() as cursor:
        with _together():
            storing.begin(control)
            control.execute(_LOCK_ROOMS, {"room_ids": _room_ids_array(messages)})
            cursor.execute(
                _STORE_LOOKING_FOR_RETRIES if look_for_retries else _STORE_NEW_MESSAGES,
                {
                    "messages": "[" + ",".join(_message_json(i, message) for i, message in enumerate(messages)) + "]",
                    "sent_at": timezone.now(),
                    "joint": RoomKind.JOINT,
                    "side_of_caucus": _SIDE_OF_CAUCUS_JSON,
                    "kind": RoomEntry.MESSAGE,
                },
            )
            storing.commit(control)
        rows = cursor.fetchall()
    sent_at = next(stored_at for i, *_, stored_at in rows if i is None).isoformat()
    results: list[PostResult | None] = [None] * len(messages)
    resent: dict[int, int] = {}
    for i, refusal, stored_id, seq, _entry_id, _ in rows:
        if i is None:
            continue
        if refusal:
            results[i] = _refused(refusal)
        elif stored_id is not None:
            resent[i] = stored_id
        else:
            results[i] = _stored(messages[i], seq, sent_at)
    _answer_resent(results, resent)
    return results


def _room_ids_array(messages: list[_Message]) -> str:
    return "{" + ",".join(str(room_id) for room_id in {message.room_id for message in messages}) + "}"


def _message_json(i: int, message: _Message) -> str:
    return (
        f'{{"i":{i},"room_id":{message.room_id},"author_id":{message.author_id},'
        f'"client_id":"{message.client_id_text}","body":{message.body_json},"data":{_data_json(message)}}}'
    )


def _cursor():
    """A cursor for the batch's statements on PostgreSQL.

    It is psycopg's own cursor, binding parameters on the server, on a connection that
    prepares each statement the first time it runs: the database parses it once per
    connection rather than once per batch, and plans it once too with the generic plan
    that `_Transaction.begin` asks for (planning the batch's statement costs about as
    much as running it for 30 messages). Django's cursors bind on the client and
    never prepare (Django also turns psycopg's preparing off, for poolers that lose
    prepared statements), so the setting changes nothing for them. It does need a
    direct connection to the database, or a pooler that keeps prepared statements
    (PgBouncer 1.21 and later, with max_prepared_statements set). Use it inside
    `connection.wrap_database_errors`, so that its errors are Django's."""
    connection.ensure_connection()
    connection.connection.prepare_threshold = 0
    return psycopg.Cursor(connection.connection)


class _Transaction:
    """The transaction a batch is stored in.

    On PostgreSQL, unless the caller holds a transaction already, it is begun and
    committed by statements sent with the batch's own (see `_together`). Psycopg
    would otherwise wait for an answer to a BEGIN of its own before sending the
    batch's statement, and the commit would wait for its answer: two round trips more
    per batch. The connection stays in autocommit mode at psycopg's level (as Django
    keeps it outside atomic blocks), so that psycopg adds no BEGIN of its own.

    Either way on PostgreSQL, `begin` has the transaction use the generic plan of the
    batch's statement: otherwise PostgreSQL plans it afresh for every batch, finding a
    plan made for the batch's values cheaper than one made for any values (it is, by
    less than the planning costs). The generic plan is made again when the tables'
    statistics change (ANALYZE, autovacuum).

    Elsewhere, or inside the caller's transaction (a test, a service), it is Django's
    atomic block, and `commit` sends nothing."""

    def __init__(self):
        self.by_hand = False
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
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")

    def commit(self, cursor) -> None:
        """COMMIT, sent with the statements before it; its answer comes with theirs."""
        if self.by_hand:
            cursor.execute("COMMIT")

    def __exit__(self, error_type, error, traceback):
        if self._atomic is not None:
            return self._atomic.__exit__(error_type, error, traceback)
        if error_type is not None:
            # Ends the failed transaction. On a broken connection this fails too, and
            # the writer closes the connection.
            with contextlib.suppress(psycopg.Error):
                connection.connection.execute("ROLLBACK")
        return False


@contextlib.contextmanager
def _together():
    """The statements executed inside this block go to PostgreSQL together, and its
    answers to all of them come back as the block ends: one round trip for the lot
    (fetch the results after the block). Psycopg's pipeline mode sends each statement
    without waiting for the answer to the one before; TCP_CORK holds psycopg's writes,
    one per statement, back until the block ends, so that the database's process is
    woken once rather than once per statement (on a busy machine, a context switch
    each)."""
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


# -- Elsewhere: a few statements, Python decides -------------------------------------


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


def allocate_seq(room_id: int) -> int:
    """Reserve the next sequence number of a room. The UPDATE holds the room row's lock
    until commit, so concurrent writers to the room queue up and a rolled-back
    transaction gives its number back."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rooms_room SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq", [room_id])
        return cursor.fetchone()[0]
