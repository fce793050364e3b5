"""Hostile frames on the room WebSocket (ARCHITECTURE.md section 5).

Property, for every generated frame: the server raises nothing and logs no error;
the sender gets an `error` frame for a bad frame (and none for a good one) and its
connection stays open, or it is closed with one of the protocol's close codes; and
another session in the same room, posting at the same moment, is unaffected.

Most frames go through channels' WebsocketCommunicator straight into the room
socket. What only a real server sees (invalid UTF-8 on the wire, frames over
daphne's 64 KiB limit) goes to a daphne process started with the platform's flags.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rooms.conf import MAX_BODY_CHARS
from rooms.protocol import (
    CLOSE_NO_SUCH_ROOM,
    CLOSE_NOT_MEMBER,
    CLOSE_NOT_SIGNED_IN,
    CLOSE_ROOM_CLOSED,
    CLOSE_TOO_SLOW,
)
from rooms.runtime import runtime
from rooms.server.cluster import DAPHNE_FLAGS
from tests.rooms.conftest import Client, rooms_settled

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
MAX_MESSAGE_BYTES = 64 * 1024
PROTOCOL_CLOSE_CODES = {CLOSE_NOT_SIGNED_IN, CLOSE_NOT_MEMBER, CLOSE_NO_SUCH_ROOM, CLOSE_ROOM_CLOSED, CLOSE_TOO_SLOW}
FRAME_SECONDS = 5

fuzz_settings = settings(
    max_examples=100,
    deadline=None,
    # One room and one pair of connections serve every example of a test, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.large_base_example],
)


# What a valid client frame is, written from the contract rather than from the parser.


def _is_whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _is_storable_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def is_valid_frame(frame) -> bool:
    if not isinstance(frame, dict):
        return False
    kind = frame.get("type")
    if kind == "message.send":
        body = frame.get("body")
        return (
            isinstance(frame.get("client_id"), str)
            and _is_uuid(frame["client_id"])
            and isinstance(body, str)
            and bool(body.strip())
            and len(body) <= MAX_BODY_CHARS
            and _is_storable_text(body)
        )
    if kind == "resume":
        return _is_whole_number(frame.get("after_seq")) and frame["after_seq"] >= 0
    if kind == "typing":
        return isinstance(frame.get("active"), bool)
    if kind == "read":
        return _is_whole_number(frame.get("seq")) and frame["seq"] >= 0
    return False


def is_valid_text(text: str) -> bool:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return is_valid_frame(frame)


# Strategies ------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Text a database may refuse: escaped lone surrogates and NUL characters.
awkward_text = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d", "\u2028", "\ufeff", " \t\n "])
bodies = (
    st.text(min_size=1, max_size=60)
    | awkward_text
    | awkward_text
    | st.integers(MAX_BODY_CHARS - 3, MAX_BODY_CHARS + 3).map(lambda n: "长" * n)
    | st.integers(0, 120_000).map(lambda n: "x" * n)
)
uuids = st.uuids().map(str) | st.sampled_from(["", "not-a-uuid", "{" + "0" * 32 + "}", "0" * 32, "ｆ" * 32])
whole_numbers = (
    st.integers(min_value=-10, max_value=10_000)
    | st.integers(min_value=2**31 - 2, max_value=2**31 + 2)
    | st.integers(min_value=2**63 - 2, max_value=2**63 + 2)
    | st.integers(min_value=10**30, max_value=10**400)
)
VALID_FIELDS = {
    "message.send": {"client_id": uuids, "body": bodies},
    "resume": {"after_seq": whole_numbers},
    "typing": {"active": st.booleans()},
    "read": {"seq": whole_numbers},
}


@st.composite
def protocol_frames(draw):
    """A frame of a known type whose fields are right, wrong-typed, out of range,
    missing or extra."""
    # Posting has the most fields and the most ways to go wrong.
    kind = draw(st.sampled_from(["message.send", *sorted(VALID_FIELDS)]))
    frame = {"type": kind}
    for name, good in VALID_FIELDS[kind].items():
        how = draw(st.sampled_from(["good", "good", "wrong_type", "missing"]))
        if how == "good":
            frame[name] = draw(good)
        elif how == "wrong_type":
            frame[name] = draw(json_values)
    if draw(st.booleans()):
        frame.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3)))
        frame["type"] = kind
    return json.dumps(frame)


@st.composite
def deeply_nested(draw):
    depth = draw(st.integers(min_value=1, max_value=20_000))
    shape = draw(st.sampled_from(["array", "object", "in_body", "in_type", "unclosed"]))
    if shape == "array":
        return "[" * depth + "]" * depth
    if shape == "object":
        return '{"a":' * depth + "1" + "}" * depth
    if shape == "in_body":
        return f'{{"type":"message.send","client_id":"{uuid.uuid4()}","body":' + "[" * depth + "]" * depth + "}"
    if shape == "in_type":
        return '{"type":' + "[" * depth + "]" * depth + "}"
    return "[" * depth


big_numbers = st.sampled_from(
    [
        '{"type":"resume","after_seq":' + "9" * 5000 + "}",
        '{"type":"read","seq":' + "9" * 5000 + "}",
        '{"type":"resume","after_seq":1e400}',
        '{"type":"read","seq":-1e400}',
        '{"type":"resume","after_seq":NaN}',
        '{"type":"read","seq":Infinity}',
        '{"type":"resume","after_seq":18446744073709551616}',
        '{"type":"read","seq":9223372036854775808}',
        '{"type":"resume","after_seq":-9223372036854775809}',
        '{"type":"typing","active":1}',
    ]
) | whole_numbers.flatmap(
    lambda n: st.sampled_from([f'{{"type":"resume","after_seq":{n}}}', f'{{"type":"read","seq":{n}}}'])
)

non_objects = json_values.filter(lambda value: not isinstance(value, dict)).map(json.dumps)


# Two sessions in one room -----------------------------------------------------------------


class Room:
    """The plaintiff's agent sends the hostile frames; the defendant's representative
    is the other session that must not notice."""

    def __init__(self, world):
        self.world = world
        self.fuzzer: Client | None = None
        self.bystander: Client | None = None

    async def open(self):
        self.fuzzer = await self._connect(self.world.plaintiff)
        self.bystander = await self._connect(self.world.defendant)
        return self

    async def _connect(self, user):
        client = Client(user, self.world.joint.pk)
        assert await client.connect() is None
        return client

    async def close(self):
        for client in (self.fuzzer, self.bystander):
            if client is not None:
                await client.close()
        await rooms_settled()

    async def send_hostile(self, *, text: str | None = None, data: bytes | None = None) -> list[dict]:
        """Send one hostile frame while the bystander posts; return what the fuzzer
        got back for it. The fuzzer then posts a probe: its connection is still open
        and its frames are handled in order, so everything before the probe answers
        the hostile frame."""
        runtime.message_limiter.clear()
        # The raw ASGI event, so that empty frames go through too.
        event = (
            {"type": "websocket.receive", "bytes": data}
            if data is not None
            else {"type": "websocket.receive", "text": text}
        )
        await self.fuzzer.communicator.send_input(event)
        bystander_id = str(uuid.uuid4())
        await self.bystander.send({"type": "message.send", "client_id": bystander_id, "body": "Still here"})
        answer, closed = await self._until_probe()
        await self._bystander_receives(bystander_id)
        if closed is not None:
            assert closed in PROTOCOL_CLOSE_CODES, f"closed with {closed}, which the protocol does not define"
            self.fuzzer = await self._connect(self.world.plaintiff)
        return answer

    async def _until_probe(self) -> tuple[list[dict], int | None]:
        probe = str(uuid.uuid4())
        await self.fuzzer.send({"type": "message.send", "client_id": probe, "body": "probe"})
        frames = []
        while True:
            output = await self.fuzzer.communicator.receive_output(timeout=FRAME_SECONDS)
            if output["type"] == "websocket.close":
                return frames, output.get("code")
            frame = json.loads(output["text"])
            if frame["type"] == "message" and frame.get("client_id") == probe:
                return frames, None
            assert not (frame["type"] == "error" and frame.get("code") == "unavailable"), frame
            frames.append(frame)

    async def _bystander_receives(self, client_id: str) -> None:
        while True:
            frame = await self.bystander.receive(timeout=FRAME_SECONDS)
            assert frame["type"] != "error", f"the bystander got {frame}"
            if frame["type"] == "message" and frame.get("client_id") == client_id:
                return


@pytest.fixture
async def room(world):
    opened = await Room(world).open()
    yield opened
    await opened.close()


@pytest.fixture
def no_server_errors(caplog):
    """Every example checks that nothing was logged at ERROR (an exception in a task
    the test does not await surfaces only there)."""
    caplog.set_level(logging.WARNING)

    def check():
        bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.name.startswith("rooms")]
        assert not bad, "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in bad)

    return check


def errors_in(frames: list[dict]) -> list[dict]:
    return [frame for frame in frames if frame["type"] == "error"]


def assert_answered_as_contract_says(text: str, frames: list[dict]) -> None:
    errors = errors_in(frames)
    if is_valid_text(text):
        assert not errors, f"a valid frame was refused: {errors}"
    else:
        assert len(errors) == 1, f"expected one error frame, got {frames}"
        assert isinstance(errors[0]["code"], str) and errors[0]["code"]
        assert isinstance(errors[0]["detail"], str) and errors[0]["detail"]
    for frame in frames:
        assert set(frame) >= {"type"}


# The properties ----------------------------------------------------------------------------


@fuzz_settings
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
async def test_random_text_gets_an_error_frame_and_changes_nothing_for_others(room, no_server_errors, text):
    frames = await room.send_hostile(text=text)
    assert_answered_as_contract_says(text, frames)
    no_server_errors()


@fuzz_settings
@given(text=protocol_frames())
async def test_every_field_with_a_wrong_type_or_value_gets_an_error_frame(room, no_server_errors, text):
    frames = await room.send_hostile(text=text)
    assert_answered_as_contract_says(text, frames)
    no_server_errors()


@settings(fuzz_settings, max_examples=50)
@given(client_id=uuids, body=bodies | st.text(max_size=20))
async def test_any_message_body_is_stored_or_refused_alone(room, no_server_errors, client_id, body):
    text = json.dumps({"type": "message.send", "client_id": client_id, "body": body})
    frames = await room.send_hostile(text=text)
    assert_answered_as_contract_says(text, frames)
    no_server_errors()


@fuzz_settings
@given(text=non_objects | deeply_nested() | big_numbers)
async def test_non_objects_deep_nesting_and_big_numbers_get_an_error_frame(room, no_server_errors, text):
    frames = await room.send_hostile(text=text)
    assert_answered_as_contract_says(text, frames)
    no_server_errors()


@settings(fuzz_settings, max_examples=30)
@given(data=st.binary(max_size=300) | st.integers(0, 100_000).map(lambda n: b"\xff" * n))
async def test_binary_frames_get_an_error_frame(room, no_server_errors, data):
    frames = await room.send_hostile(data=data)
    assert [frame["code"] for frame in errors_in(frames)] == ["bad_frame"]
    no_server_errors()


@settings(fuzz_settings, max_examples=30)
@given(size=st.integers(min_value=32_769, max_value=2_000_000))
async def test_a_huge_frame_is_refused_without_being_parsed(room, no_server_errors, size):
    text = '{"type":"message.send","client_id":"' + str(uuid.uuid4()) + '","body":"' + "x" * size + '"}'
    frames = await room.send_hostile(text=text)
    assert [frame["code"] for frame in errors_in(frames)] == ["frame_too_large"]
    no_server_errors()


async def test_bodies_a_database_cannot_store_are_refused_and_others_still_post(world, no_server_errors):
    """A body with NUL or a lone surrogate (sent as JSON escapes) is refused at the
    door: were it queued, the batch it is written with (other people's messages)
    would fail with it."""
    room = await Room(world).open()
    try:
        for body in ("\\ud800", "a\\u0000b", "x\\udfffy"):
            text = f'{{"type":"message.send","client_id":"{uuid.uuid4()}","body":"{body}"}}'
            frames = await room.send_hostile(text=text)
            assert [frame["code"] for frame in errors_in(frames)] == ["invalid_field"], frames
    finally:
        await room.close()
    no_server_errors()


# A real daphne: the wire-level limits ------------------------------------------------------


def test_make_and_the_cluster_set_daphnes_message_size_explicitly():
    makefile = (ROOT / "Makefile").read_text()
    flags = re.search(r"^DAPHNE_FLAGS\s*:=\s*(.+)$", makefile, re.MULTILINE).group(1).split()
    assert flags[flags.index("--websocket-max-message-size") + 1] == str(MAX_MESSAGE_BYTES)
    assert flags[flags.index("--websocket-max-frame-size") + 1] == str(MAX_MESSAGE_BYTES)
    # make run starts daphne through run_platform (beside Janus), with the flags after `--`.
    assert re.search(r"\$\(MANAGE\) run_platform -- \$\(DAPHNE_FLAGS\)", makefile), "make run must pass DAPHNE_FLAGS"
    assert DAPHNE_FLAGS[DAPHNE_FLAGS.index("--websocket-max-message-size") + 1] == str(MAX_MESSAGE_BYTES)
    assert DAPHNE_FLAGS[DAPHNE_FLAGS.index("--websocket-max-frame-size") + 1] == str(MAX_MESSAGE_BYTES)


class WireClient:
    """A `websockets` client on the real server, signed in by cookie."""

    def __init__(self, server, room_id: int, cookie: str):
        self.server = server
        self.url = f"ws://127.0.0.1:{server.port}/ws/rooms/{room_id}/"
        self.cookie = cookie
        self.connection = None

    async def connect(self):
        from websockets.asyncio.client import connect

        self.connection = await connect(
            self.url,
            origin=self.server.url,
            additional_headers={"Cookie": self.cookie},
            open_timeout=FRAME_SECONDS,
            max_size=None,
        )
        hello = json.loads(await asyncio.wait_for(self.connection.recv(), FRAME_SECONDS))
        assert hello["type"] == "hello", hello
        return self

    async def receive_message(self, client_id: str) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(self.connection.recv(), FRAME_SECONDS))
            assert frame["type"] != "error", frame
            if frame["type"] == "message" and frame.get("client_id") == client_id:
                return frame

    async def post(self, body: str) -> str:
        client_id = str(uuid.uuid4())
        await self.connection.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
        return client_id

    async def close_code(self) -> int | None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), FRAME_SECONDS)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    async def close(self):
        await self.connection.close()


async def assert_server_unaffected(server, world, cookies, bystander: WireClient) -> None:
    """The bystander, connected all along, receives what a fresh connection posts,
    and the server logged no error."""
    fresh = await WireClient(server, world.joint.pk, cookies["mediator"]).connect()
    try:
        client_id = await fresh.post("Are you still there?")
        await bystander.receive_message(client_id)
    finally:
        await fresh.close()
    assert server.alive()
    log = server.output()
    assert "Traceback" not in log and " ERROR " not in log, log


invalid_utf8 = st.sampled_from(
    [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b'{"type":"typing","active":true}\x80']
) | st.binary(min_size=1, max_size=64).filter(lambda data: not _decodes(data))


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture
async def bystander(world, cookies, daphne_server):
    client = await WireClient(daphne_server, world.joint.pk, cookies["defendant"]).connect()
    yield client
    await client.close()


@pytest.mark.slow
@settings(fuzz_settings, max_examples=20)
@given(data=invalid_utf8)
async def test_daphne_closes_invalid_utf8_with_1007_and_carries_on(world, cookies, daphne_server, bystander, data):
    sender = await WireClient(daphne_server, world.joint.pk, cookies["plaintiff"]).connect()
    await sender.connection.send(data, text=True)
    assert await sender.close_code() == 1007
    await assert_server_unaffected(daphne_server, world, cookies, bystander)


@pytest.mark.slow
async def test_daphne_closes_a_message_over_64_kib_with_1009_and_carries_on(world, cookies, daphne_server, bystander):
    # One frame just over the limit, and one message over it in small fragments.
    for payload in ("x" * (MAX_MESSAGE_BYTES + 1), ["y" * 16_384] * 5):
        sender = await WireClient(daphne_server, world.joint.pk, cookies["plaintiff"]).connect()
        await sender.connection.send(payload)
        assert await sender.close_code() == 1009
    # Just under the limit still reaches the room socket, which answers with an error.
    sender = await WireClient(daphne_server, world.joint.pk, cookies["plaintiff"]).connect()
    await sender.connection.send("z" * (MAX_MESSAGE_BYTES - 1))
    answer = {"type": ""}
    while answer["type"] != "error":
        answer = json.loads(await asyncio.wait_for(sender.connection.recv(), FRAME_SECONDS))
    assert answer["code"] == "frame_too_large"
    await sender.close()
    await assert_server_unaffected(daphne_server, world, cookies, bystander)
