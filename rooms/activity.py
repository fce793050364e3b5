""" "New message in your case": members who are not in the room hear of it on their
notification socket, whatever page they have open (a toast and the header's count of
rooms with new messages). At most once per room every ACTIVITY_INTERVAL seconds
(rooms.conf) per process, so a lively room costs almost nothing: two queries per
announcement whatever the number of members, none per member (each socket words the
announcement in its user's language from the room's kind and case number).

Only the room's members hear of it (rooms.membership): a caucus's announcement
reaches the mediator and that side's members, never the other side."""

from __future__ import annotations

import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils.translation import gettext_lazy as _

from mediation.models import RoomKind
from mediation.notifications import user_group_name
from rooms import conf
from rooms.membership import room_member_ids
from rooms.runtime import runtime

logger = logging.getLogger(__name__)


def due_for_announcement(room_id: int) -> bool:
    """True at most once per interval per room; the caller then announces."""
    now = time.monotonic()
    if now - runtime.announced.get(room_id, 0.0) < conf.ACTIVITY_INTERVAL:
        return False
    runtime.announced[room_id] = now
    return True


async def announce_activity(room_ids: list[int], online: dict[int, list[int]]) -> None:
    """Tell the members of these rooms who are not online in them (`online`: room →
    user ids) that something was said there."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        members = await database_sync_to_async(room_member_ids)(room_ids)
        for room_id, (member_ids, case_number, kind) in members.items():
            for user_id in member_ids - set(online.get(room_id, ())):
                await layer.group_send(
                    user_group_name(user_id),
                    {"type": "room.activity", "room": room_id, "case": case_number, "kind": kind},
                )
    except Exception:
        logger.warning("Could not announce activity in rooms %s", room_ids, exc_info=True)


# What the announcement says, by the room's kind.
ACTIVITY_TEXTS = {
    RoomKind.JOINT: _("New message in the joint room of case %(case)s."),
    RoomKind.CAUCUS_PLAINTIFF: _("New message in the plaintiff's caucus of case %(case)s."),
    RoomKind.CAUCUS_DEFENDANT: _("New message in the defendant's caucus of case %(case)s."),
}


def activity_text(kind: str, case_number: str) -> str:
    """The announcement of new messages in a room of this kind, in the active
    language."""
    text = ACTIVITY_TEXTS.get(kind, ACTIVITY_TEXTS[RoomKind.JOINT])
    return str(text) % {"case": case_number}
