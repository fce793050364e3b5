"""Per-process fan-out of room traffic.

Each server process keeps one hub. A room frame is encoded to text once (and to its
bytes on the wire once, see rooms.server.daphne), handed directly to the process's
own sockets in that room, and, with Redis, published to the other processes by the
hub's broker (rooms.broker), which hands the other processes' frames back to the hub
for delivery. No thread hop per delivery, no Redis subscription per socket.

Without Redis (the embedded default) the hub is purely local. The hub also keeps
presence (rooms.presence) and pauses reading its sockets when the writer is behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from collections import defaultdict
from typing import Protocol

from rooms import conf
from rooms.broker import (
    ROOM_CONTROL,
    USER_CONTROL,
    RedisBroker,
    cancelled,
    channel_prefix,
    control_record,
    frame_record,
)
from rooms.presence import MemoryPresence, RedisPresence
from rooms.protocol import encode
from rooms.runtime import runtime
from rooms.server.daphne import Burst, Outgoing

logger = logging.getLogger(__name__)


class Connection(Protocol):
    room_id: int
    case_id: int
    user_id: int
    presence_member: str
    delivered_seq: int

    def deliver_now(self, frame: Outgoing, seq: int, burst: Burst) -> bool: ...

    def write_failed(self, seq_before: int) -> None: ...

    async def deliver(self, frame: Outgoing, seq: int) -> None: ...

    async def control(self, message: dict) -> None: ...

    def heard(self, user_id: int, message: dict) -> None: ...

    async def catch_up(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class RoomHub:
    def __init__(self, redis_url: str = ""):
        self.redis_url = redis_url
        self.prefix = channel_prefix()
        self.origin = uuid.uuid4().hex[:12]
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rooms: dict[int, set[Connection]] = defaultdict(set)
        self.users: dict[int, set[Connection]] = defaultdict(set)
        # Entered, their user not known yet (see `enter`).
        self.entering: set[Connection] = set()
        self.presence = MemoryPresence()
        self.broker = RedisBroker(self, redis_url, self.prefix) if redis_url else None
        self._tasks: list[asyncio.Task] = []
        self._published_presence: dict[int, list[int]] = {}
        self._arrivals: list[tuple[Connection, asyncio.Future]] = []
        self._announcing: asyncio.Task | None = None
        self.reading_paused = False

    # -- life cycle -------------------------------------------------------------

    async def _ensure_started(self) -> None:
        running = asyncio.get_running_loop()
        if self.loop is running:
            return
        # A new event loop (a test, a restarted server): nothing of the old one lives.
        self.loop = running
        self.rooms.clear()
        self.users.clear()
        self.entering.clear()
        self._published_presence.clear()
        self._arrivals, self._announcing = [], None
        self.reading_paused = False
        self._tasks = [running.create_task(self._heartbeat())]
        if self.broker is None:
            self.presence = MemoryPresence()
            return
        self.presence = RedisPresence(self.broker.open(), self.prefix)
        self._tasks += await self.broker.start(running)

    def close(self) -> None:
        """Let go of what outlives an event loop (see rooms.runtime.reset): the
        broker's synchronous Redis connection. The loop's tasks end with their loop."""
        if self.broker is not None:
            self.broker.close()

    async def _heartbeat(self) -> None:
        while not cancelled():
            await asyncio.sleep(conf.HEARTBEAT_SECONDS)
            try:
                # Not a socket still entering: it is not online until its access is read.
                members = [
                    (c.room_id, c.presence_member) for cs in self.rooms.values() for c in cs if c.presence_member
                ]
                await self.presence.refresh(members)
                for room_id, online in (await self.presence.online_in(list(self.rooms))).items():
                    if room_id in self.rooms:
                        await self._publish_presence(room_id, online, only_if_changed=True)
            except Exception:
                logger.exception("Presence heartbeat failed")

    def socket_count(self) -> int:
        return sum(len(connections) for connections in self.rooms.values())

    def catch_up_everyone(self) -> None:
        """Every socket catches up from the database (the broker is back after missing
        what the other processes published). In the background: a socket's catch-up
        waits for its client to read, and the hub must go on relaying meanwhile."""
        for connections in list(self.rooms.values()):
            for connection in list(connections):
                spawn(_catch_up(connection))

    # -- membership of the hub -------------------------------------------------

    async def join(self, connection: Connection) -> None:
        """Join the room's traffic and its presence."""
        await self.enter(connection)
        await self.announce(connection)

    async def enter(self, connection: Connection) -> None:
        """Receive the room's frames and the room's and the user's control messages,
        without appearing online: a room socket enters before its access is read, and
        is announced (`announce`) once that read let it in. A connection whose user is
        not known yet (`user_id` 0: it enters before it is signed in) is handed every
        user's control messages (`heard`) until `signed_in`."""
        await self._ensure_started()
        self.rooms[connection.room_id].add(connection)
        if connection.user_id:
            self.users[connection.user_id].add(connection)
        else:
            self.entering.add(connection)
        if self.reading_paused:
            connection.pause_reading()

    def signed_in(self, connection: Connection) -> None:
        """An entered connection's user is known (its `user_id` set): it receives that
        user's control messages only."""
        if connection in self.entering:
            self.entering.discard(connection)
            self.users[connection.user_id].add(connection)

    async def announce(self, connection: Connection) -> list[int]:
        """Add an entered connection (its `presence_member` set) to its room's presence,
        tell the room, and answer who is online there, itself included. While presence
        is unreachable (Redis away), those announced through this process. The
        connections announced together (a restart storm's, let in by one batch of
        rooms.entry) are added in one round trip, and each room told once."""
        future = asyncio.get_running_loop().create_future()
        self._arrivals.append((connection, future))
        if self._announcing is None or self._announcing.done():
            self._announcing = asyncio.get_running_loop().create_task(self._announce_arrivals())
        return await future

    async def _announce_arrivals(self) -> None:
        # Let the connections let in with this one queue first.
        await asyncio.sleep(0)
        while self._arrivals:
            batch, self._arrivals = self._arrivals, []
            # Not one that left meanwhile (closed by a control message): it would stay
            # online until its presence expired.
            present = []
            for connection, future in batch:
                if connection in self.rooms.get(connection.room_id, ()):
                    present.append((connection, future))
                elif not future.done():
                    future.set_result(self._online_here(connection.room_id))
            batch = present
            if not batch:
                continue
            try:
                online = await self.presence.arrive([(c.room_id, c.presence_member) for c, _future in batch])
            except Exception as error:
                room_ids = sorted({c.room_id for c, _future in batch})
                logger.warning("Presence of rooms %s unavailable (%s); answering with this process's", room_ids, error)
                for connection, future in batch:
                    if not future.done():
                        future.set_result(self._online_here(connection.room_id))
                continue
            for room_id, room_online in online.items():
                try:
                    await self._publish_presence(room_id, room_online)
                except Exception:
                    logger.warning("Presence update for room %s failed", room_id, exc_info=True)
            for connection, future in batch:
                if not future.done():
                    future.set_result(online[connection.room_id])

    async def leave(self, connection: Connection) -> None:
        room_connections = self.rooms.get(connection.room_id)
        if not room_connections or connection not in room_connections:
            return
        room_connections.discard(connection)
        self.entering.discard(connection)
        if not room_connections:
            del self.rooms[connection.room_id]
            self._published_presence.pop(connection.room_id, None)
        user_connections = self.users.get(connection.user_id)
        if user_connections is not None:
            user_connections.discard(connection)
            if not user_connections:
                del self.users[connection.user_id]
        if connection.presence_member:
            await self._presence_change(connection.room_id, self.presence.remove, connection.presence_member)

    async def _presence_change(self, room_id: int, change, member: str) -> None:
        try:
            await change(room_id, member)
            await self._publish_presence(room_id, await self.presence.online(room_id))
        except Exception:
            logger.warning("Presence update for room %s failed", room_id, exc_info=True)

    async def online(self, room_id: int) -> list[int]:
        """Who is online in the room; while presence is unreachable (Redis away), those
        online through this process, so that sockets still enter."""
        try:
            return await self.presence.online(room_id)
        except Exception as error:
            logger.warning("Presence of room %s unavailable (%s); answering with this process's", room_id, error)
            return self._online_here(room_id)

    def _online_here(self, room_id: int) -> list[int]:
        return sorted({each.user_id for each in self.rooms.get(room_id, ()) if each.presence_member})

    async def online_in(self, room_ids: list[int]) -> dict[int, list[int]]:
        return await self.presence.online_in(room_ids)

    async def _publish_presence(self, room_id: int, online: list[int], *, only_if_changed: bool = False) -> None:
        if only_if_changed and self._published_presence.get(room_id) == online:
            return
        self._published_presence[room_id] = online
        await self.publish_room(room_id, encode({"type": "presence", "online": online}))

    # -- reading -------------------------------------------------------------------

    def pause_reading(self) -> None:
        """Stop reading every room socket of this process, and those that join, until
        `resume_reading`: the writer is too far behind the database to take more (see
        rooms.conf.PAUSE_READING_AT). Delivery goes on."""
        self.reading_paused = True
        for connection in self._connections():
            connection.pause_reading()

    def resume_reading(self) -> None:
        self.reading_paused = False
        for connection in self._connections():
            connection.resume_reading()

    def _connections(self) -> list[Connection]:
        return [connection for connections in self.rooms.values() for connection in connections]

    # -- publishing --------------------------------------------------------------

    async def publish_room(self, room_id: int, frame: str, seq: int = 0) -> None:
        await self.publish_room_frames([(room_id, frame, seq)])

    async def publish_room_frames(self, frames: list[tuple[int, str, int]]) -> None:
        """Deliver each (room, frame, seq) to this process's sockets, in order, and
        queue their records for the other processes as one outbox entry (a stored
        batch goes out whole)."""
        await self.deliver_frames(frames)
        if frames:
            self._publish("\n".join([frame_record(room_id, frame, seq) for room_id, frame, seq in frames]))

    async def publish_room_control(self, room_id: int, message: dict) -> None:
        await self.control_room(room_id, message)
        self._publish(control_record(ROOM_CONTROL, room_id, message))

    async def publish_user_control(self, user_id: int, message: dict) -> None:
        await self.control_user(user_id, message)
        self._publish(control_record(USER_CONTROL, user_id, message))

    def _publish(self, records: str) -> None:
        """Queue records for the other processes (nothing to do without Redis)."""
        if self.broker is not None:
            self.broker.publish(records)

    # Called from synchronous code (services, after commit) in any thread.

    def publish_room_threadsafe(self, room_id: int, frame: str, seq: int = 0) -> None:
        self._publish_threadsafe(
            frame_record(room_id, frame, seq), lambda: self.deliver_frames([(room_id, frame, seq)])
        )

    def publish_room_control_threadsafe(self, room_id: int, message: dict) -> None:
        self._publish_threadsafe(
            control_record(ROOM_CONTROL, room_id, message), lambda: self.control_room(room_id, message)
        )

    def publish_user_control_threadsafe(self, user_id: int, message: dict) -> None:
        self._publish_threadsafe(
            control_record(USER_CONTROL, user_id, message), lambda: self.control_user(user_id, message)
        )

    def _publish_threadsafe(self, record: str, deliver_locally) -> None:
        if self.broker is not None:
            # Every process, this one included, receives it through Redis.
            self.broker.publish_sync(record)
            return
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            # In a context of its own, not the caller's: a request thread's context holds
            # asgiref's executor of that request, gone once it is answered, and a task
            # that inherited it could no longer call sync code (sync_to_async).
            contextvars.Context().run(asyncio.run_coroutine_threadsafe, deliver_locally(), loop)

    # -- delivery ------------------------------------------------------------------

    async def deliver_frames(self, frames: list[tuple[int, str, int]]) -> None:
        """Hand each (room, frame, seq) to this process's sockets in its room, in order.
        The sockets that take frames now get all of theirs in one write each, once
        every frame is handed out (see rooms.server.daphne.Burst). A socket that needs
        `deliver` for a frame (before its hello, closing, its client behind) gets that
        frame and its later ones through it afterwards, still in order."""
        burst = Burst()
        later: list[tuple[Connection, Outgoing, int]] = []
        waiting: set[Connection] = set()
        for room_id, text, seq in frames:
            connections = self.rooms.get(room_id)
            if not connections:
                continue
            frame = Outgoing(text)
            for connection in connections:
                try:
                    if (waiting and connection in waiting) or not connection.deliver_now(frame, seq, burst):
                        waiting.add(connection)
                        later.append((connection, frame, seq))
                except Exception:
                    # Sockets handle their own closing; this is a defect. One socket
                    # failing must not cost the others their frame.
                    self._delivery_failed(connection)
        burst.send()
        for connection, frame, seq in later:
            try:
                await connection.deliver(frame, seq)
            except Exception:
                self._delivery_failed(connection)

    def _delivery_failed(self, connection: Connection) -> None:
        """A socket raised while taking a frame: the frame may not have reached its
        client, so it is closed with 1011 and its client resumes from its last seq."""
        logger.error(
            "Delivery to user %s's socket in room %s failed", connection.user_id, connection.room_id, exc_info=True
        )
        connection.write_failed(connection.delivered_seq)

    async def control_room(self, room_id: int, message: dict) -> None:
        for connection in list(self.rooms.get(room_id, ())):
            with contextlib.suppress(Exception):
                await connection.control(message)

    async def control_user(self, user_id: int, message: dict) -> None:
        for connection in list(self.users.get(user_id, ())):
            with contextlib.suppress(Exception):
                await connection.control(message)
        for connection in list(self.entering):
            with contextlib.suppress(Exception):
                connection.heard(user_id, message)


async def _catch_up(connection) -> None:
    try:
        await connection.catch_up()
    except Exception:
        logger.warning("A socket could not catch up after Redis returned; it will on its next gap", exc_info=True)


_background: set[asyncio.Task] = set()


def spawn(coroutine) -> asyncio.Task:
    """Run `coroutine` in the background, holding a reference until it ends: the event
    loop keeps only weak ones, and a task it alone holds can vanish mid-way."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def background_settled() -> None:
    """Wait until the tasks spawned on this event loop, and any they spawn in turn,
    have ended: whoever empties the tables afterwards (a test's teardown) must not
    race their queries, which could deadlock with it."""
    loop = asyncio.get_running_loop()
    while pending := [task for task in _background if task.get_loop() is loop]:
        await asyncio.gather(*pending, return_exceptions=True)


def get_hub() -> RoomHub:
    """The process's hub (see rooms.runtime)."""
    return runtime.hub
