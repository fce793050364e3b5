"""Room traffic between server processes, through Redis.

Publishing never waits for Redis on the delivery path: frames queue for one publisher
task, which sends whatever accumulated since its last round trip as one message on the
deployment's one channel. Every process receives each batch once and hands each frame
to its own sockets in that frame's room, if any (through its hub, rooms.hub); it
ignores its own batches, whose frames it delivered already. So Redis carries one
message per batch rather than one per frame, and a socket joining or leaving costs no
subscription. Every process reads every room's traffic, which suits the few processes
a court runs; a deployment with very many would split the channel by room.

A batch is `<origin>` then one record per line (frame and control texts are JSON,
which has no raw line breaks): `F<room>|<seq>|<frame text>` for room frames,
`C<room>|<json>` and `U<user>|<json>` for control messages to a room's or a user's
sockets (close a room, revoke a user). Synchronous code (services, after commit)
publishes single records with the origin `sync`, which every process delivers, this
one included.

When Redis goes away the broker reconnects (backing off up to RECONNECT_BACKOFF_CAP)
and, once back, has every socket of the process catch up from the database on what
was published meanwhile.

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
from typing import TYPE_CHECKING

from django.conf import settings

from rooms import conf

if TYPE_CHECKING:
    from rooms.hub import RoomHub

logger = logging.getLogger(__name__)

ROOM_FRAME = "F"
ROOM_CONTROL = "C"
USER_CONTROL = "U"
SYNC_ORIGIN = "sync"


def channel_prefix() -> str:
    configured = getattr(settings, "ROOMS_REDIS_PREFIX", "")
    if configured:
        return configured
    database = str(settings.DATABASES["default"]["NAME"])
    return "rooms-" + hashlib.sha1(database.encode("utf-8")).hexdigest()[:10]


class RedisBroker:
    """A hub's link to the other processes. `open` and `start` run on each new event
    loop the hub starts on; `publish_sync` works from any thread, started or not."""

    def __init__(self, hub: RoomHub, redis_url: str, prefix: str):
        self.hub = hub
        self.redis_url = redis_url
        self.prefix = prefix
        self.redis = None
        self._pubsub = None
        self._connected_before = False
        self._outbox: asyncio.Queue | None = None
        self._sync_redis = None

    @property
    def channel(self) -> str:
        return f"{self.prefix}:hub"

    # -- life cycle -------------------------------------------------------------

    def open(self):
        """A fresh client and outbox for the running event loop; the client (which
        presence shares)."""
        self.redis = _async_client(self.redis_url)
        self._outbox = asyncio.Queue()
        self._pubsub = None
        self._connected_before = False
        return self.redis

    async def start(self, loop: asyncio.AbstractEventLoop) -> list[asyncio.Task]:
        """Subscribe (or keep trying in the background) and start publishing."""
        with contextlib.suppress(Exception):
            await self._connect()
        return [loop.create_task(self._listen()), loop.create_task(self._publisher())]

    def close(self) -> None:
        sync_redis, self._sync_redis = self._sync_redis, None
        if sync_redis is not None:
            with contextlib.suppress(Exception):
                sync_redis.close()

    async def _connect(self) -> None:
        """Subscribe on a fresh connection. After a reconnection, every socket catches
        up from the database on what was published while the hub was away."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        self._pubsub = pubsub
        if self._connected_before:
            logger.info("Room hub reconnected to Redis; %s sockets catch up", self.hub.socket_count())
            self.hub.catch_up_everyone()
        self._connected_before = True

    async def _listen(self) -> None:
        backoff = 0.1
        while not cancelled():
            if self._pubsub is None:
                try:
                    await self._connect()
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    logger.warning("Room hub cannot reach Redis (%s); retrying in %.1f s", error, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, conf.RECONNECT_BACKOFF_CAP)
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
        while not cancelled():
            batch = [self.hub.origin, await self._outbox.get()]
            size = len(batch[1])
            while not self._outbox.empty() and size < conf.MAX_BATCH_CHARS:
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

    # -- publishing --------------------------------------------------------------

    def publish(self, records: str) -> None:
        """Queue one record, or several joined by line breaks, for the publisher."""
        if self._outbox is None:
            return
        if self._outbox.qsize() >= conf.MAX_PUBLISH_BACKLOG:
            self._outbox.get_nowait()
            logger.warning("Publish backlog full; dropped the oldest frames")
        self._outbox.put_nowait(records)

    def publish_sync(self, record: str) -> None:
        """From synchronous code in any thread: every process, this one included,
        receives it through Redis."""
        try:
            self._sync_client().publish(self.channel, f"{SYNC_ORIGIN}\n{record}")
        except Exception:
            logger.warning("Could not publish %s", record[:40], exc_info=True)

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
                    socket_timeout=conf.SYNC_PUBLISH_TIMEOUT,
                    **settings.REDIS_SENTINEL_CONNECTION,
                )
            else:
                self._sync_redis = redis.Redis.from_url(
                    self.redis_url,
                    decode_responses=True,
                    socket_connect_timeout=2,
                    socket_timeout=conf.SYNC_PUBLISH_TIMEOUT,
                )
        return self._sync_redis

    # -- receiving -----------------------------------------------------------------

    async def _dispatch(self, batch: str) -> None:
        origin, _, records = batch.partition("\n")
        if origin == self.hub.origin:
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
                    await self.hub.deliver_frames(frames)
                    frames = []
                    if kind == ROOM_CONTROL:
                        await self.hub.control_room(identifier, message)
                    else:
                        await self.hub.control_user(identifier, message)
            except ValueError:
                logger.warning("Ignoring a malformed hub record %r", record[:40])
        await self.hub.deliver_frames(frames)


def frame_record(room_id: int, frame: str, seq: int) -> str:
    return f"{ROOM_FRAME}{room_id}|{seq}|{frame}"


def control_record(kind: str, identifier: int, message: dict) -> str:
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
        max_connections=conf.REDIS_POOL_SIZE,
        timeout=10,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_keepalive=True,
    )
    return aioredis.Redis(connection_pool=pool)


def cancelled() -> bool:
    """Whether this task is being cancelled: redis-py can swallow the CancelledError
    of a pending read, and a loop that never ends keeps the event loop from closing."""
    return asyncio.current_task().cancelling() > 0
