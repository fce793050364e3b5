"""Who is in which room.

The joint room holds the mediator, the judge and every active participant; a caucus
room holds the mediator and that side's active participants only. A participant of
one side never learns that the other side's caucus exists: every query here filters
by side, so the room is absent from lists, not merely locked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from django.db.models import Q, QuerySet

from mediation.models import Participant, RoomKind, User
from rooms.models import Room

CAUCUS_OF_SIDE = {"plaintiff": RoomKind.CAUCUS_PLAINTIFF, "defendant": RoomKind.CAUCUS_DEFENDANT}
SIDE_OF_CAUCUS = {kind: side for side, kind in CAUCUS_OF_SIDE.items()}


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    role: str
    side: str | None = None
    party: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _staff_member(user: User, role: str) -> Member:
    return Member(id=user.pk, name=str(user), role=role)


def _participant_member(participant: Participant) -> Member:
    return Member(
        id=participant.user_id,
        name=str(participant.user),
        role=participant.role,
        side=participant.party.side,
        party=participant.party.name,
    )


def member_of(user: User, room: Room) -> Member | None:
    """The user's membership of the room as of now, or None."""
    if not user.is_authenticated:
        return None
    case = room.case
    if case.mediator_id == user.pk:
        return _staff_member(user, "mediator")
    if room.kind == RoomKind.JOINT and case.judge_id == user.pk:
        return _staff_member(user, "judge")
    participants = Participant.active.filter(case_id=case.pk, user=user).select_related("party", "user")
    if room.side is not None:
        participants = participants.filter(party__side=room.side)
    participant = participants.first()
    return _participant_member(participant) if participant else None


def room_members(room: Room) -> list[Member]:
    case = room.case
    members = [_staff_member(case.mediator, "mediator")]
    if room.kind == RoomKind.JOINT and case.judge is not None:
        members.append(_staff_member(case.judge, "judge"))
    participants = Participant.active.filter(case_id=case.pk).select_related("party", "user")
    if room.side is not None:
        participants = participants.filter(party__side=room.side)
    members.extend(_participant_member(participant) for participant in participants)
    return members


def room_member_ids(room_ids: list[int]) -> dict[int, tuple[set[int], str]]:
    """For each room, the ids of its members and its case's number, in two queries
    for any number of rooms: the same members as `room_members`, without building
    them."""
    rooms = list(
        Room.objects.filter(pk__in=room_ids).values_list(
            "pk", "kind", "case_id", "case__number", "case__mediator_id", "case__judge_id"
        )
    )
    sides_by_case = defaultdict(list)
    for case_id, user_id, side in Participant.active.filter(case_id__in={room[2] for room in rooms}).values_list(
        "case_id", "user_id", "party__side"
    ):
        sides_by_case[case_id].append((user_id, side))
    members = {}
    for room_id, kind, case_id, number, mediator_id, judge_id in rooms:
        ids = {mediator_id}
        if kind == RoomKind.JOINT and judge_id is not None:
            ids.add(judge_id)
        room_side = SIDE_OF_CAUCUS.get(kind)
        ids.update(user_id for user_id, side in sides_by_case[case_id] if room_side in (None, side))
        members[room_id] = (ids, number)
    return members


def rooms_for_user(user: User) -> QuerySet[Room]:
    """Every room the user may enter, and no other."""
    if not user.is_authenticated:
        return Room.objects.none()
    sides = Participant.active.filter(user=user).values_list("case_id", "party__side")
    visible = Q(case__mediator=user) | Q(case__judge=user, kind=RoomKind.JOINT)
    for case_id, side in sides:
        visible |= Q(case_id=case_id, kind__in=[RoomKind.JOINT, CAUCUS_OF_SIDE[side]])
    return Room.objects.filter(visible).select_related("case")
