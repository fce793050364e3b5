"""The hub hands a stored batch to the process's sockets: each socket that takes frames
now gets all of its frames of the batch in one write, in order; a socket that needs the
slow path for one frame gets that frame and its later ones through it, still in order."""

import asyncio
import threading
import time
from socket import create_server

from rooms.conf import SYNC_PUBLISH_TIMEOUT
from rooms.hub import RoomHub, background_settled, spawn
from rooms.server.daphne import text_frame


class FakeTransport:
    def __init__(self):
        self.writes = []

    def write(self, data):
        self.writes.append(data)


class FakeProtocol:
    def __init__(self):
        self.transport = FakeTransport()


class FakeSocket:
    """A room socket whose client keeps up, until `behind_from` (a seq): from then on
    it needs the slow path."""

    def __init__(self, room_id, behind_from=None):
        self.room_id = room_id
        self.protocol = FakeProtocol()
        self.behind_from = behind_from
        self.slow = []

    def deliver_now(self, frame, seq, burst):
        if self.behind_from is not None and seq >= self.behind_from:
            return False
        burst.add(self, self.protocol, frame, 0)
        return True

    def write_failed(self, seq_before):
        self.failed_from = seq_before

    async def deliver(self, frame, seq):
        self.slow.append((frame.text, seq))

    @property
    def writes(self):
        return self.protocol.transport.writes


def hub_with(*sockets):
    hub = RoomHub()
    for socket in sockets:
        hub.rooms[socket.room_id].add(socket)
    return hub


def wire(*texts):
    return b"".join(text_frame(text.encode()) for text in texts)


async def test_each_socket_gets_its_frames_of_a_batch_in_one_write_in_order():
    first, second, elsewhere = FakeSocket(1), FakeSocket(1), FakeSocket(2)
    hub = hub_with(first, second, elsewhere)

    await hub.publish_room_frames([(1, '{"n":1}', 1), (2, '{"n":"x"}', 1), (1, '{"n":2}', 2), (1, '{"n":3}', 3)])

    assert first.writes == second.writes == [wire('{"n":1}', '{"n":2}', '{"n":3}')]
    assert elsewhere.writes == [wire('{"n":"x"}')]


async def test_a_socket_that_falls_behind_gets_the_rest_of_the_batch_through_the_slow_path_in_order():
    behind, keeping_up = FakeSocket(1, behind_from=2), FakeSocket(1)
    hub = hub_with(behind, keeping_up)

    await hub.publish_room_frames([(1, '{"n":1}', 1), (1, '{"n":2}', 2), (1, '{"n":3}', 3)])

    assert behind.writes == [wire('{"n":1}')]
    assert behind.slow == [('{"n":2}', 2), ('{"n":3}', 3)]
    assert keeping_up.writes == [wire('{"n":1}', '{"n":2}', '{"n":3}')]


async def test_background_settled_waits_for_tasks_spawned_by_background_tasks():
    ended = []

    async def announce():
        await asyncio.sleep(0.01)
        ended.append("announce")

    async def answer():
        await asyncio.sleep(0.01)
        spawn(announce())
        ended.append("answer")

    spawn(answer())
    await background_settled()
    assert ended == ["answer", "announce"]


def test_a_publish_after_commit_gives_up_on_a_redis_that_never_answers(settings):
    """The committing thread (under daphne, the one that serves the process's page loads)
    is back within the timeout, and the publish is only lost, not waited for."""
    settings.REDIS_SENTINELS = []
    with create_server(("127.0.0.1", 0)) as silent_redis:
        hub = RoomHub(f"redis://127.0.0.1:{silent_redis.getsockname()[1]}/0")
        started = time.monotonic()
        publishing = threading.Thread(target=hub.publish_room_threadsafe, args=(1, '{"type":"event"}', 1))
        publishing.start()
        publishing.join(SYNC_PUBLISH_TIMEOUT + 3)
        assert not publishing.is_alive()
        assert time.monotonic() - started >= SYNC_PUBLISH_TIMEOUT - 0.1


class Arriving(FakeSocket):
    """A socket being announced: its user, its presence member, and the frames the
    hub hands it."""

    def __init__(self, room_id, user_id):
        super().__init__(room_id)
        self.user_id = user_id
        self.presence_member = f"{user_id}:here:{user_id}"

    def pause_reading(self):
        pass


async def test_sockets_let_in_together_are_announced_in_one_presence_write_and_each_room_told_once():
    """A restart storm lets in a batch of sockets at once (rooms.entry): each is
    answered who is online (everyone of the batch in its room, itself included), with
    one presence round trip for all and one presence frame per room, not one each."""
    present = Arriving(1, 10)
    entering = [Arriving(1, 11), Arriving(1, 12), Arriving(2, 13)]
    hub = RoomHub()
    await hub.join(present)
    present.writes.clear()
    arrivals = []
    arrive = hub.presence.arrive

    async def counted_arrive(members):
        arrivals.append(members)
        return await arrive(members)

    hub.presence.arrive = counted_arrive
    for socket in entering:
        await hub.enter(socket)

    online = await asyncio.gather(*(hub.announce(socket) for socket in entering))

    assert online == [[10, 11, 12], [10, 11, 12], [13]]
    assert len(arrivals) == 1
    assert present.writes == [wire('{"type":"presence","online":[10,11,12]}')]


async def test_a_socket_entering_before_its_user_is_known_hears_every_users_control_messages_until_it_is():
    """A socket enters its room's hub before it is signed in (rooms.entry reads both
    at once): a revoke published meanwhile must still reach it, so it is handed every
    user's control messages, and only its own user's once it is signed in."""
    heard = []

    class Entering(Arriving):
        def heard(self, user_id, message):
            heard.append((user_id, message))

        async def control(self, message):
            heard.append(("mine", message))

    socket = Entering(1, 0)
    hub = RoomHub()
    await hub.enter(socket)
    await hub.control_user(42, {"op": "revoke", "case": 7})
    socket.user_id = 42
    hub.signed_in(socket)
    await hub.control_user(43, {"op": "revoke", "case": 7})
    await hub.control_user(42, {"op": "revoke", "case": 8})

    assert heard == [(42, {"op": "revoke", "case": 7}), ("mine", {"op": "revoke", "case": 8})]
    await hub.leave(socket)
    assert not hub.entering and not hub.users and not hub.rooms
