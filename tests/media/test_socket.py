"""The media socket with a real Janus: who gets in, what passes, what it costs."""

import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from rooms.media import credentials, relay, socket
from rooms.media import janus as janus_api
from rooms.media.servers import media_room_for
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


async def test_refused_without_a_credential_with_an_expired_one_or_another_persons(janus, world, media, settings):
    _client, code = await media(world.plaintiff, world.joint, credential=None)
    assert code == 4403
    _client, code = await media(world.plaintiff, world.joint, credential="1:2:forged")
    assert code == 4403
    defendants = credentials.issue(world.defendant.pk, world.joint.pk)
    _client, code = await media(world.plaintiff, world.joint, credential=defendants)
    assert code == 4403
    other_rooms = credentials.issue(world.plaintiff.pk, world.plaintiff_caucus.pk)
    _client, code = await media(world.plaintiff, world.joint, credential=other_rooms)
    assert code == 4403
    settings.MEDIA_CREDENTIAL_SECONDS = -1
    _client, code = await media(world.plaintiff, world.joint)
    assert code == 4403


async def test_a_signed_out_visitor_is_refused(janus, world, media):
    _client, code = await media(AnonymousUser(), world.joint, credential="x", place=False)
    assert code == 4401


async def test_the_defendant_is_refused_from_the_plaintiffs_caucus_and_janus_never_sees_them(janus, world, media):
    # Even with a credential made for them (the endpoint would refuse it), the rule refuses.
    _client, code = await media(world.defendant, world.plaintiff_caucus, place=False)
    assert code == 4403
    assert not await database_sync_to_async(MediaRoom.objects.filter(room=world.plaintiff_caucus).exists)()
    # The mediator and the plaintiff meet there.
    mediator, code = await media(world.mediator, world.plaintiff_caucus)
    assert code is None
    await mediator.join_as_publisher()
    [listed] = await participants(await media_room(world.plaintiff_caucus))
    assert json.loads(listed["display"])["id"] == world.mediator.pk


FORBIDDEN_BODIES = [
    {"request": "create", "room": 4242},
    {"request": "destroy"},
    {"request": "kick", "id": 1},
    {"request": "moderate", "id": 1, "mid": "0", "mute": True},
    {"request": "enable_recording", "record": True},
    {"request": "rtp_forward", "host": "127.0.0.1"},
    {"request": "allowed", "action": "disable"},
    {"request": "edit", "new_description": "x"},
    {"request": "exists"},
    {"request": "list"},
    {"request": "joinandconfigure", "ptype": "publisher"},
]


async def test_forbidden_requests_are_answered_with_an_error_and_not_relayed(janus, world, media):
    plaintiff, _ = await media(world.plaintiff, world.joint)
    await plaintiff.join_as_publisher()
    defendant, _ = await media(world.defendant, world.joint)
    handle = await defendant.attach()
    room = await media_room(world.joint)
    [listed] = await participants(room)
    for body in FORBIDDEN_BODIES:
        body = {**body, "id": listed["id"]} if "id" in body else body
        answer = await defendant.message(handle, {**body, "room": room.janus_room, "secret": "guess"})
        assert answer["janus"] == "error" and answer["error"]["code"] == 403, (body, answer)
    other_plugin = await defendant.request({"janus": "attach", "plugin": "janus.plugin.streaming"})
    assert other_plugin["janus"] == "error" and other_plugin["error"]["code"] == 403
    for kind in ("info", "claim", "message.other"):
        answer = await defendant.request({"janus": kind})
        assert answer["janus"] == "error"
    # Not relayed: the plaintiff is still there, nobody created a room.
    assert [each["id"] for each in await participants(room)] == [listed["id"]]
    exists = await database_sync_to_async(janus_api.videoroom_request)(room.server, {"request": "exists", "room": 4242})
    assert not exists["exists"]


async def test_another_sockets_session_and_handles_are_out_of_reach(janus, world, media):
    plaintiff, _ = await media(world.plaintiff, world.joint)
    handle, _joined = await plaintiff.join_as_publisher()
    defendant, _ = await media(world.defendant, world.joint)
    answer = await defendant.request({"janus": "detach", "session_id": plaintiff.session_id, "handle_id": handle})
    assert answer["janus"] == "error"
    answer = await defendant.request({"janus": "hangup", "handle_id": handle})
    assert answer["janus"] == "error"
    assert len(await participants(await media_room(world.joint))) == 1


async def test_limits_bound_what_one_socket_costs(janus, world, media, monkeypatch):
    # A slow refill: what a loaded machine takes to handle the burst refills nothing.
    monkeypatch.setattr(socket, "FRAMES_PER_SECOND", 1)
    client, _ = await media(world.plaintiff, world.joint)
    await client.communicator.send_to(text_data="x" * (relay.MAX_FRAME_CHARS + 1))
    assert (await client.receive())["error"]["code"] == relay.MALFORMED
    for _ in range(socket.MAX_HANDLES):
        await client.attach()
    answer = await client.request({"janus": "attach", "plugin": "janus.plugin.videoroom"})
    assert answer["janus"] == "error" and answer["error"]["code"] == relay.TOO_MANY
    # A burst of requests beyond the rate: the excess is refused, not sent.
    for index in range(socket.FRAME_BURST + 20):
        await client.send({"janus": "keepalive", "session_id": client.session_id, "transaction": f"k{index}"})
    codes = []
    while len(codes) < socket.FRAME_BURST + 20:
        frame = await client.receive()
        # Beyond the rate a frame is not read: refused without its transaction.
        if frame.get("transaction", "k").startswith("k"):
            codes.append(frame["janus"] if frame["janus"] != "error" else frame["error"]["code"])
    assert relay.TOO_MANY in codes and "ack" in codes


