"""Third parties, interpreters and helpers on the room socket (issue 20): a third
party is in the joint room only; an interpreter or a helper is where their party is."""

import uuid

import pytest
from channels.db import database_sync_to_async

from rooms.models import RoomEntry
from tests.participants import add_third_party, join

pytestmark = pytest.mark.django_db(transaction=True)


def new_message(body):
    return {"type": "message.send", "client_id": str(uuid.uuid4()), "body": body}


@pytest.fixture
def third(world):
    party = add_third_party(world)
    return join(world, party, "legal_representative", "Third party representative").user


@pytest.fixture
def interpreter(world):
    return join(world, world.plaintiff_participant.party, "interpreter", "Interpreter for the plaintiff").user


@pytest.fixture
def helper(world):
    return join(world, world.defendant_participant.party, "helper", "Helper of the defendant").user


async def test_a_third_party_joins_the_joint_room_and_talks_there(world, third, connect):
    client, code = await connect(third, world.joint)
    assert code is None
    assert client.hello["me"]["side"] == "third"
    plaintiff, _ = await connect(world.plaintiff, world.joint)
    await client.send(new_message("We hold the goods."))
    frame = await plaintiff.receive_until("message")
    assert frame["body"] == "We hold the goods." and frame["author"]["side"] == "third"


async def test_a_third_party_is_refused_from_both_caucuses(world, third, connect):
    _client, code = await connect(third, world.plaintiff_caucus)
    assert code == 4403
    _client, code = await connect(third, world.defendant_caucus)
    assert code == 4403


async def test_an_interpreter_joins_the_joint_room_and_their_own_sides_caucus_only(world, interpreter, connect):
    _joint, code = await connect(interpreter, world.joint)
    assert code is None
    caucus, code = await connect(interpreter, world.plaintiff_caucus)
    assert code is None
    await caucus.send(new_message("翻译：我们接受分期。"))
    await caucus.receive_until("message")
    [entry] = await database_sync_to_async(list)(RoomEntry.objects.filter(room=world.plaintiff_caucus, kind="message"))
    assert entry.author_id == interpreter.pk
    _other, code = await connect(interpreter, world.defendant_caucus)
    assert code == 4403


async def test_a_helper_writes_in_the_joint_room_for_their_party(world, helper, connect):
    client, code = await connect(helper, world.joint)
    assert code is None
    mediator, _ = await connect(world.mediator, world.joint)
    await client.send(new_message("我替老人打字：同意调解。"))
    frame = await mediator.receive_until("message")
    assert frame["author"]["role"] == "helper" and frame["author"]["side"] == "defendant"
    _caucus, code = await connect(helper, world.plaintiff_caucus)
    assert code == 4403
