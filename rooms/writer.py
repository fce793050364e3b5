"""Group commit for room messages.

Sockets hand their messages to the process's writer (`post`) with a callable for
the reply. The writer stores everything that queued up while the previous batch was
being written in one transaction (`store_messages`), then publishes each new message
and replies to every sender. A message is therefore committed before anyone sees it
or its sender is answered, and the cost of a transaction and a thread hop is shared
by the whole batch instead of paid per message. Nothing waits on a future per
message: the reply is a plain call, made on the event loop.

The writer has a thread and a database connection of its own, kept open: its batches
never queue behind the page loads and resumes that run in Channels' database thread,
and pay none of the connection housekeeping Channels does around each of those calls
(a health-check query, an age check). A batch that fails closes the connection if it
is no longer usable (PostgreSQL restarted, say), and the next batch opens a new one.
On SQLite, which lets one connection write at a time anyway, the writer shares
Channels' database thread and its connection instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.db import DatabaseError, connection, connections

from rooms import conf
from rooms.activity import announce_activity, due_for_announcement
from rooms.hub import get_hub, spawn
from rooms.runtime import runtime
from rooms.store import PostRequest, PostResult, store_messages

logger = logging.getLogger(__name__)

# The reply to a message the database could not store (or is too far behind to take):
# nothing was stored.
UNAVAILABLE = PostResult("unavailable")

Reply = Callable[[PostResult], None]


class MessageWriter:
    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._reading_paused = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="room-writer")
        sys.setswitchinterval(min(sys.getswitchinterval(), conf.GIL_SWITCH_INTERVAL))

    def _ensure_started(self) -> None:
        running = asyncio.get_running_loop()
        if self.loop is running and self._task is not None and not self._task.done():
            return
        self.loop = running
        self._queue = asyncio.Queue()
        self._reading_paused = False
        self._task = running.create_task(self._run())

    def close(self) -> None:
        """Stop the writer for good (see rooms.runtime.reset): its task, and its
        thread with that thread's database connection. Nothing may be posted after."""
        if self._task is not None and not self._task.done():
            with contextlib.suppress(RuntimeError):  # its event loop is closed
                self._task.cancel()
        self._thread.submit(connection.close)
        self._thread.shutdown(wait=True)

    def post(self, request: PostRequest, reply: Reply) -> None:
        """Queue a message for the next batch. `reply` is called with its result once
        that batch is committed and published, or with UNAVAILABLE."""
        self._ensure_started()
        if self._queue.qsize() >= conf.MAX_QUEUED:
            reply(UNAVAILABLE)
            return
        self._queue.put_nowait((request, reply))
        if not self._reading_paused and self._queue.qsize() >= conf.PAUSE_READING_AT:
            self._reading_paused = True
            get_hub().pause_reading()

    async def drained(self) -> None:
        """Wait until every message posted on this event loop so far is stored (or
        refused) and answered."""
        if self._queue is not None and self.loop is asyncio.get_running_loop():
            await self._queue.join()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < conf.MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if self._reading_paused and self._queue.qsize() <= conf.RESUME_READING_AT:
                self._reading_paused = False
                get_hub().resume_reading()
            try:
                await self._write(batch)
            finally:
                for _item in batch:
                    self._queue.task_done()

    async def _write(self, batch) -> None:
        requests = [request for request, _reply in batch]
        try:
            if connections["default"].vendor == "postgresql":
                results = await self.loop.run_in_executor(self._thread, _store_batch, requests)
            else:
                results = await database_sync_to_async(store_messages)(requests)
        except Exception as error:
            logger.warning("Could not store %s messages: %s", len(batch), error)
            for _request, reply in batch:
                _answer(reply, UNAVAILABLE)
            return
        hub = get_hub()
        # A duplicate goes to the room too: its first attempt may have been committed
        # but never published (its process killed, the commit's answer lost), and the
        # members who got it already drop it by its seq.
        stored = [
            (request.room_id, result.text, result.seq)
            for request, result in zip(requests, results, strict=True)
            if result.outcome in ("stored", "duplicate")
        ]
        try:
            await hub.publish_room_frames(stored)
        except Exception:
            # Stored all the same: the sockets that miss them fill the gap from the
            # database.
            logger.exception("Could not publish %s stored messages", len(stored))
        for (_request, reply), result in zip(batch, results, strict=True):
            _answer(reply, result)
        active_rooms = {room_id for room_id, _frame, _seq in stored}
        due = [room_id for room_id in active_rooms if due_for_announcement(room_id)]
        if due:
            spawn(_announce(hub, due))


def _store_batch(requests: list[PostRequest]) -> list[PostResult]:
    try:
        return store_messages(requests)
    except DatabaseError:
        connection.close_if_unusable_or_obsolete()
        raise


def _answer(reply: Reply, result: PostResult) -> None:
    try:
        reply(result)
    except Exception:
        # One sender's reply must not cost the rest of the batch theirs.
        logger.exception("Could not answer the sender of a message")


async def _announce(hub, room_ids: list[int]) -> None:
    """Off the writer's path: a presence lookup that fails (Redis away) must not end
    the writer, which would leave the senders of every later message unanswered for
    good."""
    try:
        online = await hub.online_in(room_ids)
    except Exception as error:
        logger.warning("No activity announcement for rooms %s: presence unavailable (%s)", room_ids, error)
        return
    await announce_activity(room_ids, online)


def get_writer() -> MessageWriter:
    """The process's writer (see rooms.runtime)."""
    return runtime.writer
