"""Per-process fan-out of room traffic.

Each server process keeps one hub. A room frame is encoded to text once (and to its
bytes on the wire once, see rooms.wire), handed directly to the process's own sockets
in that room, and published to the other processes through Redis. No thread hop per
delivery, no Redis subscription per socket.

Publishing never waits for Redis on the delivery path: frames queue for one publisher
task, which sends whatever accumulated since its last round trip as one message on the
deployment's one channel. Every process receives each batch once and hands each frame
to its own sockets in that frame's room, if any; it ignores its own batches, whose
frames it delivered already. So Redis carries one message per batch rather than one
per frame, and a socket joining or leaving costs no subscription. Every process reads
every room's traffic, which suits the few processes a court runs; a deployment with
very many would split the channel by room.

Without Redis (the embedded default) the hub is purely local.

A batch is `<origin>` then one record per line (frame and control texts are JSON,
which has no raw line breaks): `F<room>|<seq>|<frame text>` for room frames,
`C<room>|<json>` and `U<user>|<json>` for control messages to a room's or a user's
sockets (close a room, revoke a user). Synchronous code (services, after commit)
publishes single records with the origin `sync`, which every process delivers, this
one included.

Redis pub/sub ignores the database number, so channel and presence names carry a
prefix of their own (ROOMS_REDIS_PREFIX, by default derived from the database name):
two deployments, or two test runs, sharing one Redis never hear each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections import defaultdict
from typing import Protocol

from django.conf import settings

from rooms.presence import HEARTBEAT_SECONDS, MemoryPresence, RedisPresence
from rooms.protocol import encode
from rooms.wire import Burst, Outgoing

logger = logging.getLogger(__name__)

ROOM_FRAME = "F"
ROOM_CONTROL = "C"
USER_CONTROL = "U"
SYNC_ORIGIN = "sync"
RECONNECT_BACKOFF_CAP = 2.0
# Concurrent Redis commands of one process (presence, publishing); callers beyond it
# wait for a connection instead of failing.
REDIS_POOL_SIZE = 32
# Entries (a frame, or a stored batch's frames) waiting to be published; beyond this
# the oldest are dropped (the sockets that miss them fill the gap from the database).
MAX_PUBLISH_BACKLOG = 50_000
# Characters of records in one published batch.
MAX_BATCH_CHARS = 1_000_000
# Seconds a publish from synchronous code (after a commit, in the thread that committed)
# may wait for Redis: a Redis that accepts and never answers must not hold up that
# thread, which under daphne serves the process's page loads and database calls.
SYNC_PUBLISH_TIMEOUT = 2


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

    async def catch_up(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def channel_prefix() -> str:
    configured = getattr(settings, "ROOMS_REDIS_PREFIX", "")
    if configured:
        return configured
    database = str(settings.DATABASES["default"]["NAME"])
    return "rooms-" + hashlib.sha1(database.encode("utf-8")).hexdigest()[:10]


class RoomHub:
    def __init__(self, redis_url: str = ""):
        self.redis_url = redis_url
        self.prefix = channel_prefix()
        self.origin = uuid.uuid4().hex[:12]
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rooms: dict[int, set[Connection]] = defaultdict(set)
        self.users: dict[int, set[Connection]] = defaultdict(set)
        self.presence = MemoryPresence()
        self.redis = None
        self._pubsub = None
        self._connected_before = False
        self._tasks: list[asyncio.Task] = []
        self._published_presence: dict[int, list[int]] = {}
        self._outbox: asyncio.Queue | None = None
        self._sync_redis = None
        self.reading_paused = False

    @property
    def channel(self) -> str:
        return f"{self.prefix}:hub"

    # -- life cycle -------------------------------------------------------------

    async def _ensure_started(self) -> None:
        running = asyncio.get_running_loop()
        if self.loop is running:
            return
        # A new event loop (a test, a restarted server): nothing of the old one lives.
        self.loop = running
        self.rooms.clear()
        self.users.clear()
        self._published_presence.clear()
        self.reading_paused = False
        self._tasks = [running.create_task(self._heartbeat())]
        if not self.redis_url:
            self.presence = MemoryPresence()
            return
        self.redis = _async_client(self.redis_url)
        self.presence = RedisPresence(self.redis, self.prefix)
        self._outbox = asyncio.Queue()
        self._pubsub = None
        self._connected_before = False
        with contextlib.suppress(Exception):
            await self._connect()
        self._tasks.append(running.create_task(self._listen()))
        self._tasks.append(running.create_task(self._publisher()))

    async def _connect(self) -> None:
        """Subscribe on a fresh connection. After a reconnection, every socket catches
        up from the database on what was published while the hub was away."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        self._pubsub = pubsub
        if self._connected_before:
            logger.info("Room hub reconnected to Redis; %s sockets catch up", self._socket_count())
            # In the background: a socket's catch-up waits for its client to read, and
            # the hub must go on relaying meanwhile.
            for connections in list(self.rooms.values()):
                for connection in list(connections):
                    spawn(_catch_up(connection))
        self._connected_before = True

    async def _listen(self) -> None:
        backoff = 0.1
        while not _cancelled():
            if self._pubsub is None:
                try:
                    await self._connect()
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    logger.warning("Room hub cannot reach Redis (%s); retrying in %.1f s", error, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, RECONNECT_BACKOFF_CAP)
                    continue
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("Room hub lost Redis (%s); reconnecting", error)
                pubsub, self._pubsub = self._pubsub, None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                continue
            if message is not None:
                try:
                    await self._dispatch(message["data"])
                except Exception:
                    # Nothing that happens to one message may stop the listener.
                    logger.exception("Room hub could not dispatch a batch")

    async def _publisher(self) -> None:
        """Send everything queued since the last round trip as one message."""
        while not _cancelled():
            batch = [self.origin, await self._outbox.get()]
            size = len(batch[1])
            while not self._outbox.empty() and size < MAX_BATCH_CHARS:
                record = self._outbox.get_nowait()
                batch.append(record)
                size += len(record)
            payload = "\n".join(batch)
            for attempt in (1, 2):
                try:
                    await self.redis.publish(self.channel, payload)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:
                    if attempt == 1:
                        # After Redis restarts, each pooled connection fails once (and is
                        # reconnected): try again rather than drop the frames.
                        continue
                    # Stored entries are not lost: other processes catch up when their
                    # own Redis connection comes back, and sockets fill sequence gaps
                    # from the database.
                    logger.warning("Could not publish %s frames", len(batch) - 1, exc_info=True)
                    await asyncio.sleep(0.2)

    async def _heartbeat(self) -> None:
        while not _cancelled():
            await asyncio.sleep(HEARTBEAT_SECONDS)
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

    def _socket_count(self) -> int:
        return sum(len(connections) for connections in self.rooms.values())

    # -- membership of the hub -------------------------------------------------

    async def join(self, connection: Connection) -> None:
        """Join the room's traffic and its presence."""
        await self.enter(connection)
        await self.announce(connection)

    async def enter(self, connection: Connection) -> None:
        """Receive the room's frames and the room's and the user's control messages,
        without appearing online: a room socket enters before its access is read, and
        is announced (`announce`) once that read let it in."""
        await self._ensure_started()
        self.rooms[connection.room_id].add(connection)
        self.users[connection.user_id].add(connection)
        if self.reading_paused:
            connection.pause_reading()

    async def announce(self, connection: Connection) -> list[int]:
        """Add an entered connection (its `presence_member` set) to its room's presence,
        tell the room, and answer who is online there, itself included. While presence
        is unreachable (Redis away), those announced through this process."""
        room_id = connection.room_id
        try:
            online = await self.presence.arrive(room_id, connection.presence_member)
        except Exception as error:
            logger.warning("Presence of room %s unavailable (%s); answering with this process's", room_id, error)
            return self._online_here(room_id)
        try:
            await self._publish_presence(room_id, online)
        except Exception:
            logger.warning("Presence update for room %s failed", room_id, exc_info=True)
        return online

    async def leave(self, connection: Connection) -> None:
        room_connections = self.rooms.get(connection.room_id)
        if not room_connections or connection not in room_connections:
            return
        room_connections.discard(connection)
        self.users[connection.user_id].discard(connection)
        if not room_connections:
            del self.rooms[connection.room_id]
            self._published_presence.pop(connection.room_id, None)
        if not self.users[connection.user_id]:
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
        rooms.writer.PAUSE_READING_AT). Delivery goes on."""
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
        await self._deliver_frames(frames)
        if frames:
            self._publish("\n".join([_frame_record(room_id, frame, seq) for room_id, frame, seq in frames]))

    async def publish_room_control(self, room_id: int, message: dict) -> None:
        await self._control_room(room_id, message)
        self._publish(_control_record(ROOM_CONTROL, room_id, message))

    async def publish_user_control(self, user_id: int, message: dict) -> None:
        await self._control_user(user_id, message)
        self._publish(_control_record(USER_CONTROL, user_id, message))

    def _publish(self, records: str) -> None:
        """Queue one record, or several joined by line breaks, for the publisher."""
        if self._outbox is None:
            return
        if self._outbox.qsize() >= MAX_PUBLISH_BACKLOG:
            self._outbox.get_nowait()
            logger.warning("Publish backlog full; dropped the oldest frames")
        self._outbox.put_nowait(records)

    # Called from synchronous code (services, after commit) in any thread.

    def publish_room_threadsafe(self, room_id: int, frame: str, seq: int = 0) -> None:
        self._publish_threadsafe(
            _frame_record(room_id, frame, seq), lambda: self._deliver_frames([(room_id, frame, seq)])
        )

    def publish_room_control_threadsafe(self, room_id: int, message: dict) -> None:
        self._publish_threadsafe(
            _control_record(ROOM_CONTROL, room_id, message), lambda: self._control_room(room_id, message)
        )

    def publish_user_control_threadsafe(self, user_id: int, message: dict) -> None:
        self._publish_threadsafe(
            _control_record(USER_CONTROL, user_id, message), lambda: self._control_user(user_id, message)
        )

    def _publish_threadsafe(self, record: str, deliver_locally) -> None:
        if self.redis_url:
            # Every process, this one included, receives it through Redis.
            try:
                self._sync_client().publish(self.channel, f"{SYNC_ORIGIN}\n{record}")
            except Exception:
                logger.warning("Could not publish %s", record[:40], exc_info=True)
            return
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(deliver_locally(), loop)

    def _sync_client(self):
        if self._sync_redis is None:
            import redis

            if settings.REDIS_SENTINELS:
                from redis.sentinel import Sentinel

                sentinel = Sentinel(
                    settings.REDIS_SENTINELS, sentinel_kwargs=settings.REDIS_SENTINEL_KWARGS, socket_connect_timeout=2
                )
                self._sync_redis = sentinel.master_for(
                    settings.REDIS_SENTINEL_MASTER,
                    decode_responses=True,
                    socket_timeout=SYNC_PUBLISH_TIMEOUT,
                    **settings.REDIS_SENTINEL_CONNECTION,
                )
            else:
                self._sync_redis = redis.Redis.from_url(
                    self.redis_url, decode_responses=True, socket_connect_timeout=2, socket_timeout=SYNC_PUBLISH_TIMEOUT
                )
        return self._sync_redis

    # -- delivery ------------------------------------------------------------------

    async def _dispatch(self, batch: str) -> None:
        origin, _, records = batch.partition("\n")
        if origin == self.origin:
            return
        frames: list[tuple[int, str, int]] = []
        for record in records.split("\n"):
            kind, _, rest = record.partition("|")
            try:
                kind, identifier = kind[:1], int(kind[1:])
                if kind == ROOM_FRAME:
                    seq, _, frame = rest.partition("|")
                    frames.append((identifier, frame, int(seq)))
                elif kind in (ROOM_CONTROL, USER_CONTROL):
                    message = json.loads(rest)
                    # In order: the frames before it first.
                    await self._deliver_frames(frames)
                    frames = []
                    if kind == ROOM_CONTROL:
                        await self._control_room(identifier, message)
                    else:
                        await self._control_user(identifier, message)
            except ValueError:
                logger.warning("Ignoring a malformed hub record %r", record[:40])
        await self._deliver_frames(frames)

    async def _deliver_frames(self, frames: list[tuple[int, str, int]]) -> None:
        """Hand each (room, frame, seq) to this process's sockets in its room, in order.
        The sockets that take frames now get all of theirs in one write each, once
        every frame is handed out (see rooms.wire.Burst). A socket that needs
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

    async def _control_room(self, room_id: int, message: dict) -> None:
        for connection in list(self.rooms.get(room_id, ())):
            with contextlib.suppress(Exception):
                await connection.control(message)

    async def _control_user(self, user_id: int, message: dict) -> None:
        for connection in list(self.users.get(user_id, ())):
            with contextlib.suppress(Exception):
                await connection.control(message)


