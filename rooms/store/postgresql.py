"""Storing a batch on PostgreSQL: one round trip (see rooms.store).

A batch is two statements: one locks the batch's rooms (`_LOCK_ROOMS`), the other
(`_STORE_BATCH`) decides on each message, numbers and inserts those it may store and
raises the rooms' last_seq. Their texts are the same for every batch, so that they are
prepared and planned once per connection (see `_cursor` and `_Transaction.begin`), and
sent together with BEGIN and COMMIT (see `_Transaction` and `_together`) a batch costs
one round trip to the database, which on a busy machine waits for the database's
process to be scheduled.
"""

from __future__ import annotations

import contextlib
import socket

import psycopg
from django.db import connection, transaction
from django.utils import timezone
from psycopg import pq

from mediation.models import RoomKind
from rooms.membership import SIDE_OF_CAUCUS
from rooms.models import RoomEntry
from rooms.protocol import encode
from rooms.store.messages import (
    ENTRY_COLUMNS,
    PostResult,
    _answer_resent,
    _data_json,
    _Message,
    _refused,
    _stored,
)

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


# The caucus rooms' sides: the joint room (no entry) holds every active participant, a
# third party's (第三人) too; a caucus only its side's, and no caucus is a third party's.
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
