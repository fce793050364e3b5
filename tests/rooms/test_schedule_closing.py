"""rooms.services.schedule_rooms_closing: how another app (documents, when an
agreement is sealed) sets a case's rooms to close, told in each room still open and
recorded in the audit trail."""

import datetime as dt

import pytest
from django.utils import timezone

from mediation.models import AuditEntry
from rooms.models import RoomEntry
from rooms.services import close_room, schedule_rooms_closing
from tests.cases import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_world(mediator, judge):
    return make_case(mediator, judge)


def test_a_room_the_mediator_closed_hears_nothing_more_but_every_room_gets_the_time(case_world):
    close_room(room=case_world.plaintiff_caucus, actor=case_world.mediator)
    at = timezone.now() + dt.timedelta(minutes=90)

    schedule_rooms_closing(case=case_world.case, at=at, reason="agreement_sealed")

    for room in (case_world.joint, case_world.plaintiff_caucus, case_world.defendant_caucus):
        room.refresh_from_db()
        assert room.closes_at == at
        assert AuditEntry.objects.filter(action="room.schedule_close", target_id=str(room.pk)).count() == 1
    told = set(RoomEntry.objects.filter(kind="room.closing").values_list("room_id", flat=True))
    assert told == {case_world.joint.pk, case_world.defendant_caucus.pk}


def test_an_unknown_reason_is_refused_and_changes_nothing(case_world):
    with pytest.raises(ValueError):
        schedule_rooms_closing(case=case_world.case, at=timezone.now(), reason="because")
    case_world.joint.refresh_from_db()
    assert case_world.joint.closes_at is None
    assert not AuditEntry.objects.filter(action="room.schedule_close").exists()
