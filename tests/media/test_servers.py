"""Placing a room's media on a Janus server, with a real Janus."""

import pytest

from mediation.models import AuditEntry
from rooms.media import janus as janus_api
from rooms.media.servers import MediaUnavailable, media_room_for
from rooms.models import MediaRoom, Room
from tests.cases import make_civil_case


@pytest.fixture
def room(db):
    world = make_civil_case()
    return Room.objects.get(case=world.case, kind="joint")


def test_a_room_is_placed_on_the_live_server_and_recorded(janus, room):
    media = media_room_for(room)
    assert media.server == janus.url
    assert janus_api.videoroom_request(janus.url, {"request": "exists", "room": media.janus_room})["exists"]
    entry = AuditEntry.objects.filter(action="media.placed").get()
    assert entry.data["server"] == janus.url
    # Asked again: the same room, not placed again.
    assert media_room_for(room).janus_room == media.janus_room
    assert AuditEntry.objects.filter(action="media.placed").count() == 1


def test_a_stopped_server_is_skipped_and_the_room_says_unavailable(janus, room, settings):
    settings.JANUS_SERVERS = ["ws://127.0.0.1:9"]
    with pytest.raises(MediaUnavailable):
        media_room_for(room)
    assert not MediaRoom.objects.exists()


def test_a_room_whose_server_stopped_is_placed_on_a_live_one(janus, room, settings):
    settings.JANUS_SERVERS = [janus.url]
    media = media_room_for(room)
    MediaRoom.objects.filter(pk=media.pk).update(server="ws://127.0.0.1:9")
    settings.JANUS_SERVERS = ["ws://127.0.0.1:9", janus.url]
    moved = media_room_for(room)
    assert moved.server == janus.url
    assert AuditEntry.objects.filter(action="media.placed").count() == 2
