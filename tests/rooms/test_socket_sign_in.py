"""Room sockets sign in from the session cookie, as the server serves them: the
slim middleware must refuse everything Channels' own stack refuses."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from rooms.protocol import CLOSE_NOT_SIGNED_IN
from rooms.routing import signed_in_websocket_urlpatterns
from tests.servers import session_cookie

router = URLRouter(signed_in_websocket_urlpatterns)


async def first_answer(room_id: int, cookie: str | None):
    headers = [(b"cookie", cookie.encode())] if cookie else []
    communicator = WebsocketCommunicator(router, f"/ws/rooms/{room_id}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    output = await communicator.receive_output(timeout=5)
    await communicator.disconnect()
    return output


async def test_a_signed_in_member_gets_the_hello(world):
    cookie = await database_sync_to_async(session_cookie)(world.plaintiff)

    output = await first_answer(world.joint.pk, cookie)

    assert json.loads(output["text"])["type"] == "hello"


@pytest.mark.parametrize("cookie", [None, "sessionid=no-such-session", "sessionid=", "other=1"])
async def test_without_a_valid_session_the_socket_is_closed_4401(world, cookie):
    output = await first_answer(world.joint.pk, cookie)

    assert (output["type"], output["code"]) == ("websocket.close", CLOSE_NOT_SIGNED_IN)


async def test_a_session_from_before_a_password_change_is_refused(world):
    cookie = await database_sync_to_async(session_cookie)(world.plaintiff)

    @database_sync_to_async
    def change_password():
        world.plaintiff.set_password("a-new-password-9281")
        world.plaintiff.save()

    await change_password()
    output = await first_answer(world.joint.pk, cookie)

    assert (output["type"], output["code"]) == ("websocket.close", CLOSE_NOT_SIGNED_IN)
