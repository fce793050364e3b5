"""Storing a batch of room messages: what the writer relies on for "nothing lost,
nothing twice" and an unbroken seq."""

import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from mediation.services.cases import remove_participant
from rooms.membership import Member, member_of
from rooms.models import Room, RoomEntry
from rooms.protocol import entry_frame
from rooms.services import close_room, mute_participant, post_event
from rooms.store import PostRequest, store_messages
from tests.cases import make_case
from tests.factories import UserFactory
from tests.locks import interleave

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_world(mediator, judge):
    return make_case(mediator, judge)


def request(world, user, client_id=None, body="Hello"):
    return PostRequest(world.joint.pk, member_of(user, world.joint), client_id or uuid.uuid4(), body)


def frame(result):
    return json.loads(result.text)


def test_members_get_a_stored_message_as_the_history_shows_it_later(case_world):
    case_world.plaintiff.full_name = 'Wang "Xiao" Ming \\ 王小明'
    case_world.plaintiff.save()
    body = '他说："好的"\n\tC:\\path \u2028 </script> 🙂'

    [stored] = store_messages([request(case_world, case_world.plaintiff, body=body)])

    entry = RoomEntry.objects.get(room=case_world.joint, seq=stored.seq)
    assert frame(stored) == entry_frame(entry)
    assert (entry.body, frame(stored)["body"]) == (body, body)
    assert frame(stored)["author"]["name"] == 'Wang "Xiao" Ming \\ 王小明'


def test_a_batch_with_a_retry_stores_the_new_messages_with_no_gap_in_seq(case_world):
    first_id = uuid.uuid4()
    [first] = store_messages([request(case_world, case_world.plaintiff, first_id, "first")])

    second, retry, third = store_messages(
        [
            request(case_world, case_world.defendant, body="second"),
            request(case_world, case_world.plaintiff, first_id, "first"),
            request(case_world, case_world.defendant, body="third"),
        ]
    )

    assert retry.outcome == "duplicate"
    assert (retry.seq, frame(retry)) == (first.seq, frame(first))
    assert (second.outcome, third.outcome) == ("stored", "stored")
    assert (second.seq, third.seq) == (first.seq + 1, first.seq + 2)
    stored = RoomEntry.objects.filter(room=case_world.joint, kind=RoomEntry.MESSAGE).order_by("seq")
    assert [entry.body for entry in stored] == ["first", "second", "third"]
    assert [entry.seq for entry in stored][1:] == [frame(second)["seq"], frame(third)["seq"]]


def test_the_same_client_id_twice_in_one_batch_is_stored_once(case_world):
    client_id = uuid.uuid4()

    original, repeat, other = store_messages(
        [
            request(case_world, case_world.plaintiff, client_id, "once"),
            request(case_world, case_world.plaintiff, client_id, "once"),
            request(case_world, case_world.defendant, body="next"),
        ]
    )

    assert (original.outcome, repeat.outcome, other.outcome) == ("stored", "duplicate", "stored")
    assert repeat.text == original.text
    assert (frame(other)["body"], other.seq) == ("next", original.seq + 1)
    assert RoomEntry.objects.filter(client_id=client_id).count() == 1


def test_a_refused_message_sent_twice_in_one_batch_is_refused_twice(case_world):
    """A muted client flushing its outbox twice: the repeat gets the refusal, not an
    empty duplicate."""
    _mute(case_world)
    client_id = uuid.uuid4()

    results = store_messages([request(case_world, case_world.plaintiff, client_id)] * 2)

    assert [(result.outcome, result.code) for result in results] == [("refused", "muted")] * 2
    assert not RoomEntry.objects.filter(kind=RoomEntry.MESSAGE).exists()


def test_a_retry_of_a_message_stored_before_its_author_was_muted_is_a_duplicate_not_a_refusal(case_world):
    client_id = uuid.uuid4()
    [first] = store_messages([request(case_world, case_world.plaintiff, client_id, "Before the mute")])
    _mute(case_world)

    retry, new = store_messages(
        [
            request(case_world, case_world.plaintiff, client_id, "Before the mute"),
            request(case_world, case_world.plaintiff, body="After the mute"),
        ]
    )

    assert (retry.outcome, retry.seq, frame(retry)) == ("duplicate", first.seq, frame(first))
    assert (new.outcome, new.code) == ("refused", "muted")


def test_a_refused_author_costs_the_rest_of_the_batch_nothing(case_world):
    stranger = UserFactory(full_name="Stranger")
    as_stranger = PostRequest(
        case_world.joint.pk, Member(id=stranger.pk, name="Stranger", role="agent"), uuid.uuid4(), "Hi"
    )

    refused, stored = store_messages([as_stranger, request(case_world, case_world.defendant)])

    assert (refused.outcome, refused.code) == ("refused", "not_member")
    assert stored.outcome == "stored"
    assert RoomEntry.objects.filter(room=case_world.joint, kind=RoomEntry.MESSAGE).count() == 1


