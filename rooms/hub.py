"""Per-process fan-out of room traffic.

Each server process keeps one hub. A room frame is encoded to text once, handed
directly to the process's own sockets in that room, and published once to Redis on
the room's channel; every other process subscribed to that channel (because it has
sockets in the room) receives it once and hands it to its own sockets. There is one
Redis subscription per room per process, not one per socket, and no thread hop per
delivery.

Without Redis (the embedded default) the hub is purely local.

Channel payloads are `<origin>|F<seq>|<frame text>` for frames and
`<origin>|C<json>` for control messages (close a room, revoke a user). A process
ignores what it published itself, since it delivered that locally already.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from typing import Protocol

from django.conf import settings

from rooms.presence import HEARTBEAT_SECONDS, MemoryPresence, RedisPresence
from rooms.protocol import encode

logger = logging.getLogger(__name__)

FRAME = "F"
CONTROL = "C"
SYNC_ORIGIN = "sync"
RECONNECT_BACKOFF_CAP = 2.0


class Connection(Protocol):
    room_id: int
    case_id: int
    user_id: int
    presence_member: str

    async def deliver(self, frame: str, seq: int) -> None: ...

    async def control(self, message: dict) -> None: ...

    async def catch_up(self) -> None: ...


def room_channel(room_id: int) -> str:
    return f"rooms:room:{room_id}"


def user_channel(user_id: int) -> str:
    return f"rooms:user:{user_id}"


class RoomHub:
    def __init__(self, redis_url: str = ""):
        self.redis_url = redis_url
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
        self._sync_redis = None

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
        self._tasks = [running.create_task(self._heartbeat())]
        if self.redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.Redis.from_url(
                self.redis_url, decode_responses=True, socket_connect_timeout=2, socket_keepalive=True
            )
            self.presence = RedisPresence(self.redis)
            self._pubsub = None
            self._connected_before = False
            with contextlib.suppress(Exception):
                await self._connect()
            self._tasks.append(running.create_task(self._listen()))
        else:
            self.presence = MemoryPresence()

    def _wanted_channels(self) -> set[str]:
        channels = {f"rooms:process:{self.origin}"}
        channels.update(room_channel(room_id) for room_id in self.rooms)
        channels.update(user_channel(user_id) for user_id in self.users)
        return channels

    async def _connect(self) -> None:
        """Subscribe to every channel this process needs, on a fresh connection. After
        a reconnection, every socket catches up from the database on what was
        published while the hub was away."""
        pubsub = self.redis.pubsub()
        subscribed: set[str] = set()
        # Sockets may join while we subscribe; loop until nothing is missing.
        while missing := self._wanted_channels() - subscribed:
            await pubsub.subscribe(*missing)
            subscribed |= missing
        self._pubsub = pubsub
        if self._connected_before:
            logger.info("Room hub reconnected to Redis; %s sockets catch up", self._socket_count())
            for connections in list(self.rooms.values()):
                for connection in list(connections):
                    await connection.catch_up()
        self._connected_before = True

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
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
                await self._dispatch(message["channel"], message["data"])

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                members = [(c.room_id, c.presence_member) for cs in self.rooms.values() for c in cs]
                await self.presence.refresh(members)
                for room_id in list(self.rooms):
                    await self._publish_presence(room_id, only_if_changed=True)
            except Exception:
                logger.exception("Presence heartbeat failed")

    def _socket_count(self) -> int:
        return sum(len(connections) for connections in self.rooms.values())

    # -- membership of the hub -------------------------------------------------

    async def join(self, connection: Connection) -> None:
        await self._ensure_started()
        new_room = not self.rooms.get(connection.room_id)
        new_user = not self.users.get(connection.user_id)
        self.rooms[connection.room_id].add(connection)
        self.users[connection.user_id].add(connection)
        if self._pubsub is not None:
            channels = []
            if new_room:
                channels.append(room_channel(connection.room_id))
            if new_user:
                channels.append(user_channel(connection.user_id))
            if channels:
                with contextlib.suppress(Exception):
                    await self._pubsub.subscribe(*channels)
        await self._presence_change(connection.room_id, self.presence.add, connection.presence_member)

    async def leave(self, connection: Connection) -> None:
        room_connections = self.rooms.get(connection.room_id)
        if not room_connections or connection not in room_connections:
            return
        room_connections.discard(connection)
        self.users[connection.user_id].discard(connection)
        channels = []
        if not room_connections:
            del self.rooms[connection.room_id]
            self._published_presence.pop(connection.room_id, None)
            channels.append(room_channel(connection.room_id))
        if not self.users[connection.user_id]:
            del self.users[connection.user_id]
            channels.append(user_channel(connection.user_id))
        if self._pubsub is not None and channels:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(*channels)
        await self._presence_change(connection.room_id, self.presence.remove, connection.presence_member)

    async def _presence_change(self, room_id: int, change, member: str) -> None:
        try:
            await change(room_id, member)
            await self._publish_presence(room_id)
        except Exception:
            logger.warning("Presence update for room %s failed", room_id, exc_info=True)

    async def online(self, room_id: int) -> list[int]:
        return await self.presence.online(room_id)

    async def _publish_presence(self, room_id: int, *, only_if_changed: bool = False) -> None:
        online = await self.presence.online(room_id)
        if only_if_changed and self._published_presence.get(room_id) == online:
            return
        self._published_presence[room_id] = online
        await self.publish_room(room_id, encode({"type": "presence", "online": online}))

    # -- publishing --------------------------------------------------------------

    async def publish_room(self, room_id: int, frame: str, seq: int = 0) -> None:
        await self._deliver_room(room_id, frame, seq)
        await self._publish(room_channel(room_id), f"{self.origin}|{FRAME}{seq}|{frame}")

    async def publish_room_control(self, room_id: int, message: dict) -> None:
        await self._control_room(room_id, message)
        await self._publish(room_channel(room_id), f"{self.origin}|{CONTROL}{json.dumps(message)}")

    async def publish_user_control(self, user_id: int, message: dict) -> None:
        await self._control_user(user_id, message)
        await self._publish(user_channel(user_id), f"{self.origin}|{CONTROL}{json.dumps(message)}")

    async def _publish(self, channel: str, payload: str) -> None:
        if self.redis is None:
            return
        try:
            await self.redis.publish(channel, payload)
        except Exception:
            # Stored entries are not lost: other processes catch up when their own
            # Redis connection comes back, and clients resume on a sequence gap.
            logger.warning("Could not publish to %s", channel, exc_info=True)

    # Called from synchronous code (services, after commit) in any thread.

    def publish_room_threadsafe(self, room_id: int, frame: str, seq: int = 0) -> None:
        self._publish_threadsafe(
            room_channel(room_id), f"{FRAME}{seq}|{frame}", lambda: self._deliver_room(room_id, frame, seq)
        )

    def publish_room_control_threadsafe(self, room_id: int, message: dict) -> None:
        self._publish_threadsafe(
            room_channel(room_id), f"{CONTROL}{json.dumps(message)}", lambda: self._control_room(room_id, message)
        )

    def publish_user_control_threadsafe(self, user_id: int, message: dict) -> None:
        self._publish_threadsafe(
            user_channel(user_id), f"{CONTROL}{json.dumps(message)}", lambda: self._control_user(user_id, message)
        )

    def _publish_threadsafe(self, channel: str, body: str, deliver_locally) -> None:
        if self.redis_url:
            # Every process, this one included, receives it through Redis.
            try:
                self._sync_client().publish(channel, f"{SYNC_ORIGIN}|{body}")
            except Exception:
                logger.warning("Could not publish to %s", channel, exc_info=True)
            return
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(deliver_locally(), loop)

    def _sync_client(self):
        if self._sync_redis is None:
            import redis

            self._sync_redis = redis.Redis.from_url(self.redis_url, decode_responses=True, socket_connect_timeout=2)
        return self._sync_redis

    # -- delivery ------------------------------------------------------------------

    async def _dispatch(self, channel: str, data: str) -> None:
        origin, _, body = data.partition("|")
        if origin == self.origin:
            return
        kind, rest = body[:1], body[1:]
        try:
            if channel.startswith("rooms:room:"):
                room_id = int(channel.rsplit(":", 1)[1])
                if kind == FRAME:
                    seq, _, frame = rest.partition("|")
                    await self._deliver_room(room_id, frame, int(seq))
                elif kind == CONTROL:
                    await self._control_room(room_id, json.loads(rest))
            elif channel.startswith("rooms:user:") and kind == CONTROL:
                await self._control_user(int(channel.rsplit(":", 1)[1]), json.loads(rest))
        except (ValueError, KeyError):
            logger.warning("Ignoring a malformed hub message on %s", channel)

    async def _deliver_room(self, room_id: int, frame: str, seq: int) -> None:
        for connection in list(self.rooms.get(room_id, ())):
            await connection.deliver(frame, seq)

    async def _control_room(self, room_id: int, message: dict) -> None:
        for connection in list(self.rooms.get(room_id, ())):
            await connection.control(message)

    async def _control_user(self, user_id: int, message: dict) -> None:
        for connection in list(self.users.get(user_id, ())):
            await connection.control(message)


_hub: RoomHub | None = None


def get_hub() -> RoomHub:
    global _hub
    if _hub is None:
        _hub = RoomHub(settings.REDIS_URL)
    return _hub
