"""At most RATE_LIMIT_MESSAGES messages per RATE_LIMIT_WINDOW seconds (rooms.conf)
from one user.

The window slides and is kept per server process: a user's sockets normally share a
process, and a check that needs no network round trip keeps it off the delivery
path. (A user connected to several processes at once could post that many per
process.)
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

from rooms import conf


class SlidingWindowLimiter:
    def __init__(self, limit: int | None = None, window: float | None = None, clock=time.monotonic):
        self.limit = conf.RATE_LIMIT_MESSAGES if limit is None else limit
        self.window = conf.RATE_LIMIT_WINDOW if window is None else window
        self.clock = clock
        self._events: dict[int, deque[float]] = defaultdict(deque)
        self._calls = 0

    def allow(self, user_id: int) -> bool:
        """Count one attempt; False (and nothing counted) when over the limit."""
        self._calls += 1
        if self._calls % conf.RATE_LIMIT_SWEEP_EVERY == 0:
            self._forget_idle()
        now = self.clock()
        events = self._events[user_id]
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def clear(self) -> None:
        """Forget every attempt counted so far."""
        self._events.clear()

    def _forget_idle(self) -> None:
        cutoff = self.clock() - self.window
        for user_id in [uid for uid, events in self._events.items() if not events or events[-1] <= cutoff]:
            del self._events[user_id]


# Typing indicators and read marks: limits of one socket, kept on it (TYPING_BURST,
# TYPING_PER_SECOND, READ_MARK_BURST, READ_MARKS_PER_SECOND in rooms.conf).


class TokenBucket:
    """Up to `burst` at once, then `per_second` on average.

    One per socket and purpose, created on its first use and gone with its socket: no
    table to look users up in, no lock, no sweep. (A library limiter keeps a log of
    timestamps per key behind a lock; a room server holds thousands of sockets.)"""

    __slots__ = ("burst", "clock", "per_second", "tokens", "updated_at")

    def __init__(self, burst: int, per_second: float, clock=time.monotonic):
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self.tokens = float(burst)
        self.updated_at = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated_at) * self.per_second)
        self.updated_at = now

    def take(self) -> bool:
        """Take a token if there is one; False (nothing taken) if not."""
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait(self) -> float:
        """Seconds until a token is there (0 if one is)."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second
