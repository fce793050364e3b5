"""The direct path through daphne's, autobahn's and Twisted's internals fails loudly and
safely: a process whose installed versions lack an attribute it uses serves through
plain ASGI after one ERROR line; a write that raises turns it off for the process,
closes that socket with 1011 and never counts the frame as delivered; under a real
daphne it is actually engaged."""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
from functools import partial

import pytest
from django.db import connection
from websockets.frames import Frame, Opcode

from rooms.consumers import RoomSocket
from rooms.models import RoomEntry
from rooms.protocol import CLOSE_WRITE_FAILED
from rooms.server.daphne import FAST_PATH, PROTOCOL_INTERNALS, TRANSPORT_INTERNALS, Burst, Outgoing, missing_internals
from tests.cases import make_civil_case
from tests.servers import DaphneProcess, database_url_for_servers, session_cookie


class Transport:
    def __init__(self, fail=False):
        self.fail = fail
        self.writes = []
        for name in TRANSPORT_INTERNALS:
            if not hasattr(self, name):
                setattr(self, name, 0)
        self.dataBuffer = b""

    def write(self, data):
        if self.fail:
            raise AttributeError("'Server' object has no attribute '_renamed'")
        self.writes.append(data)


class Protocol:
    """Daphne's protocol as the fast path sees it; `without` names one attribute an
    upgrade took away."""

    STATE_OPEN = 3

    def __init__(self, without=None, fail=False):
        for name in PROTOCOL_INTERNALS:
            setattr(self, name, None)
        self.state = self.STATE_OPEN
        self.transport = Transport(fail=fail)
        self.data = b""
        self.inside_message = False
        self._perMessageCompress = None
        self.__dict__.pop(without, None)
        if without == "STATE_OPEN":
            self.STATE_OPEN = None
            del self.STATE_OPEN

    async def reply(self, message):
        pass


def test_every_attribute_the_fast_path_uses_is_checked_and_present_on_a_complete_protocol():
    assert missing_internals(Protocol()) == []
    assert missing_internals(Protocol(without="inside_message")) == ["protocol.inside_message"]


def test_a_missing_attribute_means_one_error_line_and_plain_asgi_for_every_socket(caplog):
    broken = Protocol(without="_dataReceived")
    caplog.set_level(logging.INFO, logger="rooms.server.daphne")

    first = FAST_PATH.engage(partial(broken.reply, broken))
    second = FAST_PATH.engage(partial(Protocol().reply, Protocol()))

    assert first is None and second is None
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "protocol._dataReceived" in errors[0].getMessage()


def test_a_complete_protocol_engages_the_fast_path(caplog):
    protocol = Protocol()
    caplog.set_level(logging.INFO, logger="rooms.server.daphne")

    assert FAST_PATH.engage(partial(protocol.reply, protocol)) is protocol
    assert "read and write frames directly" in caplog.text


class FailingSocket:
    def __init__(self):
        self.failed_from = None

    def write_failed(self, seq_before):
        self.failed_from = seq_before


def test_a_burst_write_that_raises_turns_the_fast_path_off_and_tells_only_that_socket(caplog):
    good_protocol, bad_protocol = Protocol(), Protocol(fail=True)
    good, bad = FailingSocket(), FailingSocket()
    burst = Burst()
    burst.add(bad, bad_protocol, Outgoing('{"n":8}'), 7)
    burst.add(good, good_protocol, Outgoing('{"n":8}'), 7)

    burst.send()

    assert bad.failed_from == 7 and good.failed_from is None
    assert good_protocol.transport.writes
    assert not FAST_PATH.enabled
    assert any(record.levelno == logging.ERROR for record in caplog.records)