def _frame_record(room_id: int, frame: str, seq: int) -> str:
    return f"{ROOM_FRAME}{room_id}|{seq}|{frame}"


def _control_record(kind: str, identifier: int, message: dict) -> str:
    return f"{kind}{identifier}|{json.dumps(message)}"


def _async_client(redis_url: str):
    """The hub's Redis: through Sentinel when sentinels are configured (several
    hosts), else the URL's server, with a bounded pool callers wait for."""
    import redis.asyncio as aioredis

    if settings.REDIS_SENTINELS:
        from redis.asyncio.sentinel import Sentinel

        sentinel = Sentinel(
            settings.REDIS_SENTINELS, sentinel_kwargs=settings.REDIS_SENTINEL_KWARGS, socket_connect_timeout=2
        )
        return sentinel.master_for(
            settings.REDIS_SENTINEL_MASTER,
            decode_responses=True,
            socket_keepalive=True,
            **settings.REDIS_SENTINEL_CONNECTION,
        )
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url,
        max_connections=REDIS_POOL_SIZE,
        timeout=10,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_keepalive=True,
    )
    return aioredis.Redis(connection_pool=pool)


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


def _cancelled() -> bool:
    """Whether this task is being cancelled: redis-py can swallow the CancelledError
    of a pending read, and a loop that never ends keeps the event loop from closing."""
    return asyncio.current_task().cancelling() > 0


_hub: RoomHub | None = None


def get_hub() -> RoomHub:
    global _hub
    if _hub is None:
        _hub = RoomHub(settings.REDIS_URL)
    return _hub
