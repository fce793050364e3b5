import contextlib
import itertools
import json

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from rooms.media import credentials
from rooms.media.janus import PROTOCOL
from rooms.media.servers import media_room_for
from rooms.routing import MEDIA_ROUTE, ROOM_ROUTE, media_socket, room_socket, unknown_path
from tests.cases import make_civil_case
from tests.rooms.conftest import Client as RoomClient
from tests.rooms.conftest import rooms_settled

# The server's routes without signing in: a test puts the user in the scope itself.
router = URLRouter([path(MEDIA_ROUTE, media_socket), path(ROOM_ROUTE, room_socket), unknown_path])

_transactions = itertools.count(1)

# An SDP offer Janus negotiates (audio and video, sent only): no ICE ever connects,
# but the VideoRoom publishes its streams, as for a browser.
OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=msid-semantic: WMS test",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:0",
        "a=sendonly",
        "a=msid:test audio0",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=ssrc:1111 cname:test",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:1",
        "a=sendonly",
        "a=msid:test video0",
        "a=rtcp-mux",
        "a=rtpmap:96 VP8/90000",
        "a=ssrc:2222 cname:test",
        "",
    ]
)


class MediaClient:
    """janus.js as a test sees it: the Janus protocol over the platform's media socket."""

    def __init__(self, user, room_id: int, credential: str | None):
        query = f"?credential={credential}" if credential is not None else ""
        self.communicator = WebsocketCommunicator(router, f"/ws/media/{room_id}/{query}", subprotocols=[PROTOCOL])
        self.communicator.scope["user"] = user
        self.session_id = None
        self.events: list[dict] = []
        self.subprotocol = None

    async def open(self):
        """Connect and create the Janus session: None, or the close code if refused."""
        connected, self.subprotocol = await self.communicator.connect(timeout=10)
        assert connected
        transaction = self._transaction()
        await self.send({"janus": "create", "transaction": transaction})
        while True:
            output = await self.communicator.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                return output.get("code")
            frame = json.loads(output["text"])
            if frame.get("transaction") == transaction:
                assert frame["janus"] == "success", frame
                self.session_id = frame["data"]["id"]
                return None

    def _transaction(self) -> str:
        return f"t{next(_transactions)}"

    async def send(self, frame: dict):
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def request(self, frame: dict, timeout=10) -> dict:
        """Send a request (session id added) and answer Janus's reply to it: the
        success or error, or for a plugin message its event (not the ack)."""
        frame = {"transaction": self._transaction(), "session_id": self.session_id, **frame}
        await self.send(frame)
        while True:
            answer = await self.receive(timeout)
            if answer.get("transaction") == frame["transaction"] and answer.get("janus") != "ack":
                return answer
            self.events.append(answer)

    async def receive(self, timeout=10) -> dict:
        output = await self.communicator.receive_output(timeout=timeout)
        assert output["type"] == "websocket.send", output
        return json.loads(output["text"])

    async def attach(self) -> int:
        answer = await self.request({"janus": "attach", "plugin": "janus.plugin.videoroom"})
        assert answer["janus"] == "success", answer
        return answer["data"]["id"]

    async def message(self, handle: int, body: dict, jsep: dict | None = None) -> dict:
        frame = {"janus": "message", "handle_id": handle, "body": body}
        if jsep is not None:
            frame["jsep"] = jsep
        return await self.request(frame)

    async def join_as_publisher(self, **body) -> tuple[int, dict]:
        handle = await self.attach()
        answer = await self.message(handle, {"request": "join", "ptype": "publisher", **body})
        return handle, answer["plugindata"]["data"]

    async def publish(self, handle: int) -> dict:
        answer = await self.message(handle, {"request": "publish"}, {"type": "offer", "sdp": OFFER})
        return answer["plugindata"]["data"]

    async def receive_close(self, timeout=10):
        while True:
            output = await self.communicator.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return output.get("code")

    async def close(self):
        await self.communicator.disconnect()


@pytest.fixture
def world(transactional_db):
    return make_civil_case()


@pytest.fixture
async def media():
    """Open a media socket: `await media(user, room)` with a fresh credential of that
    user for that room, or `credential=` given."""
    clients = []

    async def _open(user, room, *, credential: str | None = "issue", place: bool = True):
        room_id = room if isinstance(room, int) else room.pk
        if place:
            # As the credential endpoint does before it issues one.
            await database_sync_to_async(media_room_for)(room)
        if credential == "issue":
            credential = credentials.issue(user.pk, room_id)
        client = MediaClient(user, room_id, credential)
        clients.append(client)
        code = await client.open()
        return client, code

    yield _open
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()
    await rooms_settled()


class TextClient(RoomClient):
    def __init__(self, user, room_id: int):
        self.communicator = WebsocketCommunicator(router, f"/ws/rooms/{room_id}/")
        self.communicator.scope["user"] = user
        self.hello = None


@pytest.fixture
async def text():
    clients = []

    async def _connect(user, room):
        client = TextClient(user, room.pk)
        clients.append(client)
        code = await client.connect()
        assert code is None
        return client

    yield _connect
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()


@pytest.fixture(autouse=True)
def _credential_limits_of_this_test_only():
    """The credential limiter counts per user id, which tests reuse."""
    from rooms.media import views

    views._credential_limiter.clear()
    yield
    views._credential_limiter.clear()
