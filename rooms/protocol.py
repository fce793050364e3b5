"""The room WebSocket protocol (ARCHITECTURE.md section 5): parsing what clients send
and encoding what the server sends. A frame is encoded to text once and the same
string goes to every socket."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rooms import conf
from rooms.models import RoomEntry

CLOSE_NOT_SIGNED_IN = 4401
CLOSE_NOT_MEMBER = 4403
CLOSE_NO_SUCH_ROOM = 4404
CLOSE_ROOM_CLOSED = 4408
CLOSE_TOO_SLOW = 4429
# A frame may not have reached the client (a failed write): it reconnects and resumes
# from the last seq it has.
CLOSE_WRITE_FAILED = 1011

# Lazy: translated only for an error, not for every frame that is fine.
A_UUID_STRING = gettext_lazy("a UUID string")
A_STRING = gettext_lazy("a string")
A_WHOLE_NUMBER = gettext_lazy("a whole number")
TRUE_OR_FALSE = gettext_lazy("true or false")


class ProtocolError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class SendMessage:
    client_id: uuid.UUID
    body: str


@dataclass(frozen=True)
class Resume:
    after_seq: int


@dataclass(frozen=True)
class Typing:
    active: bool


@dataclass(frozen=True)
class Read:
    seq: int


def _require(frame: dict, name: str, kind, description: str):
    if name not in frame:
        raise ProtocolError("missing_field", _("“%(name)s” is required.") % {"name": name})
    value = frame[name]
    # bool is an int in Python; a boolean is never a valid sequence number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError("invalid_field", _("“%(name)s” must be %(kind)s.") % {"name": name, "kind": description})
    return value


def _storable(text: str) -> bool:
    """JSON escapes can smuggle in what no database stores as text (PostgreSQL refuses
    NUL, UTF-8 has no lone surrogates); such a message would fail the whole batch of
    messages written with it, other people's included."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_client_frame(text: str | None):
    """Turn one text frame into a typed request, or raise ProtocolError."""
    if text is None:
        raise ProtocolError("bad_frame", _("Send JSON text frames."))
    if len(text) > conf.MAX_FRAME_CHARS:
        raise ProtocolError(
            "frame_too_large", _("A frame may not exceed %(limit)s characters.") % {"limit": conf.MAX_FRAME_CHARS}
        )
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ProtocolError("bad_json", _("The frame is not valid JSON.")) from error
    if not isinstance(frame, dict):
        raise ProtocolError("bad_frame", _("A frame is a JSON object with a “type”."))
    frame_type = frame.get("type")
    if not isinstance(frame_type, str):
        raise ProtocolError("missing_field", _("“%(name)s” is required.") % {"name": "type"})
    if frame_type == "message.send":
        raw_id = _require(frame, "client_id", str, A_UUID_STRING)
        try:
            client_id = uuid.UUID(raw_id)
        except ValueError as error:
            raise ProtocolError(
                "invalid_field", _("“%(name)s” must be %(kind)s.") % {"name": "client_id", "kind": A_UUID_STRING}
            ) from error
        body = _require(frame, "body", str, A_STRING)
        if not body.strip():
            raise ProtocolError("invalid_field", _("A message cannot be empty."))
        if len(body) > conf.MAX_BODY_CHARS:
            raise ProtocolError(
                "body_too_long", _("A message may have at most %(limit)s characters.") % {"limit": conf.MAX_BODY_CHARS}
            )
        if not _storable(body):
            raise ProtocolError("invalid_field", _("A message cannot contain NUL characters or unpaired surrogates."))
        return SendMessage(client_id=client_id, body=body)
    if frame_type == "resume":
        after_seq = _require(frame, "after_seq", int, A_WHOLE_NUMBER)
        if after_seq < 0:
            raise ProtocolError("invalid_field", _("“%(name)s” cannot be negative.") % {"name": "after_seq"})
        return Resume(after_seq=after_seq)
    if frame_type == "typing":
        return Typing(active=_require(frame, "active", bool, TRUE_OR_FALSE))
    if frame_type == "read":
        seq = _require(frame, "seq", int, A_WHOLE_NUMBER)
        if seq < 0:
            raise ProtocolError("invalid_field", _("“%(name)s” cannot be negative.") % {"name": "seq"})
        return Read(seq=seq)
    raise ProtocolError("unknown_type", _("Unknown frame type “%(type)s”.") % {"type": frame_type[:40]})


# One encoder for every frame: `json.dumps` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(frame: dict | list) -> str:
    return _ENCODER.encode(frame)


# A frame names its entry by the room's `seq` alone. The entry's primary key is global:
# the gap between two joint-room entries' keys would count the messages and events
# stored meanwhile in the caucus rooms (a side-only fact), and in every other case.


def message_frame(*, seq: int, author: dict | None, body: str, sent_at, client_id) -> dict:
    return {
        "type": "message",
        "seq": seq,
        "author": author,
        "body": body,
        "sent_at": sent_at.isoformat(),
        "client_id": str(client_id) if client_id else None,
    }


def message_frame_text(*, seq: int, author_json: str, body_json: str, sent_at: str, client_id: str) -> str:
    """`encode(message_frame(...))` from its parts, the author and the body already
    encoded and `sent_at` in ISO format: the writer builds one per message stored, and
    shares those parts with the message's row."""
    return (
        f'{{"type":"message","seq":{seq},"author":{author_json},"body":{body_json},'
        f'"sent_at":"{sent_at}","client_id":"{client_id}"}}'
    )


def entry_frame(entry: RoomEntry) -> dict:
    if entry.is_message:
        return message_frame(
            seq=entry.seq,
            author=entry.data.get("author"),
            body=entry.body,
            sent_at=entry.created_at,
            client_id=entry.client_id,
        )
    return {
        "type": "event",
        "seq": entry.seq,
        "kind": entry.kind,
        "actor": entry.data.get("actor"),
        "data": {key: value for key, value in entry.data.items() if key != "actor"},
        "sent_at": entry.created_at.isoformat(),
    }


def error_frame(code: str, detail) -> str:
    return encode({"type": "error", "code": code, "detail": str(detail)})
