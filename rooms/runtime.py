"""The rooms' process-wide state, behind one object.

A server process has one of each: the hub (its sockets by room and user, presence,
its Redis broker), the message writer (its queue, thread and database connection),
the entry reader (the sockets entering together),
the fast path's verdict on daphne's internals, the per-user message rate limiter, and
when each room last announced activity. They are made on first use, and
`runtime.reset()` forgets them all, as a fresh process would have them: tests call it
rather than clearing module globals or private attributes one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from rooms.entry import EntryReader
    from rooms.hub import RoomHub
    from rooms.ratelimit import SlidingWindowLimiter
    from rooms.server.daphne import FastPath
    from rooms.writer import MessageWriter


class RoomsRuntime:
    def __init__(self):
        self._hub: RoomHub | None = None
        self._writer: MessageWriter | None = None
        self._entry_reader: EntryReader | None = None
        self._message_limiter: SlidingWindowLimiter | None = None
        # Room id -> when (time.monotonic) its activity was last announced.
        self.announced: dict[int, float] = {}

    @property
    def hub(self) -> RoomHub:
        if self._hub is None:
            from rooms.hub import RoomHub

            self._hub = RoomHub(settings.REDIS_URL)
        return self._hub

    @property
    def writer(self) -> MessageWriter:
        if self._writer is None:
            from rooms.writer import MessageWriter

            self._writer = MessageWriter()
        return self._writer

    @property
    def entry_reader(self) -> EntryReader:
        if self._entry_reader is None:
            from rooms.entry import EntryReader

            self._entry_reader = EntryReader()
        return self._entry_reader

    @property
    def message_limiter(self) -> SlidingWindowLimiter:
        if self._message_limiter is None:
            from rooms.ratelimit import SlidingWindowLimiter

            self._message_limiter = SlidingWindowLimiter()
        return self._message_limiter

    @property
    def fast_path(self) -> FastPath:
        # Daphne's internals module owns it (its hot path reads it as a global); its
        # state is reset here with the rest.
        from rooms.server.daphne import FAST_PATH

        return FAST_PATH

    def reset(self) -> None:
        """Forget every piece of process-wide room state. Call it outside a running
        event loop's sockets (between tests): the hub and writer of a loop that still
        runs would be replaced under their sockets."""
        hub, self._hub = self._hub, None
        writer, self._writer = self._writer, None
        if hub is not None:
            hub.close()
        if writer is not None:
            writer.close()
        self._message_limiter = None
        self._entry_reader = None
        self.announced.clear()
        self.fast_path.reset()


runtime = RoomsRuntime()