def test_each_message_is_checked_against_its_room_as_it_is_when_the_batch_is_stored(case_world, mediator, judge):
    world, other = case_world, make_case(mediator, judge, label="B")
    mute_participant(room=world.joint, actor=mediator, user=world.defendant)
    Room.objects.filter(pk=world.defendant_caucus.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    close_room(room=other.joint, actor=mediator)
    remove_participant(participant=other.defendant_participant, actor=mediator, reason="Replaced")
    stranger = UserFactory(full_name="Stranger")
    expected = [
        (world.joint, mediator, "stored"),
        (world.joint, judge, "stored"),
        (world.joint, world.plaintiff, "stored"),
        (world.joint, world.defendant, "muted"),
        (world.joint, stranger, "not_member"),
        (world.plaintiff_caucus, world.plaintiff, "stored"),
        (world.plaintiff_caucus, mediator, "stored"),
        (world.plaintiff_caucus, world.defendant, "not_member"),
        (world.plaintiff_caucus, judge, "not_member"),
        (world.defendant_caucus, world.defendant, "room_closed"),
        (world.defendant_caucus, world.plaintiff, "not_member"),
        (other.joint, world.plaintiff, "not_member"),
        (other.joint, other.plaintiff, "room_closed"),
        (other.plaintiff_caucus, other.plaintiff, "stored"),
        (other.defendant_caucus, other.defendant, "not_member"),
        (Room(pk=world.joint.pk + 1000), mediator, "no_such_room"),
    ]
    requests = [
        PostRequest(room.pk, Member(id=user.pk, name=user.full_name, role="agent"), uuid.uuid4(), "Hello")
        for room, user, _outcome in expected
    ]

    results = store_messages(requests)

    assert [result.code or result.outcome for result in results] == [outcome for _room, _user, outcome in expected]
    stored = RoomEntry.objects.filter(kind=RoomEntry.MESSAGE)
    assert sorted(stored.values_list("client_id", flat=True)) == sorted(
        request.client_id for request, result in zip(requests, results, strict=True) if result.outcome == "stored"
    )
    for room in (world.joint, world.plaintiff_caucus, other.plaintiff_caucus):
        seqs = list(RoomEntry.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        assert Room.objects.get(pk=room.pk).last_seq == seqs[-1]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_retried_batch_leaves_its_rooms_free_for_the_next_writer(case_world):
    """The writer's case: no caller's transaction, so the batch begins and commits its
    own (and, when the unique index refuses a retry, rolls it back and tries again)."""
    first_id = uuid.uuid4()
    [first] = store_messages([request(case_world, case_world.plaintiff, first_id, "first")])

    new, retry = store_messages(
        [request(case_world, case_world.defendant, body="new"), request(case_world, case_world.plaintiff, first_id)]
    )

    assert (new.outcome, new.seq) == ("stored", first.seq + 1)
    assert (retry.outcome, retry.seq, retry.text) == ("duplicate", first.seq, first.text)
    assert not connection.in_atomic_block
    locked = []

    def lock_the_room_elsewhere():
        try:
            with transaction.atomic():
                locked.append(Room.objects.select_for_update(nowait=True).get(pk=case_world.joint.pk).last_seq)
        finally:
            connections.close_all()

    other_writer = threading.Thread(target=lock_the_room_elsewhere)
    other_writer.start()
    other_writer.join()
    assert locked == [new.seq]


def _mute(world):
    mute_participant(room=world.joint, actor=world.mediator, user=world.plaintiff)


def _remove(world):
    remove_participant(participant=world.plaintiff_participant, actor=world.mediator, reason="Replaced")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("change", "refusal"), [(_mute, "muted"), (_remove, "not_member")])
def test_a_batch_that_waits_for_its_room_is_decided_on_what_the_room_holder_committed(
    postgres, case_world, change, refusal
):
    """The mediator mutes (or removes) the author while the author's message waits for
    the room, which the change holds until it commits: the message comes after the
    change's event in the room, so it is refused."""
    changed, may_commit = threading.Event(), threading.Event()
    results = []

    def change_and_hold_the_room():
        with transaction.atomic():
            change(case_world)
            changed.set()
            may_commit.wait(10)

    def store_the_message():
        results.extend(store_messages([request(case_world, case_world.plaintiff, body="Wait, one more thing")]))

    errors = interleave(change_and_hold_the_room, store_the_message, holding=changed, release=may_commit)

    assert errors == []
    assert [result.code for result in results] == [refusal]
    assert not RoomEntry.objects.filter(kind=RoomEntry.MESSAGE).exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_that_waits_for_its_room_is_timed_after_the_event_recorded_meanwhile(postgres, case_world):
    """Seq and time agree in the record: the mediator's change holds the room and
    records its event only after the party's message began to wait for the room."""
    holding, may_record = threading.Event(), threading.Event()
    results = []

    def hold_the_room_then_record_an_event():
        with transaction.atomic():
            Room.objects.select_for_update().get(pk=case_world.joint.pk)
            holding.set()
            may_record.wait(10)
            post_event(room=case_world.joint, kind="session.started", actor=case_world.mediator, data={"session": 1})

    def store_the_message():
        results.extend(store_messages([request(case_world, case_world.plaintiff, body="Are you still there?")]))

    errors = interleave(hold_the_room_then_record_an_event, store_the_message, holding=holding, release=may_record)

    assert errors == []
    [stored] = results
    event, message = RoomEntry.objects.filter(room=case_world.joint).order_by("-seq")[:2][::-1]
    assert (event.kind, message.seq) == ("session.started", stored.seq)
    assert message.created_at >= event.created_at
    assert frame(stored)["sent_at"] == message.created_at.isoformat()
