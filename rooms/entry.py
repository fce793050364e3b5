"""The room sockets' way in, read together.

After a restart every client reconnects at once: a thousand sockets each signing in
from its session and reading its hello would pay a thousand thread hops, health
checks and sets of queries, and building each ORM query a thousand times. Like the
writer's batches of messages (rooms.writer), the sockets entering together are read
together instead: each socket queues its session key (or user) and room, and
everything that queued while the previous batch was being read is read in one thread
hop, in a few queries whatever the number of sockets (`auth.users_of_sessions`, then
`selectors.hellos`). A lone socket is read at once, as before; nothing waits for a
batch to fill.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from channels.db import database_sync_to_async

from rooms.auth import users_of_sessions
from rooms.selectors import RoomAccess, hellos

# The most sockets read in one batch (the queries' IN lists stay short enough).
MAX_BATCH = 1000


@dataclass
class Entry:
    """A socket's way in, read: its user (AnonymousUser if its session signs no one
    in), and for a signed-in user the access and hello of `selectors.hellos`."""

    user: object
    access: RoomAccess | None = None
    hello: dict | None = None


def read_entries(requests: list[tuple[object, str | None, int]]) -> list[Entry]:
    """For each (user or None, session key, room id), the socket's `Entry`: the user
    signed in from the session unless given, then the hello of each signed-in one."""
    users = users_of_sessions([key for user, key, _room_id in requests if user is None])
    signed_in = [(user if user is not None else users[key], room_id) for user, key, room_id in requests]
    asked = [(user, room_id) for user, room_id in signed_in if user.is_authenticated]
    answers = iter(hellos(asked))
    entries = []
    for user, _room_id in signed_in:
        if user.is_authenticated:
            access, hello = next(answers)
            entries.append(Entry(user, access, hello))
        else:
            entries.append(Entry(user))
    return entries


class EntryReader:
    """The process's reader of sockets entering (see rooms.runtime)."""

    def __init__(self):
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: list[tuple[tuple[object, str | None, int], asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def read(self, user, session_key: str | None, room_id: int) -> Entry:
        """The entry of a socket: its user (`user`, or signed in from `session_key`),
        its access to the room and its hello, read with those of every socket
        entering meanwhile."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A new event loop (a test, a restarted server): nothing of the old one lives.
            self._loop, self._queue, self._task = loop, [], None
        future = loop.create_future()
        self._queue.append(((user, session_key, room_id), future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        # Let the sockets whose handshakes arrived with this one queue first.
        await asyncio.sleep(0)
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                entries = await database_sync_to_async(read_entries)([request for request, _future in batch])
            except Exception as error:
                for _request, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_request, future), entry in zip(batch, entries, strict=True):
                if not future.done():
                    future.set_result(entry)


def get_entry_reader() -> EntryReader:
    """The process's entry reader (see rooms.runtime)."""
    from rooms.runtime import runtime

    return runtime.entry_reader
