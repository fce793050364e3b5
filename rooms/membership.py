"""Who is in which room, as rooms need it: the rule itself is
mediation.participation's (the joint room holds the mediator, the judge and every
active participant; a caucus room holds the mediator and that side's active
participants only); this module turns it into members, ids and room lists.

A participant of one side never learns that the other side's caucus exists: every
query here filters by side, so the room is absent from lists, not merely locked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet

from mediation import participation
from mediation.models import Participant, User
from mediation.participation import CAUCUS_OF_SIDE, SIDE_OF_CAUCUS
from rooms.models import Room

__all__ = [
    "CAUCUS_OF_SIDE",
    "SIDE_OF_CAUCUS",
    "Member",
    "case_participants",
    "member_of",
    "room_member_ids",
    "room_members",
    "rooms_for_user",
]


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    role: str
    side: str | None = None
    party: str | None = None

    def as_dict(self) -> dict:
        # Not dataclasses.asdict, which deep-copies field by field: a restart storm
        # builds a thousand hellos at once.
        return {"id": self.id, "name": self.name, "role": self.role, "side": self.side, "party": self.party}


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
    standing, participant = participation.standing_in_case(user, room.case)
    if not participation.may_be_in_room(standing, room.kind):
        return None
    if participant is not None:
        return _participant_member(participant)
    return _staff_member(user, standing)


def room_members(room: Room, case_participants: list[Participant] | None = None) -> list[Member]:
    """The room's members: its court staff, then its participants. `case_participants`,
    the case's active participants with their parties and users as `case_participants`
    reads them, spares a query when they were read already (for many rooms at once)."""
    case = room.case
    members = [_staff_member(user, standing) for standing, user in participation.court_staff_in_room(case, room.kind)]
    if case_participants is None:
        in_room = participation.participants_in_room(case, room.kind)
    else:
        in_room = participation.participants_in_room_among(case_participants, room.kind)
    members.extend(_participant_member(p) for p in in_room)
    return members


def case_participants(case_ids) -> dict[int, list[Participant]]:
    """The active participants of each case, with their parties and users, in one
    query for any number of cases (for `room_members`)."""
    by_case = defaultdict(list)
    for participant in Participant.active.filter(case_id__in=case_ids).select_related("party", "user"):
        by_case[participant.case_id].append(participant)
    return by_case


def room_member_ids(room_ids: list[int]) -> dict[int, tuple[set[int], str, str]]:
    """For each room, the ids of its members, its case's number and its kind, in two
    queries for any number of rooms: the same members as `room_members`, without
    building them."""
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
        sides = dict(sides_by_case[case_id])
        candidates = {mediator_id, *sides} | ({judge_id} if judge_id is not None else set())
        ids = {
            user_id
            for user_id in candidates
            if participation.may_be_in_room(
                participation.standing_from(
                    user_id=user_id, mediator_id=mediator_id, judge_id=judge_id, participant_side=sides.get(user_id)
                ),
                kind,
            )
        }
        members[room_id] = (ids, number, kind)
    return members


def rooms_for_user(user: User) -> QuerySet[Room]:
    """Every room the user may enter, and no other."""
    return Room.objects.filter(participation.rooms_of_user(user)).select_related("case")
