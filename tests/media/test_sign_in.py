"""The media socket as daphne serves it (config.asgi): signed in from the session
cookie, from the platform's own pages only."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from rooms.media import credentials
from rooms.media.servers import media_room_for
from tests.servers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def open_session(room_id: int, credential: str, headers) -> tuple[bool, dict | None]:
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application, f"/ws/media/{room_id}/?credential={credential}", headers=headers, subprotocols=["janus-protocol"]
    )
    connected, _subprotocol = await communicator.connect(timeout=5)
    try:
        if not connected:
            return False, None
        await communicator.send_to(text_data=json.dumps({"janus": "create", "transaction": "t1"}))
        output = await communicator.receive_output(timeout=10)
        return True, output
    finally:
        await communicator.disconnect()


async def test_signed_in_from_the_session_cookie_and_its_own_origin_only(janus, world):
    cookie = await database_sync_to_async(session_cookie)(world.plaintiff)
    await database_sync_to_async(media_room_for)(world.joint)
    credential = credentials.issue(world.plaintiff.pk, world.joint.pk)
    own = [(b"cookie", cookie.encode()), (b"host", b"testserver"), (b"origin", b"http://testserver")]
    accepted, output = await open_session(world.joint.pk, credential, own)
    assert accepted and json.loads(output["text"])["janus"] == "success"

    foreign = [(b"cookie", cookie.encode()), (b"host", b"testserver"), (b"origin", b"http://evil.example")]
    accepted, _output = await open_session(world.joint.pk, credential, foreign)
    assert not accepted

    no_cookie = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    accepted, output = await open_session(world.joint.pk, credential, no_cookie)
    assert output == {"type": "websocket.close", "code": 4401}
