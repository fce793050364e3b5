"""Floods of ephemeral frames on a real daphne: typing indicators are relayed a few
times a second at most, and never from a muted participant; read marks cost a bounded
number of database writes however many are sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from rooms.conf import READ_MARK_BURST, READ_MARKS_PER_SECOND, TYPING_BURST, TYPING_PER_SECOND
from rooms.membership import member_of
from rooms.models import ReadMark
from rooms.store import PostRequest, store_messages

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FRAME_SECONDS = 5
TYPING_FLOOD = 1000
READ_FLOOD = 300
MESSAGES_BEFORE = 30


class Socket:
    def __init__(self, connection, hello: dict):
        self.connection = connection
        self.hello = hello

    async def send(self, frame: dict) -> None:
        await self.connection.send(json.dumps(frame))

    async def receive(self, timeout: float = FRAME_SECONDS) -> dict:
        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))

    async def frames_until(self, done) -> list[dict]:
        """Every frame up to and including the first for which `done` is true."""
        frames = []
        while True:
            frame = await self.receive()
            frames.append(frame)
            if done(frame):
                return frames

    async def frames_for(self, seconds: float) -> list[dict]:
        frames = []
        deadline = time.monotonic() + seconds
        with contextlib.suppress(TimeoutError):
            while (left := deadline - time.monotonic()) > 0:
                frames.append(await self.receive(timeout=left))
        return frames

    async def in_step(self) -> None:
        """Wait until the server has handled everything sent before: frames are handled
        in order, and a resume is answered."""
        await self.send({"type": "resume", "after_seq": 10**9})
        await self.frames_until(lambda frame: frame["type"] == "resume.page")


@contextlib.asynccontextmanager
async def socket_of(server, room, cookie: str):
    from websockets.asyncio.client import connect

    async with connect(
        f"ws://127.0.0.1:{server.port}/ws/rooms/{room.pk}/",
        origin=server.url,
        additional_headers={"Cookie": cookie},
        open_timeout=FRAME_SECONDS,
        max_size=None,
    ) as opened:
        hello = json.loads(await asyncio.wait_for(opened.recv(), FRAME_SECONDS))
        assert hello["type"] == "hello", hello
        yield Socket(opened, hello)


def of_type(frames: list[dict], frame_type: str) -> list[dict]:
    return [frame for frame in frames if frame["type"] == frame_type]


async def test_a_flood_of_typing_frames_is_relayed_a_few_times_only(world, cookies, daphne_server):
    async with (
        socket_of(daphne_server, world.joint, cookies["plaintiff"]) as flooder,
        socket_of(daphne_server, world.joint, cookies["defendant"]) as bystander,
    ):
        started = time.monotonic()
        for number in range(TYPING_FLOOD):
            await flooder.send({"type": "typing", "active": number % 2 == 0})
        probe = str(uuid.uuid4())
        await flooder.send({"type": "message.send", "client_id": probe, "body": "Done typing"})
        seen = await bystander.frames_until(lambda frame: frame.get("client_id") == probe)
        elapsed = time.monotonic() - started
        seen += await bystander.frames_for(0.3)

    relayed = of_type(seen, "typing")
    assert relayed, "typing indicators are still relayed"
    assert len(relayed) <= TYPING_BURST + TYPING_PER_SECOND * elapsed + 1, (len(relayed), elapsed)


@database_sync_to_async
def post_messages(world, count: int) -> None:
    author = member_of(world.mediator, world.joint)
    store_messages([PostRequest(world.joint.pk, author, uuid.uuid4(), f"Point {n}") for n in range(count)])


@database_sync_to_async
def read_up_to(room, user) -> int:
    return ReadMark.objects.filter(room=room, user=user).values_list("seq", flat=True).first() or 0


@contextlib.asynccontextmanager
async def read_mark_writes_counted():
    """Count every row PostgreSQL writes to the read marks' table, whichever process
    writes it."""

    @database_sync_to_async
    def execute(*statements: str):
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            return cursor.fetchone() if cursor.description else None

    await execute(
        "CREATE TABLE test_read_mark_writes (at timestamptz NOT NULL DEFAULT clock_timestamp())",
        "CREATE FUNCTION test_count_read_mark_write() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO test_read_mark_writes DEFAULT VALUES; RETURN NULL; END $$",
        "CREATE TRIGGER test_count_read_mark_writes AFTER INSERT OR UPDATE ON rooms_readmark "
        "FOR EACH ROW EXECUTE FUNCTION test_count_read_mark_write()",
    )

    async def count() -> int:
        return (await execute("SELECT count(*) FROM test_read_mark_writes"))[0]

    try:
        yield count
    finally:
        await execute(
            "DROP TRIGGER test_count_read_mark_writes ON rooms_readmark",
            "DROP FUNCTION test_count_read_mark_write()",
            "DROP TABLE test_read_mark_writes",
        )


async def test_a_flood_of_read_frames_writes_the_read_mark_a_few_times_only(postgres, world, cookies, daphne_server):
    await post_messages(world, MESSAGES_BEFORE)
    async with (
        read_mark_writes_counted() as writes,
        socket_of(daphne_server, world.joint, cookies["plaintiff"]) as flooder,
        socket_of(daphne_server, world.joint, cookies["defendant"]) as bystander,
    ):
        last_seq = flooder.hello["last_seq"]
        started = time.monotonic()
        # Forward through the whole room, then the same marks again and again.
        for number in range(READ_FLOOD):
            await flooder.send({"type": "read", "seq": 1 + number % last_seq})
        await flooder.in_step()
        # The latest mark is the one recorded, however many came before it.
        while await read_up_to(world.joint, world.plaintiff) < last_seq:
            assert time.monotonic() - started < 10, "the latest read mark was never written"
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        relays = of_type(await bystander.frames_for(1.5), "read")
        written = await writes()

    bound = READ_MARK_BURST + READ_MARKS_PER_SECOND * elapsed + 1
    assert written <= bound, (written, elapsed)
    assert 1 <= len(relays) <= bound, (len(relays), elapsed)
    assert relays[-1]["seq"] == last_seq


async def test_a_muted_participants_typing_is_not_relayed(postgres, world, cookies, daphne_server):
    # PostgreSQL: the mutes are made while the server runs, and on SQLite it works on
    # a copy of the database taken when it started.
    from rooms.services import mute_participant, unmute_participant

    mute = database_sync_to_async(mute_participant)
    unmute = database_sync_to_async(unmute_participant)
    room, mediator, plaintiff = world.joint, world.mediator, world.plaintiff

    await mute(room=room, actor=mediator, user=plaintiff)
    async with (
        socket_of(daphne_server, room, cookies["plaintiff"]) as muted,
        socket_of(daphne_server, room, cookies["defendant"]) as bystander,
    ):
        # Muted before the socket opened.
        await muted.send({"type": "typing", "active": True})
        await muted.in_step()
        assert not of_type(await bystander.frames_for(0.5), "typing")

        # Unmuted while connected: relayed again.
        await unmute(room=room, actor=mediator, user=plaintiff)
        await muted.frames_until(lambda frame: frame.get("kind") == "participant.unmuted")
        await muted.send({"type": "typing", "active": True})
        seen = await bystander.frames_until(lambda frame: frame["type"] == "typing")
        assert seen[-1]["user"]["id"] == plaintiff.pk

        # Muted while connected: not relayed.
        await mute(room=room, actor=mediator, user=plaintiff)
        await muted.frames_until(lambda frame: frame.get("kind") == "participant.muted")
        await muted.send({"type": "typing", "active": False})
        await muted.in_step()
        assert not of_type(await bystander.frames_for(0.5), "typing")
