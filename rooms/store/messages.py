"""A batch's messages and the answers to them, shared by both engines (see
rooms.store)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Q
from django.utils.translation import gettext_lazy

from rooms.membership import Member
from rooms.models import RoomEntry
from rooms.protocol import encode, entry_frame, message_frame_text

ENTRY_COLUMNS = "room_id, seq, kind, author_id, client_id, body, data, created_at"

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
