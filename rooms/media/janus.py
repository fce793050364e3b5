"""The platform's own requests to a Janus server, over its WebSocket API.

Each call opens a connection, a Janus session and a VideoRoom handle, makes its
requests and closes them again: the platform's requests are few (a room created, a
participant kicked or muted, recording switched) and a fresh connection cannot be
left in a bad state. Every wait is bounded by JANUS_TIMEOUT_SECONDS: a stopped or
hung server is `JanusUnavailable`, never a hung page. What browsers say to Janus goes
through the media socket (rooms.media.socket), not through here.
"""

from __future__ import annotations

import json
import secrets
import time
from contextlib import contextmanager, suppress

from django.conf import settings
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from rooms.media.secrets import janus_admin_key, janus_api_secret

PROTOCOL = "janus-protocol"
VIDEOROOM = "janus.plugin.videoroom"


class JanusUnavailable(Exception):
    """The server did not answer (stopped, unreachable, too slow)."""


class JanusError(Exception):
    """The server answered with an error (Janus's or the VideoRoom plugin's code)."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


# The VideoRoom plugin's error codes the platform tells apart.
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_FEED = 428


def timeout() -> float:
    return float(settings.JANUS_TIMEOUT_SECONDS)


class JanusSession:
    """One connection with a session and a VideoRoom handle (see `videoroom_session`)."""

    def __init__(self, websocket, deadline: float):
        self.websocket = websocket
        self.deadline = deadline
        self.session_id = None
        self.handle_id = None

    def request(self, message: dict) -> dict:
        """Send one Janus request and return its answer (not the ack)."""
        transaction = secrets.token_hex(8)
        message = {**message, "transaction": transaction, "apisecret": janus_api_secret()}
        if self.session_id is not None and "session_id" not in message:
            message["session_id"] = self.session_id
        self.websocket.send(json.dumps(message))
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise JanusUnavailable("no answer in time")
            try:
                answer = json.loads(self.websocket.recv(timeout=remaining))
            except TimeoutError as error:
                raise JanusUnavailable("no answer in time") from error
            if answer.get("transaction") != transaction or answer.get("janus") == "ack":
                continue
            if answer.get("janus") == "error":
                error = answer.get("error") or {}
                raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
            return answer

    def videoroom(self, body: dict) -> dict:
        """One VideoRoom request on the handle; its answer's data. The room-management
        requests carry the admin key."""
        answer = self.request({"janus": "message", "handle_id": self.handle_id, "body": body})
        data = (answer.get("plugindata") or {}).get("data") or {}
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error", "")))
        return data


@contextmanager
def videoroom_session(url: str):
    """A connection to the server at `url` with a session and a VideoRoom handle,
    all closed on leaving. Raises JanusUnavailable if the server does not answer
    within JANUS_TIMEOUT_SECONDS in all."""
    deadline = time.monotonic() + timeout()
    try:
        with connect(url, subprotocols=[PROTOCOL], open_timeout=timeout(), close_timeout=0.5) as websocket:
            session = JanusSession(websocket, deadline)
            created = session.request({"janus": "create"})
            session.session_id = created["data"]["id"]
            attached = session.request({"janus": "attach", "plugin": VIDEOROOM})
            session.handle_id = attached["data"]["id"]
            try:
                yield session
            finally:
                with suppress(JanusError, JanusUnavailable, WebSocketException, OSError):
                    session.request({"janus": "destroy"})
    except (WebSocketException, OSError, TimeoutError) as error:
        raise JanusUnavailable(str(error) or error.__class__.__name__) from error


def videoroom_request(url: str, body: dict) -> dict:
    """One VideoRoom request on the server at `url`; its answer's data."""
    with videoroom_session(url) as session:
        return session.videoroom(body)


def server_info(url: str) -> dict:
    """The server's `info` (its version and plugins): how the platform tells a live
    server from a stopped one."""
    deadline = time.monotonic() + timeout()
    try:
        with connect(url, subprotocols=[PROTOCOL], open_timeout=timeout(), close_timeout=0.5) as websocket:
            return JanusSession(websocket, deadline).request({"janus": "info"})
    except (WebSocketException, OSError, TimeoutError) as error:
        raise JanusUnavailable(str(error) or error.__class__.__name__) from error


def with_admin_key(body: dict) -> dict:
    return {**body, "admin_key": janus_admin_key()}
