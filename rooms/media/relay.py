"""What may pass between a browser's janus.js and Janus, through the media socket
(rooms.media.socket): the contract's list, checked and rewritten here, as pure
functions the socket calls for every frame.

From the browser, only these Janus requests pass: create, attach (the VideoRoom
plugin only), detach, destroy, keepalive, trickle, hangup, and VideoRoom `message`s
whose body is one of VIDEOROOM_REQUESTS. Every request is rebuilt from the keys it
may carry (nothing else of the browser's frame reaches Janus), and the platform's
facts are forced: the API secret, the VideoRoom of this room, its join token, the
person's `display` (who they are in the room) and a publisher's id. Anything else is
answered with a Janus-style error frame and not sent.

From Janus, every frame passes, without any secret a future Janus might echo.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from rooms.media.janus import VIDEOROOM

# Largest frame a browser may send: an SDP offer with every codec fits in a few KiB.
MAX_FRAME_CHARS = 64 * 1024
MAX_TRANSACTION_CHARS = 64

JANUS_REQUESTS = {"create", "attach", "detach", "destroy", "keepalive", "trickle", "hangup", "message"}
VIDEOROOM_REQUESTS = {
    "join",
    "configure",
    "publish",
    "unpublish",
    "start",
    "pause",
    "switch",
    "leave",
    "update",
    "listparticipants",
}
# Keys of a VideoRoom body the browser may never set: the platform's (room, secrets,
# who the person is) or recording's (switched by the platform only).
FORCED_OR_FORBIDDEN_BODY_KEYS = {
    "room",
    "secret",
    "admin_key",
    "token",
    "pin",
    "display",
    "id",
    "record",
    "filename",
    "permanent",
    "allowed",
}
# Keys no frame to the browser carries.
SECRET_KEYS = {"apisecret", "token", "secret", "admin_key", "pin"}

# Publisher ids are chosen by the platform, below 2**53 as browsers' numbers hold.
_ID_LIMIT = 2**53

# Janus's own error codes (janus.h): what a refused request is answered with.
FORBIDDEN = 403
MALFORMED = 454  # JANUS_ERROR_INVALID_JSON
TOO_MANY = 429


class Refused(Exception):
    def __init__(self, transaction, code: int, reason: str):
        super().__init__(reason)
        self.transaction = transaction
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Forced:
    """What the platform sets in every request of one socket."""

    apisecret: str
    room: int
    token: str
    display: str


def display_of(member) -> str:
    """The `display` Janus shows the others: the person as the room knows them."""
    return json.dumps(
        {"id": member.id, "name": member.name, "role": member.role, "side": member.side},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def new_publisher_id() -> int:
    return secrets.randbelow(_ID_LIMIT - 1) + 1


def error_frame(transaction, code: int, reason: str) -> str:
    frame = {"janus": "error", "error": {"code": code, "reason": reason}}
    if transaction is not None:
        frame["transaction"] = transaction
    return json.dumps(frame)


def _whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**64


def parse_browser_frame(text) -> dict:
    """The browser's frame as a JSON object with a valid `janus` and `transaction`;
    Refused otherwise."""
    if not isinstance(text, str):
        raise Refused(None, MALFORMED, "Send JSON text frames.")
    if len(text) > MAX_FRAME_CHARS:
        raise Refused(None, MALFORMED, f"A frame may not exceed {MAX_FRAME_CHARS} characters.")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Refused(None, MALFORMED, "The frame is not valid JSON.") from error
    if not isinstance(frame, dict):
        raise Refused(None, MALFORMED, "A frame is a JSON object.")
    transaction = frame.get("transaction")
    if not isinstance(transaction, str) or not 0 < len(transaction) <= MAX_TRANSACTION_CHARS:
        raise Refused(None, MALFORMED, "A request needs a transaction (a short string).")
    if frame.get("janus") not in JANUS_REQUESTS:
        raise Refused(transaction, FORBIDDEN, "This request is not allowed here.")
    return frame


def rewrite(frame: dict, forced: Forced, *, session_id, handles: set[int]) -> tuple[dict, int | None]:
    """The request to send to Janus for a parsed browser frame, and the publisher id
    the platform chose if it is a publisher's join. `session_id` is the socket's Janus
    session (None before `create`), `handles` its VideoRoom handles. Refused if the
    request may not pass."""
    transaction = frame["transaction"]
    kind = frame["janus"]
    request = {"janus": kind, "transaction": transaction, "apisecret": forced.apisecret}
    if kind == "create":
        if session_id is not None:
            raise Refused(transaction, FORBIDDEN, "This socket has its session already.")
        return request, None
    if session_id is None or frame.get("session_id") != session_id:
        raise Refused(transaction, FORBIDDEN, "Not this socket's session.")
    request["session_id"] = session_id
    if kind in ("keepalive", "destroy"):
        return request, None
    if kind == "attach":
        if frame.get("plugin") != VIDEOROOM:
            raise Refused(transaction, FORBIDDEN, "Only the VideoRoom plugin is available.")
        request["plugin"] = VIDEOROOM
        opaque = frame.get("opaque_id")
        if isinstance(opaque, str) and len(opaque) <= 64:
            request["opaque_id"] = opaque
        return request, None
    handle_id = frame.get("handle_id")
    if handle_id not in handles:
        raise Refused(transaction, FORBIDDEN, "Not this socket's handle.")
    request["handle_id"] = handle_id
    if kind in ("detach", "hangup"):
        return request, None
    if kind == "trickle":
        for key in ("candidate", "candidates"):
            if key in frame:
                request[key] = frame[key]
        if "candidate" not in request and "candidates" not in request:
            raise Refused(transaction, MALFORMED, "A trickle carries a candidate.")
        return request, None
    # A VideoRoom message.
    body = frame.get("body")
    if not isinstance(body, dict) or body.get("request") not in VIDEOROOM_REQUESTS:
        raise Refused(transaction, FORBIDDEN, "This VideoRoom request is not allowed here.")
    body = {key: value for key, value in body.items() if key not in FORCED_OR_FORBIDDEN_BODY_KEYS}
    publisher_id = None
    verb = body["request"]
    if verb == "join":
        ptype = body.get("ptype")
        if ptype not in ("publisher", "subscriber"):
            raise Refused(transaction, MALFORMED, "A join is a publisher's or a subscriber's.")
        body["room"] = forced.room
        body["token"] = forced.token
        if ptype == "publisher":
            publisher_id = new_publisher_id()
            body["id"] = publisher_id
            body["display"] = forced.display
    elif verb == "listparticipants":
        body["room"] = forced.room
    elif verb in ("configure", "publish") and "display" in frame["body"]:
        # A publisher's name in the room is the platform's, never the browser's.
        body["display"] = forced.display
    request["body"] = body
    jsep = frame.get("jsep")
    if jsep is not None:
        if not isinstance(jsep, dict) or jsep.get("type") not in ("offer", "answer") or "sdp" not in jsep:
            raise Refused(transaction, MALFORMED, "A jsep is an offer or an answer with its SDP.")
        request["jsep"] = {key: jsep[key] for key in ("type", "sdp", "trickle", "e2ee") if key in jsep}
    return request, publisher_id


def without_secrets(frame):
    """A frame from Janus without any key that names a secret, at any depth."""
    if isinstance(frame, dict):
        return {key: without_secrets(value) for key, value in frame.items() if key not in SECRET_KEYS}
    if isinstance(frame, list):
        return [without_secrets(value) for value in frame]
    return frame
