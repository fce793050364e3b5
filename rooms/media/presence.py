"""Who is in a room's media now, with their microphone, camera and screen: across
every server process.

Each media socket keeps its own entry in the room's list, in the Django cache (Redis
where the platform runs on several processes), with an expiry it refreshes while it
is open: a process that dies leaves no ghost beyond ENTRY_SECONDS. Two sockets that
change the same room's list at the same instant in two processes can lose one's
change; each socket writes its entry again every REFRESH_SECONDS, so a lost change
lasts that long at most.

The list is published to the room's text sockets as the ephemeral frame
`{"type": "media", "people": [...]}` (seq 0, not stored) and read by
`GET /rooms/<id>/media/people/`. A caucus's list goes to that caucus's room only.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from rooms.protocol import encode

REFRESH_SECONDS = 15
ENTRY_SECONDS = 40


def _key(room_id: int) -> str:
    return f"rooms.media.people.{room_id}"


def _live(entries: dict) -> dict:
    now = time.time()
    return {member: entry for member, entry in entries.items() if entry.get("expires", 0) > now}


def put(room_id: int, member: str, entry: dict | None) -> None:
    """Set (or with None remove) one socket's entry of the room's list."""
    entries = _live(cache.get(_key(room_id)) or {})
    if entry is None:
        entries.pop(member, None)
    else:
        entries[member] = {**entry, "expires": time.time() + ENTRY_SECONDS}
    if entries:
        cache.set(_key(room_id), entries, ENTRY_SECONDS * 2)
    else:
        cache.delete(_key(room_id))


def claim(room_id: int, member: str, entry: dict, *, limit: int) -> bool:
    """Enter one socket's entry in the room's list unless its person has `limit`
    sockets there already; whether it was entered. Counted and written in one call,
    which the socket makes on the one thread of its process that runs sync code (two
    processes at the same instant can still each let one in)."""
    if sockets_of(room_id, entry["user"]) >= limit:
        return False
    put(room_id, member, entry)
    return True


def sockets_of(room_id: int, user_id: int) -> int:
    """How many media sockets the user has open in the room."""
    return sum(1 for entry in _live(cache.get(_key(room_id)) or {}).values() if entry["user"] == user_id)


def people(room_id: int) -> list[dict]:
    """Who is in the room's media (joined on Janus), one row per person however many
    sockets they have: each flag is on if it is on in any of them."""
    by_user: dict[int, dict] = {}
    for entry in _live(cache.get(_key(room_id)) or {}).values():
        if not entry.get("joined"):
            continue
        row = by_user.setdefault(
            entry["user"],
            {"id": entry["user"], "audio": False, "video": False, "screen": False, "muted_by_mediator": False},
        )
        for flag in ("audio", "video", "screen", "muted_by_mediator"):
            row[flag] = row[flag] or bool(entry.get(flag))
    return [by_user[user_id] for user_id in sorted(by_user)]


def frame(room_id: int) -> str:
    return encode({"type": "media", "people": people(room_id)})
