"""Two real daphne processes on different ports, sharing the test database and Redis:
a client on each sees the other's messages (same seq, stored once) and presence.

The processes are started with the test database's connection settings, so they see
what the test creates (a transactional test commits). Each client signs in with a
session created here and the cookie and origin a browser would send.

The second test shows that sockets closing on one process do not stop that process
relaying the other processes' traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid

import pytest
from django.db import connection

from rooms.models import RoomEntry
from tests.servers import DaphneProcess, database_url_for_servers, session_cookie

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STARTUP_SECONDS = 40
FRAME_SECONDS = 5


@pytest.fixture
def two_servers(redis_url, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "two server processes need a database they can share with the test; the SQLite test database is "
            "in memory (run with DATABASE_URL=postgres://..., as CI does)"
        )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_servers(),
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    servers = []
    try:
        for number in (1, 2):
            servers.append(DaphneProcess(env, tmp_path / f"daphne-{number}.log"))
        for server in servers:
            server.wait_ready(STARTUP_SECONDS)
        yield servers
    finally:
        for server in servers:
            server.stop()


class Socket:
    """One signed-in client on one server, with the frames it received."""

    def __init__(self, server: DaphneProcess, room_id: int, cookie: str):
        self.server = server
        self.url = f"ws://127.0.0.1:{server.port}/ws/rooms/{room_id}/"
        self.cookie = cookie
        self.connection = None
        self.hello = None
        self.frames: list[dict] = []

    async def connect(self):
        from websockets.asyncio.client import connect

        self.connection = await connect(
            self.url,
            origin=f"http://127.0.0.1:{self.server.port}",
            additional_headers={"Cookie": self.cookie},
            open_timeout=FRAME_SECONDS,
        )
        self.hello = await self.receive()
        assert self.hello["type"] == "hello", self.hello
        return self

    async def receive(self, timeout: float = FRAME_SECONDS) -> dict:
        frame = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def wait_for(self, description: str, predicate, timeout: float = FRAME_SECONDS) -> dict:
        """The first frame (already received or still to come) that satisfies
        `predicate`."""
        for frame in self.frames:
            if predicate(frame):
                return frame
        deadline = time.monotonic() + timeout
        try:
            while True:
                frame = await self.receive(max(0.01, deadline - time.monotonic()))
                if predicate(frame):
                    return frame
        except TimeoutError:
            pytest.fail(
                f"waited {timeout} s on port {self.server.port} in vain for {description}; "
                f"the last frames: {self.frames[-20:]}\nserver log:\n{self.server.output()}"
            )

    async def send_message(self, body: str) -> str:
        client_id = str(uuid.uuid4())
        await self.connection.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
        return client_id

    async def close(self):
        if self.connection is not None:
            await self.connection.close()


def is_message(client_id: str):
    return lambda frame: frame["type"] == "message" and frame.get("client_id") == client_id


def is_presence(online: set[int]):
    return lambda frame: frame["type"] == "presence" and set(frame["online"]) == online


def test_clients_on_two_processes_see_each_others_messages_and_presence(two_servers, world):
    first, second = two_servers
    room = world.joint
    plaintiff, defendant = world.plaintiff.pk, world.defendant.pk
    plaintiff_cookie, defendant_cookie = session_cookie(world.plaintiff), session_cookie(world.defendant)

    async def scenario():
        on_first = await Socket(first, room.pk, plaintiff_cookie).connect()
        on_second = None
        try:
            assert on_first.hello["me"]["id"] == plaintiff
            on_second = await Socket(second, room.pk, defendant_cookie).connect()
            assert on_second.hello["me"]["id"] == defendant
            assert set(on_second.hello["online"]) == {plaintiff, defendant}
            # The first process learns through Redis that someone joined on the second.
            await on_first.wait_for("presence of both", is_presence({plaintiff, defendant}))

            sent_on_first = await on_first.send_message("From the plaintiff, on the first process")
            own = await on_first.wait_for("the plaintiff's own message", is_message(sent_on_first))
            seen = await on_second.wait_for("the plaintiff's message", is_message(sent_on_first))
            assert seen == own
            assert seen["author"]["id"] == plaintiff

            sent_on_second = await on_second.send_message("From the defendant, on the second process")
            own = await on_second.wait_for("the defendant's own message", is_message(sent_on_second))
            seen = await on_first.wait_for("the defendant's message", is_message(sent_on_second))
            assert seen == own
            assert seen["seq"] > next(f for f in on_first.frames if is_message(sent_on_first)(f))["seq"]

            await on_second.close()
            # Leaving on the second process shows as offline on the first.
            await on_first.wait_for("the defendant going offline", is_presence({plaintiff}))
            return sent_on_first, sent_on_second, on_first.frames
        finally:
            await on_first.close()
            if on_second is not None:
                await on_second.close()

    sent_on_first, sent_on_second, frames = asyncio.run(scenario())

    messages = [frame for frame in frames if frame["type"] == "message"]
    assert [frame["client_id"] for frame in messages] == [sent_on_first, sent_on_second]
    assert messages[1]["seq"] == messages[0]["seq"] + 1
    stored = RoomEntry.objects.filter(room=room, client_id__in=[sent_on_first, sent_on_second])
    assert sorted(stored.values_list("seq", flat=True)) == [messages[0]["seq"], messages[1]["seq"]]
    assert stored.count() == 2


def test_sockets_closing_on_one_process_do_not_stop_it_relaying_the_other_processes_messages(two_servers, world):
    first, second = two_servers
    room = world.joint
    cookies = {
        user.pk: session_cookie(user) for user in (world.mediator, world.judge, world.plaintiff, world.defendant)
    }
    churn_seconds = 3

    async def scenario():
        sender = await Socket(first, room.pk, cookies[world.mediator.pk]).connect()
        observer = await Socket(second, room.pk, cookies[world.judge.pk]).connect()
        stop = time.monotonic() + churn_seconds

        async def churn(cookie):
            # Clients on the second process come and go (each close is a proper close
            # handshake) while messages from the first process reach the room.
            while time.monotonic() < stop:
                client = await Socket(second, room.pk, cookie).connect()
                await asyncio.sleep(0.01)
                await client.close()

        async def type_away():
            # Typing indicators travel through Redis like messages, without the
            # per-user message limit or the database.
            active = True
            while time.monotonic() < stop:
                await sender.connection.send(json.dumps({"type": "typing", "active": active}))
                active = not active
                await asyncio.sleep(0.002)

        async def drain(socket):
            with contextlib.suppress(Exception):
                async for _frame in socket.connection:
                    pass

        readers = [asyncio.create_task(drain(sender)), asyncio.create_task(drain(observer))]
        try:
            churners = [churn(cookies[user.pk]) for user in (world.plaintiff, world.defendant) for _ in range(3)]
            await asyncio.gather(type_away(), *churners)
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            after = await sender.send_message("After the churn")
            # The observer on the second process still gets what is said on the first.
            await observer.wait_for("a message sent after the churn", is_message(after))
        finally:
            for reader in readers:
                reader.cancel()
            await sender.close()
            await observer.close()

    asyncio.run(scenario())


def test_a_clients_messages_are_stored_and_delivered_in_the_order_it_sent_them(two_servers, world):
    # Whole frames are taken straight off the wire; fragmented ones, and the frames
    # after a typing or read frame, travel through daphne's queue. The order holds
    # across both ways.
    server = two_servers[0]
    room = world.joint
    cookie = session_cookie(world.mediator)

    async def scenario():
        socket = await Socket(server, room.pk, cookie).connect()
        try:
            sent = []
            for number in range(18):
                client_id = str(uuid.uuid4())
                text = json.dumps({"type": "message.send", "client_id": client_id, "body": f"Point {number}"})
                if number % 3 == 1:
                    await socket.connection.send(iter([text[:20], text[20:]]))
                else:
                    await socket.connection.send(text)
                if number % 4 == 2:
                    await socket.connection.send(json.dumps({"type": "typing", "active": True}))
                sent.append(client_id)
            for client_id in sent:
                await socket.wait_for("every message sent", is_message(client_id))
            return sent, [frame for frame in socket.frames if frame["type"] == "message"]
        finally:
            await socket.close()

    sent, delivered = asyncio.run(scenario())

    assert [frame["client_id"] for frame in delivered] == sent
    first = delivered[0]["seq"]
    assert [frame["seq"] for frame in delivered] == list(range(first, first + len(sent)))
    stored = RoomEntry.objects.filter(room=room, client_id__in=sent).order_by("seq")
    assert [str(entry.client_id) for entry in stored] == sent
