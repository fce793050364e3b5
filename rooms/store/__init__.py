"""Storing room messages: the hot path of every room.

A batch of messages (whatever queued while the previous batch was written, see
rooms.writer) is stored in one transaction: membership, open room and mutes are
checked again for every message, retries of a client_id already stored are answered
with the stored message, and the rest get the next sequence numbers of their rooms
and are inserted. Plain SQL rather than the ORM here, and no model instance is built
per message.

Two engines keep the same rules. On PostgreSQL (`rooms.store.postgresql`) a batch is
two statements sent with BEGIN and COMMIT in one round trip. Elsewhere (SQLite, which
serves `make run` and tests without services; `rooms.store.portable`) the batch takes
a few statements, and Python decides on each message from what they read. The tests
check both against the same rows. `rooms.store.messages` holds what they share: the
batch's messages, encoded once, and the answers to them.

Retries are rare (a client resends only what was not acknowledged before it lost its
connection), so a batch is first stored without looking for them: the unique index on
(room, author, client_id) refuses a retry, and only then is the batch stored again,
in a new transaction, looking each client_id up first.

This package's public API is what it exports here; the modules inside are its own.
"""

from __future__ import annotations

from django.db import IntegrityError, connection

from rooms.store.messages import (
    REFUSAL_DETAILS,
    PostRequest,
    PostResult,
    _answer_refused_retries,
    _distinct_messages,
    author_snapshot,
)
from rooms.store.portable import _store_in_steps
from rooms.store.postgresql import _store_in_one_round_trip, _Transaction

__all__ = ["REFUSAL_DETAILS", "PostRequest", "PostResult", "allocate_seq", "author_snapshot", "store_messages"]


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


def allocate_seq(room_id: int) -> int:
    """Reserve the next sequence number of a room. The UPDATE holds the room row's lock
    until commit, so concurrent writers to the room queue up and a rolled-back
    transaction gives its number back."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rooms_room SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq", [room_id])
        return cursor.fetchone()[0]
