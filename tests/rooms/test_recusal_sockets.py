"""The rooms follow a granted recusal: the replaced mediator's sockets close at once
and cannot come back; the new mediator enters every room of the case."""

import pytest
from channels.db import database_sync_to_async

from mediation.roles import Role
from mediation.services.recusal import decide_recusal, request_recusal
from tests.factories import staff

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def replace_mediator(world):
    new = staff(Role.MEDIATOR, None, full_name="Zhou Ping")
    request = request_recusal(case=world.case, actor=world.plaintiff, reason="Conflict of interest.")
    decide_recusal(request=request, actor=world.judge, grant=True, note="Conflict shown.", new_mediator=new)
    return new


@database_sync_to_async
def refuse_recusal(world):
    request = request_recusal(case=world.case, actor=world.plaintiff, reason="Conflict of interest.")
    decide_recusal(request=request, actor=world.judge, grant=False, note="No ground.")


async def still_open(client, timeout=0.5) -> bool:
    """Whether the socket stays open for `timeout`: frames it receives meanwhile (such
    as presence) are read and dropped, and none may be a close."""
    communicator = client.communicator
    while not await communicator.receive_nothing(timeout=timeout):
        output = await communicator.receive_output(timeout=1)
        if output["type"] == "websocket.close":
            return False
    return True


async def test_the_replaced_mediator_is_disconnected_and_cannot_rejoin_and_the_new_one_can(world, connect):
    joint, _ = await connect(world.mediator, world.joint)
    caucus, _ = await connect(world.mediator, world.plaintiff_caucus)
    plaintiff, _ = await connect(world.plaintiff, world.joint)

    new = await replace_mediator(world)

    assert await joint.receive_close() == 4403
    assert await caucus.receive_close() == 4403
    _again, code = await connect(world.mediator, world.joint)
    assert code == 4403
    _again, code = await connect(world.mediator, world.defendant_caucus)
    assert code == 4403
    # The parties stay; the new mediator enters the joint room and both caucuses.
    assert await still_open(plaintiff)
    for room in (world.joint, world.plaintiff_caucus, world.defendant_caucus):
        client, code = await connect(new, room)
        assert code is None
        assert client.hello["me"]["id"] == new.pk
    assert new.pk in {member["id"] for member in client.hello["members"]}
    assert world.mediator.pk not in {member["id"] for member in client.hello["members"]}


async def test_a_refused_recusal_leaves_the_mediator_connected(world, connect):
    joint, _ = await connect(world.mediator, world.joint)

    await refuse_recusal(world)

    assert await still_open(joint)
    _again, code = await connect(world.mediator, world.joint)
    assert code is None
