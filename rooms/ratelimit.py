"""At most RATE_LIMIT_MESSAGES messages per RATE_LIMIT_WINDOW seconds from one user.

The window slides and is kept per server process: a user's sockets normally share a
process, and a check that needs no network round trip keeps it off the delivery
path. (A user connected to several processes at once could post that many per
process.)
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

RATE_LIMIT_MESSAGES = 20
RATE_LIMIT_WINDOW = 10.0
# Users who stopped posting are dropped from memory every so many checks.
SWEEP_EVERY = 1000


class SlidingWindowLimiter:
    def __init__(self, limit: int = RATE_LIMIT_MESSAGES, window: float = RATE_LIMIT_WINDOW, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[int, deque[float]] = defaultdict(deque)
        self._calls = 0

    def allow(self, user_id: int) -> bool:
        """Count one attempt; False (and nothing counted) when over the limit."""
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:
            self._forget_idle()
        now = self.clock()
        events = self._events[user_id]
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def _forget_idle(self) -> None:
        cutoff = self.clock() - self.window
        for user_id in [uid for uid, events in self._events.items() if not events or events[-1] <= cutoff]:
            del self._events[user_id]


message_limiter = SlidingWindowLimiter()
