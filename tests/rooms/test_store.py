"""Storing a batch of room messages: what the writer relies on for "nothing lost,
nothing twice" and an unbroken seq."""

import json
import uuid

import pytest

from rooms.membership import Member, member_of
from rooms.models import RoomEntry
from rooms.protocol import entry_frame
from rooms.store import PostRequest, store_messages
from tests.cases import make_case
from tests.factories import UserFactory

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
    assert (retry.seq, frame(retry)["id"]) == (first.seq, frame(first)["id"])
    assert (second.outcome, third.outcome) == ("stored", "stored")
    assert (second.seq, third.seq) == (first.seq + 1, first.seq + 2)
    stored = RoomEntry.objects.filter(room=case_world.joint, kind=RoomEntry.MESSAGE).order_by("seq")
    assert [entry.body for entry in stored] == ["first", "second", "third"]
    assert [entry.id for entry in stored][1:] == [frame(second)["id"], frame(third)["id"]]


def test_the_same_client_id_twice_in_one_batch_is_stored_once(case_world):
    client_id = uuid.uuid4()

    original, repeat = store_messages(
        [request(case_world, case_world.plaintiff, client_id), request(case_world, case_world.plaintiff, client_id)]
    )

    assert (original.outcome, repeat.outcome) == ("stored", "duplicate")
    assert repeat.text == original.text
    assert RoomEntry.objects.filter(client_id=client_id).count() == 1


def test_a_refused_author_costs_the_rest_of_the_batch_nothing(case_world):
    stranger = UserFactory(full_name="Stranger")
    as_stranger = PostRequest(
        case_world.joint.pk, Member(id=stranger.pk, name="Stranger", role="agent"), uuid.uuid4(), "Hi"
    )

    refused, stored = store_messages([as_stranger, request(case_world, case_world.defendant)])

    assert (refused.outcome, refused.code) == ("refused", "not_member")
    assert stored.outcome == "stored"
    assert RoomEntry.objects.filter(room=case_world.joint, kind=RoomEntry.MESSAGE).count() == 1
