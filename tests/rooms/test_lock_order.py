"""A mediator's change to a room (mute, close, reopen) and a change to the case that
posts room events (a participant's removal, a session starting) can run at the same
moment. Both are audited; each must wait for the other, never deadlock, which
PostgreSQL would end by failing one of them."""

import threading

import pytest

from mediation.services.cases import remove_participant
from rooms import receivers
from rooms.models import RoomEntry
from rooms.services import mute_participant
from tests.cases import make_case
from tests.locks import interleave


@pytest.mark.django_db(transaction=True)
def test_a_mute_during_a_participants_removal_waits_for_it_and_both_are_done(postgres, mediator, judge, monkeypatch):
    world = make_case(mediator, judge)
    recorded, may_post = threading.Event(), threading.Event()
    post_case_event = receivers.post_case_event

    def post_once_the_mute_is_under_way(**kwargs):
        # The removal has recorded its audit entry; its room events come next.
        recorded.set()
        may_post.wait(10)
        return post_case_event(**kwargs)

    monkeypatch.setattr(receivers, "post_case_event", post_once_the_mute_is_under_way)

    failures = interleave(
        lambda: remove_participant(participant=world.plaintiff_participant, actor=mediator, reason="Replaced"),
        lambda: mute_participant(room=world.joint, actor=mediator, user=world.defendant),
        holding=recorded,
        release=may_post,
    )

    assert failures == []
    events = RoomEntry.objects.filter(room=world.joint, kind__in=["participant.left", "participant.muted"])
    assert [entry.kind for entry in events.order_by("seq")] == ["participant.left", "participant.muted"]