async def test_frames_that_are_not_even_json_count_against_the_rate(janus, world, media, monkeypatch):
    """Parsing is the cost a flood of frames makes: malformed ones are held to the
    rate like the others, refused unread beyond it."""
    monkeypatch.setattr(socket, "FRAMES_PER_SECOND", 1)
    client, _ = await media(world.plaintiff, world.joint)
    for _ in range(socket.FRAME_BURST + 20):
        await client.communicator.send_to(text_data="{" * 1000)
    codes = [(await client.receive())["error"]["code"] for _ in range(socket.FRAME_BURST + 20)]
    assert codes.count(relay.TOO_MANY) >= 19 and relay.MALFORMED in codes


async def test_a_person_has_at_most_three_media_sockets_in_a_room(janus, world, media):
    for _ in range(socket.MAX_SOCKETS_PER_PERSON):
        _client, code = await media(world.plaintiff, world.joint)
        assert code is None
    _client, code = await media(world.plaintiff, world.joint)
    assert code == socket.CLOSE_TOO_MANY_SOCKETS
    # Another person is not counted with them.
    _client, code = await media(world.defendant, world.joint)
    assert code is None


async def test_a_room_whose_media_server_went_away_says_video_is_unavailable(janus, world, media, settings):
    _client, code = await media(world.plaintiff, world.joint, place=False)
    assert code == socket.CLOSE_MEDIA_UNAVAILABLE
    await database_sync_to_async(media_room_for)(world.joint)
    await database_sync_to_async(MediaRoom.objects.filter(room=world.joint).update)(server="ws://127.0.0.1:9")
    settings.JANUS_SERVERS = [janus.url, "ws://127.0.0.1:9"]
    _client, code = await media(world.plaintiff, world.joint, place=False)
    assert code == socket.CLOSE_MEDIA_UNAVAILABLE


async def test_a_join_after_a_recording_started_needs_the_persons_consent(janus, world, media):
    """Let in before the mediator started recording, a person not yet in the media room
    cannot join it without their consent: the rule is asked again at each join."""
    from rooms.media import recording as recording_service

    client, code = await media(world.defendant, world.joint)
    assert code is None

    @database_sync_to_async
    def start():
        recording_service.consent_to_recording(room=world.joint, user=world.mediator)
        recording_service.start_recording(room=world.joint, actor=world.mediator)

    await start()
    handle = await client.attach()
    await client.send(
        {
            "janus": "message",
            "transaction": "join-while-recording",
            "session_id": client.session_id,
            "handle_id": handle,
            "body": {"request": "join", "ptype": "publisher"},
        }
    )
    assert await client.receive_close() == 4403
    assert await participants(await media_room(world.joint)) == []

    @database_sync_to_async
    def stop():
        recording_service.stop_recording(room=world.joint, actor=world.mediator)

    await stop()


async def test_publishing_while_recording_needs_the_persons_consent(janus, world, media):
    """A person whose join was let in just before a recording began (the recording not
    yet committed when the rule was asked) cannot then publish into it without their
    consent: the rule is asked again when they send their media."""
    from rooms.models import MediaRecording

    client, code = await media(world.defendant, world.joint)
    assert code is None
    handle, joined = await client.join_as_publisher()
    assert joined["videoroom"] == "joined"

    @database_sync_to_async
    def recording_committed_after_their_join():
        media_room = MediaRoom.objects.get(room=world.joint)
        MediaRecording.objects.create(
            room=world.joint,
            started_by=world.mediator,
            started_at="2026-12-07T10:00:00Z",
            server=media_room.server,
            janus_room=media_room.janus_room,
            folder="/nonexistent",
        )

    await recording_committed_after_their_join()
    await client.send(
        {
            "janus": "message",
            "transaction": "publish-while-recording",
            "session_id": client.session_id,
            "handle_id": handle,
            "body": {"request": "publish"},
            "jsep": {"type": "offer", "sdp": "v=0"},
        }
    )
    assert await client.receive_close() == 4403
    assert await participants(await media_room(world.joint)) == []


async def test_sockets_opened_at_once_are_held_to_three_per_person(janus, world, media):
    """The limit holds for sockets opened all at the same moment (one credential may be
    used for several), not only one after another."""
    import asyncio

    await database_sync_to_async(media_room_for)(world.joint)
    credential = credentials.issue(world.plaintiff.pk, world.joint.pk)
    opened = await asyncio.gather(
        *[media(world.plaintiff, world.joint, credential=credential, place=False) for _ in range(8)]
    )
    codes = [code for _client, code in opened]
    assert codes.count(None) == socket.MAX_SOCKETS_PER_PERSON
    assert codes.count(socket.CLOSE_TOO_MANY_SOCKETS) == 8 - socket.MAX_SOCKETS_PER_PERSON
