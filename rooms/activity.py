""" "New message in your case": members who are not in the room hear of it on their
notification socket. At most once per room every ACTIVITY_INTERVAL seconds per
process, so a lively room costs almost nothing."""

from __future__ import annotations

import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from mediation.notifications import user_group_name
from rooms.membership import room_members
from rooms.models import Room

logger = logging.getLogger(__name__)

ACTIVITY_INTERVAL = 30.0
_last_announced: dict[int, float] = {}


def _members_and_case(room_id: int) -> tuple[list[int], str]:
    room = Room.objects.select_related("case", "case__mediator", "case__judge").get(pk=room_id)
    return [member.id for member in room_members(room)], room.case.number


def due_for_announcement(room_id: int) -> bool:
    """True at most once per interval per room; the caller then announces."""
    now = time.monotonic()
    if now - _last_announced.get(room_id, 0.0) < ACTIVITY_INTERVAL:
        return False
    _last_announced[room_id] = now
    return True


async def announce_activity(room_id: int, online: list[int]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        members, case_number = await database_sync_to_async(_members_and_case)(room_id)
        for user_id in set(members) - set(online):
            await layer.group_send(
                user_group_name(user_id), {"type": "room.activity", "room": room_id, "case": case_number}
            )
    except Exception:
        logger.warning("Could not announce activity in room %s", room_id, exc_info=True)
