"""Reads behind the room sockets, pages and API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from mediation.models import User
from rooms import conf
from rooms.membership import Member, case_participants, member_of, room_members, rooms_for_user
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
    return _access(room, None if room is None else member_of(user, room))


def _access(room: Room | None, member: Member | None) -> RoomAccess:
    """The refusal order, once for `room_access` and `hellos`: no such room (4404),
    then not a member (4403: the same whether or not the room exists for others),
    then the room closed (4408)."""
    if room is None:
        return RoomAccess(refusal="no_such_room")
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
    is sent on; None if the user may not enter (see `hellos`)."""
    return hellos([(user, room_id)])[0]


def hellos(requests: list[tuple[User, int]]) -> list[tuple[RoomAccess, dict | None]]:
    """For each (user, room id), the first frame of a socket that has joined its
    room's hub, with the access it is sent on; None if the user may not enter (not a
    member, removed, moved to the other side, the room closed). Read after joining: a
    change committed before this read shows here, and one committed after it reaches
    the socket through the hub (revoke, close), so none slips between the two.

    Four queries, however many sockets enter together (in a restart storm, every
    socket of a process at once; see rooms.entry): the rooms with their cases and
    staff; the active participants of those cases; the users' mutes; their read marks.
    Each user is found among their room's members (`room_members`, which states the
    membership rule's answer for everyone in the room: mediator, then judge, then
    participants) and refused as `room_access` refuses (`_access`)."""
    room_ids = {room_id for _user, room_id in requests}
    rooms = {
        room.pk: room
        for room in Room.objects.select_related("case", "case__mediator", "case__judge").filter(pk__in=room_ids)
    }
    participants = case_participants({room.case_id for room in rooms.values()})
    members = {room_id: room_members(room, participants[room.case_id]) for room_id, room in rooms.items()}
    # The same list for every socket of a room (the hellos are encoded, not changed).
    member_dicts = {room_id: [each.as_dict() for each in room_people] for room_id, room_people in members.items()}
    user_ids = {user.pk for user, room_id in requests if user.is_authenticated and room_id in rooms}
    let_in = {(room_id, user.pk) for user, room_id in requests if user.pk in user_ids}
    muted, read_seqs = set(), {}
    if let_in:
        muted = {
            pair
            for pair in RoomMute.objects.filter(
                room_id__in=rooms, user_id__in=user_ids, lifted_at__isnull=True
            ).values_list("room_id", "user_id")
            if pair in let_in
        }
        read_seqs = {
            (room_id, user_id): seq
            for room_id, user_id, seq in ReadMark.objects.filter(room_id__in=rooms, user_id__in=user_ids).values_list(
                "room_id", "user_id", "seq"
            )
            if (room_id, user_id) in let_in
        }
    answers = []
    for user, room_id in requests:
        room = rooms.get(room_id)
        room_people = members.get(room_id, [])
        member = next((each for each in room_people if each.id == user.pk), None) if user.is_authenticated else None
        access = _access(room, member)
        if access.refusal:
            answers.append((access, None))
            continue
        access.muted = (room_id, user.pk) in muted
        access.read_seq = read_seqs.get((room_id, user.pk), 0)
        answers.append(
            (
                access,
                {
                    "type": "hello",
                    "room": room_summary(room),
                    "me": member.as_dict(),
                    "members": member_dicts[room_id],
                    "last_seq": room.last_seq,
                },
            )
        )
    return answers


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
