"""Who hears of activity in a room: the lean id lookup must name exactly the members
that each room's page lists, caucus sides and removals included, for several rooms
of several cases at once."""

from dataclasses import asdict

import pytest

from mediation.services import cases
from rooms.membership import Member, room_member_ids, room_members
from tests.cases import make_case

pytestmark = pytest.mark.django_db

ROOM_NAMES = ["joint", "plaintiff_caucus", "defendant_caucus"]


def test_member_ids_are_each_rooms_members(mediator, judge):
    world = make_case(mediator, judge)
    other = make_case(mediator, None, label="B")
    cases.remove_participant(participant=world.defendant_participant, actor=mediator, reason="Withdrew")
    rooms = [getattr(w, name) for w in (world, other) for name in ROOM_NAMES]

    found = room_member_ids([room.pk for room in rooms])

    assert found == {
        room.pk: ({member.id for member in room_members(room)}, room.case.number, room.kind) for room in rooms
    }
    joint_ids, _, _ = found[world.joint.pk]
    assert world.defendant.pk not in joint_ids
    assert judge.pk in joint_ids
    assert judge.pk not in found[world.plaintiff_caucus.pk][0]
    assert world.plaintiff.pk not in found[world.defendant_caucus.pk][0]
    assert other.plaintiff.pk not in joint_ids


def test_a_member_as_a_dict_has_every_field():
    # as_dict is written out by hand for speed: a field added to Member must be added there.
    member = Member(id=7, name="Wang Fang", role="party", side="plaintiff", party="Wang Fang")

    assert member.as_dict() == asdict(member)