async def test_a_socket_whose_direct_write_raises_closes_with_1011_and_keeps_its_seq(caplog):
    sent = []

    async def send(message):
        sent.append(message)

    socket_ = RoomSocket({"type": "websocket"}, None, send)
    socket_._protocol = Protocol(fail=True)
    socket_._hello_sent = True
    socket_.delivered_seq = 5

    await socket_.deliver(Outgoing('{"type":"message","seq":6}'), 6)

    assert socket_.delivered_seq == 5
    assert sent == [{"type": "websocket.close", "code": CLOSE_WRITE_FAILED}]
    assert not FAST_PATH.enabled
    assert [record.levelname for record in caplog.records if record.name == "rooms.server.daphne"] == ["ERROR"]


# -- under a real daphne -----------------------------------------------------------------


@pytest.fixture
def daphne_server(redis_url, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a daphne process needs a database it can share with the test (DATABASE_URL=postgres://...)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_servers(),
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    server = DaphneProcess(env, tmp_path / "daphne.log")
    try:
        server.wait_ready(40)
        yield server
    finally:
        server.stop()


def _masked(payload: bytes, opcode=Opcode.TEXT, fin=True) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=True, extensions=[])


def _open_raw_websocket(server, room_id, cookie) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /ws/rooms/{room_id}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(4096)
    assert b" 101 " in response.split(b"\r\n", 1)[0], response
    return raw


def _read_frames(raw: socket.socket, until, timeout=5.0) -> list[tuple[int, bytes]]:
    """Unmasked server frames (opcode, payload) until `until(frames)` or the timeout."""
    frames, buffer, deadline = [], b"", time.monotonic() + timeout
    raw.settimeout(0.2)
    while time.monotonic() < deadline and not until(frames):
        try:
            chunk = raw.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        buffer += chunk
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                break
            frames.append((buffer[0] & 0x0F, buffer[start : start + length]))
            buffer = buffer[start + length :]
    return frames


def _texts(frames):
    return [json.loads(payload) for opcode, payload in frames if opcode == Opcode.TEXT.value]


def _plaintiff_in_the_joint_room(server) -> socket.socket:
    """A raw connection of a case's plaintiff to its joint room, past its hello."""
    world = make_civil_case()
    raw = _open_raw_websocket(server, world.joint.pk, session_cookie(world.plaintiff))
    assert _texts(_read_frames(raw, lambda frames: frames))[0]["type"] == "hello"
    return raw


def _message_send(client_id: str, body: str) -> bytes:
    return json.dumps({"type": "message.send", "client_id": client_id, "body": body}).encode()


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_under_daphne_the_fast_path_is_engaged_and_delivers(daphne_server):
    raw = _plaintiff_in_the_joint_room(daphne_server)
    try:
        raw.sendall(_masked(_message_send("7d0f2a1e-0000-4000-8000-000000000001", "直接")))
        frames = _read_frames(raw, lambda frames: any(f.get("type") == "message" for f in _texts(frames)))
        assert any(frame.get("body") == "直接" for frame in _texts(frames)), _texts(frames)
    finally:
        raw.close()
    log = daphne_server.output(tail=100_000)
    assert "Room sockets read and write frames directly" in log, log
    assert "plain ASGI" not in log


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_under_daphne_a_text_frame_between_fragments_fails_the_connection_and_is_not_stored(daphne_server):
    raw = _plaintiff_in_the_joint_room(daphne_server)
    try:
        raw.sendall(_masked(b'{"type":', fin=False))
        time.sleep(0.2)  # the first fragment is autobahn's before the next read
        raw.sendall(_masked(_message_send("7d0f2a1e-0000-4000-8000-000000000002", "between fragments")))
        frames = _read_frames(raw, lambda frames: any(opcode == Opcode.CLOSE.value for opcode, _ in frames))
    finally:
        raw.close()
    closes = [payload for opcode, payload in frames if opcode == Opcode.CLOSE.value]
    assert closes and int.from_bytes(closes[0][:2], "big") == 1002
    time.sleep(0.3)  # a message the server took would be stored by now
    assert not RoomEntry.objects.filter(body="between fragments").exists()
