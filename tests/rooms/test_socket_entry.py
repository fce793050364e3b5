"""What a room socket costs to enter (issue 22, a storm of reconnections): after a
restart every client reconnects at once, so each query and thread hop of the way in is
paid a thousand times over, and a handshake that waits for the database runs into
daphne's handshake timeout. The way in stays as strict as before: refused sockets
never show up online, and the hello's `me` is the membership rule's answer."""

import asyncio
import json
import time

import pytest
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db.backends.utils import CursorWrapper

from rooms import selectors
from rooms.membership import member_of
from rooms.routing import signed_in_websocket_urlpatterns
from tests.servers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

signed_in_router = URLRouter(signed_in_websocket_urlpatterns)


def signed_in_socket(room_id: int, cookie: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(signed_in_router, f"/ws/rooms/{room_id}/", headers=[(b"cookie", cookie.encode())])


@pytest.fixture
def count_database_work(monkeypatch):
    """Queries (in any thread) and thread hops (database_sync_to_async calls) made
    while counting."""
    counts = {"queries": 0, "hops": 0, "on": False}
    execute, thread_handler = CursorWrapper._execute, DatabaseSyncToAsync.thread_handler

    def counted_execute(self, *args, **kwargs):
        if counts["on"]:
            counts["queries"] += 1
        return execute(self, *args, **kwargs)

    def counted_thread_handler(self, *args, **kwargs):
        if counts["on"]:
            counts["hops"] += 1
        return thread_handler(self, *args, **kwargs)

    monkeypatch.setattr(CursorWrapper, "_execute", counted_execute)
    monkeypatch.setattr(DatabaseSyncToAsync, "thread_handler", counted_thread_handler)
    return counts


async def test_a_participant_reaches_the_hello_in_six_queries_and_one_thread_hop(world, count_database_work):
    # Session, user; then the room with its staff, its participants, the mute and the
    # read mark (rooms.entry). Before issue 22 it took eight queries in three hops (the
    # access read twice), then four in two (signing in, then the hello).
    cookie = await database_sync_to_async(session_cookie)(world.plaintiff)
    socket = signed_in_socket(world.joint.pk, cookie)

    count_database_work["on"] = True
    connected, _ = await socket.connect()
    hello = json.loads((await socket.receive_output(timeout=5))["text"])
    count_database_work["on"] = False
    await socket.disconnect()

    assert connected and hello["type"] == "hello" and hello["me"]["id"] == world.plaintiff.pk
    assert (count_database_work["queries"], count_database_work["hops"]) == (6, 1)


async def test_sockets_entering_together_are_read_in_one_hop_whatever_their_number(world, count_database_work):
    """A restart storm: the sockets that arrive while the database thread is busy are
    signed in and read together, in as many queries as one socket, not once each."""
    people = [
        (world.mediator, world.joint),
        (world.judge, world.joint),
        (world.plaintiff, world.joint),
        (world.defendant, world.joint),
        (world.plaintiff, world.plaintiff_caucus),
        (world.mediator, world.defendant_caucus),
        (world.defendant, world.defendant_caucus),
    ]
    cookies = [await database_sync_to_async(session_cookie)(person) for person, _room in people]
    sockets = [signed_in_socket(room.pk, cookie) for (_person, room), cookie in zip(people, cookies, strict=True)]
    busy = asyncio.ensure_future(database_sync_to_async(time.sleep)(0.5))
    await asyncio.sleep(0.1)

    count_database_work["on"] = True
    await asyncio.gather(*(socket.connect(timeout=5) for socket in sockets))
    hellos = [json.loads((await socket.receive_output(timeout=5))["text"]) for socket in sockets]
    await busy
    count_database_work["on"] = False
    for socket in sockets:
        await socket.disconnect()

    assert [(hello["type"], hello["me"]["id"], hello["room"]["id"]) for hello in hellos] == [
        ("hello", person.pk, room.pk) for person, room in people
    ]
    # At most two batches (the first socket's, queued behind the busy thread, then
    # everyone who arrived meanwhile) of six queries in one hop each: fourteen hops
    # and twenty-eight queries before.
    assert count_database_work["hops"] <= 2
    assert count_database_work["queries"] <= 12


async def test_the_handshake_is_accepted_while_the_database_thread_is_busy(world):
    """In a storm the database thread has a queue; the handshake must not wait in it
    (daphne closes a handshake not accepted within its timeout), the hello may."""
    cookie = await database_sync_to_async(session_cookie)(world.plaintiff)
    socket = signed_in_socket(world.joint.pk, cookie)
    busy = asyncio.ensure_future(database_sync_to_async(time.sleep)(2))
    await asyncio.sleep(0.1)

    started = time.monotonic()
    connected, _ = await socket.connect(timeout=1)
    accepted_after = time.monotonic() - started
    hello = json.loads((await socket.receive_output(timeout=5))["text"])
    await busy
    await socket.disconnect()

    assert connected and accepted_after < 1
    assert hello["type"] == "hello"


async def test_a_socket_refused_at_the_caucus_never_shows_online_there(world, connect):
    plaintiff, _ = await connect(world.plaintiff, world.plaintiff_caucus)

    _defendant, code = await connect(world.defendant, world.plaintiff_caucus)
    assert code == 4403
    await asyncio.sleep(0.3)

    frames = []
    while not await plaintiff.nothing_more(timeout=0.3):
        frames.append(await plaintiff.receive())
    online = {user for frame in frames if frame["type"] == "presence" for user in frame["online"]}
    assert world.defendant.pk not in online
    assert world.defendant.pk not in plaintiff.hello["online"]


def test_the_hello_finds_each_person_as_the_membership_rule_does(world):
    people = [world.mediator, world.judge, world.plaintiff, world.defendant]
    for room in (world.joint, world.plaintiff_caucus, world.defendant_caucus):
        for person in people:
            access, hello = selectors.hello(person, room.pk)
            expected = member_of(person, room)
            assert access.member == expected, (person, room.kind)
            if expected is None:
                assert (access.refusal, hello) == ("not_member", None)
            else:
                assert hello["me"] == expected.as_dict()
