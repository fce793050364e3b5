"""The media socket with a real Janus: who gets in, what passes, what it costs."""

import json

import pytest
from channels.db import database_sync_to_async

from rooms.media import janus as janus_api
from rooms.models import MediaRoom

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def media_room(room) -> MediaRoom:
    return MediaRoom.objects.get(room=room)


async def participants(media: MediaRoom) -> list[dict]:
    @database_sync_to_async
    def listed():
        return janus_api.videoroom_request(media.server, {"request": "listparticipants", "room": media.janus_room})

    return (await listed())["participants"]


async def test_a_publisher_joins_with_the_room_display_and_id_the_platform_forces(janus, world, media):
    client, code = await media(world.plaintiff, world.joint)
    assert code is None and client.subprotocol == "janus-protocol"
    _handle, joined = await client.join_as_publisher(room=1234, id=42, display="The judge", token="guess")
    assert joined["videoroom"] == "joined"
    room = await media_room(world.joint)
    assert joined["room"] == room.janus_room
    assert joined["id"] != 42
    [listed] = await participants(room)
    assert json.loads(listed["display"]) == {
        "id": world.plaintiff.pk,
        "name": "Plaintiff agent A",
        "role": "agent",
        "side": "plaintiff",
    }
