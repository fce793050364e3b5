"""Who is online in a room, across every server process.

With Redis, each open connection is a member of a sorted set per room, scored by its
expiry; the hub refreshes its own connections every HEARTBEAT_SECONDS, so a process
that dies leaves no ghosts beyond EXPIRY_SECONDS (rooms.conf). Without Redis (one process), a
dictionary does.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from rooms import conf


def _user_of(member: str) -> int:
    return int(member.split(":", 1)[0])


class MemoryPresence:
    def __init__(self):
        self._rooms: dict[int, dict[str, float]] = defaultdict(dict)

    async def add(self, room_id: int, member: str) -> None:
        self._rooms[room_id][member] = time.time() + conf.EXPIRY_SECONDS

    async def arrive(self, members: list[tuple[int, str]]) -> dict[int, list[int]]:
        for room_id, member in members:
            await self.add(room_id, member)
        return await self.online_in({room_id for room_id, _member in members})

    async def remove(self, room_id: int, member: str) -> None:
        self._rooms[room_id].pop(member, None)
        if not self._rooms[room_id]:
            del self._rooms[room_id]

    async def refresh(self, members: list[tuple[int, str]]) -> None:
        for room_id, member in members:
            await self.add(room_id, member)

    async def online(self, room_id: int) -> list[int]:
        now = time.time()
        return sorted({_user_of(m) for m, expiry in self._rooms.get(room_id, {}).items() if expiry > now})

    async def online_in(self, room_ids: Iterable[int]) -> dict[int, list[int]]:
        return {room_id: await self.online(room_id) for room_id in room_ids}


class RedisPresence:
    def __init__(self, redis, prefix: str):
        self._redis = redis
        self._prefix = prefix

    def _key(self, room_id: int) -> str:
        return f"{self._prefix}:presence:{room_id}"

    async def arrive(self, members: list[tuple[int, str]]) -> dict[int, list[int]]:
        """Add connections (room id, member) and answer who is online in each of their
        rooms (they included), in one round trip: in a restart storm every socket of a
        process does this at once (see RoomHub.announce)."""
        now = time.time()
        by_room = defaultdict(dict)
        for room_id, member in members:
            by_room[room_id][member] = now + conf.EXPIRY_SECONDS
        async with self._redis.pipeline(transaction=False) as pipe:
            for room_id, scores in by_room.items():
                key = self._key(room_id)
                pipe.zadd(key, scores)
                pipe.expire(key, conf.EXPIRY_SECONDS * 2)
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zrangebyscore(key, now, "+inf")
            replies = await pipe.execute()
        online = zip(by_room, replies[3::4], strict=True)
        return {room_id: sorted({_user_of(each) for each in room}) for room_id, room in online}

    async def remove(self, room_id: int, member: str) -> None:
        await self._redis.zrem(self._key(room_id), member)

    async def refresh(self, members: list[tuple[int, str]]) -> None:
        if not members:
            return
        expiry = time.time() + conf.EXPIRY_SECONDS
        by_room = defaultdict(dict)
        for room_id, member in members:
            by_room[room_id][member] = expiry
        # Two commands per room, not per connection: a process holds thousands.
        async with self._redis.pipeline(transaction=False) as pipe:
            for room_id, scores in by_room.items():
                pipe.zadd(self._key(room_id), scores)
                pipe.expire(self._key(room_id), conf.EXPIRY_SECONDS * 2)
            await pipe.execute()

    async def online(self, room_id: int) -> list[int]:
        return (await self.online_in([room_id]))[room_id]

    async def online_in(self, room_ids: Iterable[int]) -> dict[int, list[int]]:
        """Who is online in each room, in one round trip."""
        room_ids = list(room_ids)
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for room_id in room_ids:
                key = self._key(room_id)
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zrangebyscore(key, now, "+inf")
            replies = await pipe.execute()
        members_by_room = zip(room_ids, replies[1::2], strict=True)
        return {room_id: sorted({_user_of(m) for m in members}) for room_id, members in members_by_room}
