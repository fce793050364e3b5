"""Which of a room's frames a socket has delivered, by `seq`.

A room's stored entries are numbered 1, 2, 3 ... with no gaps (rooms.store), and a
socket delivers each at most once, in order as far as it can: a frame it delivered
already (a duplicate published again, a resume overlapping live traffic) is dropped,
and a frame beyond a gap (one lost between processes while Redis was away, say) is
delivered at once and remembered, the gap filled from the database later: after
GAP_FILL_DELAY, or at once when MAX_FRAMES_AHEAD frames wait beyond it (rooms.conf).
Frames without a seq (presence, typing, read marks) are never held back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rooms import conf
from rooms.hub import spawn


class DeliveredSequence:
    """One socket's bookkeeping. `fill_gap` is the socket's coroutine function that
    sends from the database whatever it missed (it is called, in the background, only
    while frames wait beyond a gap)."""

    __slots__ = ("_ahead", "_fill_gap", "_gap_check", "delivered")

    def __init__(self, fill_gap: Callable[[], Awaitable[None]]):
        # Every seq up to this one was delivered.
        self.delivered = 0
        # Seqs delivered beyond a gap.
        self._ahead: set[int] = set()
        self._gap_check: asyncio.TimerHandle | None = None
        self._fill_gap = fill_gap

    def in_sequence(self, seq: int) -> bool:
        """Whether a frame is to be sent, given the room's sequence: not if it was
        delivered already. A frame beyond a gap is sent (counted as delivered), and
        the gap filled later."""
        if not seq:
            return True
        if seq <= self.delivered or seq in self._ahead:
            return False
        if seq == self.delivered + 1:
            self.delivered = seq
            while self.delivered + 1 in self._ahead:
                self._ahead.discard(self.delivered + 1)
                self.delivered += 1
        else:
            self._ahead.add(seq)
            self._schedule_gap_fill()
        return True

    def undeliver(self, seq_before: int) -> None:
        """The frames counted since `seq_before` did not reach the client after all (a
        failed write): they count as not delivered, nothing beyond a gap either."""
        self.delivered = seq_before
        self._ahead.clear()

    @property
    def has_gap(self) -> bool:
        """Whether frames were delivered beyond a seq not delivered yet."""
        return bool(self._ahead)

    def stop(self) -> None:
        """The socket is closing: no gap is filled any more."""
        if self._gap_check is not None:
            self._gap_check.cancel()

    def _schedule_gap_fill(self) -> None:
        if len(self._ahead) > conf.MAX_FRAMES_AHEAD:
            spawn(self._fill())
        elif self._gap_check is None:
            self._gap_check = asyncio.get_running_loop().call_later(conf.GAP_FILL_DELAY, lambda: spawn(self._fill()))

    async def _fill(self) -> None:
        self._gap_check = None
        if self._ahead:
            await self._fill_gap()
