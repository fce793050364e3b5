"""Reads behind the room sockets, pages and API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Subquery

from mediation.models import User
from rooms import conf
from rooms.membership import Member, member_of, room_members, rooms_for_user
from rooms.models import ReadMark, Room, RoomEntry, RoomMute


@dataclass
class RoomAccess:
    room: Room | None = None
    member: Member | None = None
    refusal: str = ""
    # Read by `hello` only: whether the user is muted in the room, and how far they
    # have read it.
    muted: bool = False
    read_seq: int = 0


def room_access(user: User, room_id: int) -> RoomAccess:
    """May this user enter this room now? A room the user may not see is refused the
    same way whether or not it exists for others (4403), except when it does not
    exist at all (4404)."""
    room = Room.objects.select_related("case", "case__mediator", "case__judge").filter(pk=room_id).first()
    if room is None:
        return RoomAccess(refusal="no_such_room")
    member = member_of(user, room)
    if member is None:
        return RoomAccess(refusal="not_member")
    if room.is_closed:
        return RoomAccess(room=room, member=member, refusal="room_closed")
    return RoomAccess(room=room, member=member)


def room_summary(room: Room) -> dict:
    return {
        "id": room.pk,
        "kind": room.kind,
        "case": {"id": room.case_id, "number": room.case.number},
        "closed": room.is_closed,
    }


def hello(user: User, room_id: int) -> tuple[RoomAccess, dict | None]:
    """The first frame of a socket that has joined its room's hub, with the access it
    is sent on; None if the user may not enter (not a member, removed, moved to the
    other side, the room closed). Read after joining: a change committed before this
    read shows here, and one committed after it reaches the socket through the hub
    (revoke, close), so none slips between the two.

    Two queries, whatever the user's role: the room with its case, its staff, the
    user's mute and read mark; then its members, among whom the user is found as
    `member_of` would find them (mediator, then judge, then participant:
    `room_members` lists them in that order, and a user takes part in a case once).
    Refused the same ways as `room_access`: a restart storm has every socket of a
    process run this at once, and each query saved is one per socket."""
    if not user.is_authenticated:
        return room_access(user, room_id), None
    room = (
        Room.objects.select_related("case", "case__mediator", "case__judge")
        .annotate(
            user_muted=Exists(RoomMute.objects.filter(room=OuterRef("pk"), user=user, lifted_at__isnull=True)),
            user_read_seq=Subquery(ReadMark.objects.filter(room=OuterRef("pk"), user=user).values("seq")[:1]),
        )
        .filter(pk=room_id)
        .first()
    )
    if room is None:
        return RoomAccess(refusal="no_such_room"), None
    members = room_members(room)
    member = next((each for each in members if each.id == user.pk), None)
    if member is None:
        return RoomAccess(refusal="not_member"), None
    if room.is_closed:
        return RoomAccess(room=room, member=member, refusal="room_closed"), None
    access = RoomAccess(room=room, member=member, muted=room.user_muted, read_seq=room.user_read_seq or 0)
    return access, {
        "type": "hello",
        "room": room_summary(room),
        "me": member.as_dict(),
        "members": [each.as_dict() for each in members],
        "last_seq": room.last_seq,
    }


@dataclass
class ResumePage:
    entries: list[RoomEntry]
    has_more: bool


def resume_page(user: User, room_id: int, after_seq: int, limit: int | None = None) -> ResumePage | None:
    """Entries after `after_seq`, oldest first, at most `limit`; None if the user may
    no longer read the room (`limit`: by default rooms.conf.RESUME_PAGE_SIZE)."""
    limit = conf.RESUME_PAGE_SIZE if limit is None else limit
    room = Room.objects.select_related("case").filter(pk=room_id).first()
    if room is None or member_of(user, room) is None:
        return None
    entries = list(RoomEntry.objects.filter(room_id=room_id, seq__gt=after_seq).order_by("seq")[: limit + 1])
    return ResumePage(entries=entries[:limit], has_more=len(entries) > limit)


def history_before(room: Room, before_seq: int | None, limit: int) -> list[RoomEntry]:
    """The `limit` entries before `before_seq` (or the newest), oldest first: the page
    loaded when a reader scrolls up."""
    entries = RoomEntry.objects.filter(room=room)
    if before_seq is not None:
        entries = entries.filter(seq__lt=before_seq)
    return list(reversed(entries.order_by("-seq")[:limit]))


def my_rooms(user: User) -> list[dict]:
    """The rooms a user may enter, with unread counts (messages by others after the
    user's read mark)."""
    read_up_to = ReadMark.objects.filter(room=OuterRef("pk"), user=user).values("seq")[:1]
    rooms = rooms_for_user(user).annotate(read_seq=Subquery(read_up_to)).order_by("case_id", "id")
    result = []
    for room in rooms:
        unread = (
            RoomEntry.objects.filter(room=room, kind=RoomEntry.MESSAGE, seq__gt=room.read_seq or 0)
            .exclude(author=user)
            .count()
        )
        result.append({**room_summary(room), "unread": unread, "last_seq": room.last_seq})
    return result
