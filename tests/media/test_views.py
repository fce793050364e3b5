"""The media endpoints: the credential, the people list and the mediator's moderation."""

import pytest
from django.urls import reverse

from rooms.media import credentials
from rooms.media.rules import register_recording_state
from rooms.models import MediaModeration, MediaRoom, Room, RoomEntry
from tests.cases import make_civil_case
from tests.factories import UserFactory
from tests.test_translations import compiled_catalog  # noqa: F401 (a fixture)


@pytest.fixture
def world(db):
    return make_civil_case()


def post(client, user, name, room, data=None):
    client.force_login(user)
    return client.post(reverse(name, args=[room if isinstance(room, int) else room.pk]), data or {})


def test_a_member_gets_a_credential_for_the_rooms_media(janus, world, client, settings):
    settings.TURN_URLS = ["turn:127.0.0.1:3478"]
    answer = post(client, world.plaintiff, "media_credential", world.plaintiff_caucus)
    assert answer.status_code == 200
    body = answer.json()
    assert credentials.is_valid_for(body["credential"], world.plaintiff.pk, world.plaintiff_caucus.pk)
    assert body["socket"] == f"/ws/media/{world.plaintiff_caucus.pk}/?credential={body['credential']}"
    assert body["expiresIn"] == 60 and body["me"] == world.plaintiff.pk
    assert body["recording"] == {"active": False, "consented": False}
    [ice] = body["iceServers"]
    assert ice["urls"] == ["turn:127.0.0.1:3478"] and ice["username"].endswith(f":{world.plaintiff.pk}")
    assert MediaRoom.objects.filter(room=world.plaintiff_caucus, server=janus.url).exists()


def test_the_recording_state_comes_from_its_provider(janus, world, client):
    register_recording_state(lambda user, room: {"active": True, "consented": user.pk == 0})
    try:
        body = post(client, world.plaintiff, "media_credential", world.joint).json()
    finally:
        from rooms.media import rules

        rules._recording_state.clear()
    assert body["recording"] == {"active": True, "consented": False}


def test_the_other_side_and_strangers_get_no_credential(world, client):
    stranger = UserFactory(full_name="Stranger")
    for user in (world.defendant, stranger):
        answer = post(client, user, "media_credential", world.plaintiff_caucus)
        assert answer.status_code == 403
        assert answer.json()["error"] == "not_member"
    # The same 403 whether or not the room exists for others; 404 only for no such room.
    answer = post(client, stranger, "media_credential", 999_999)
    assert answer.status_code == 404
    assert not MediaRoom.objects.exists()


def test_a_closed_room_gives_no_credential(world, client):
    Room.objects.filter(pk=world.joint.pk).update(closed_at="2026-01-01T00:00:00Z")
    answer = post(client, world.plaintiff, "media_credential", world.joint)
    assert answer.status_code == 403 and answer.json()["error"] == "room_closed"


def test_video_unavailable_is_a_503_in_bounded_time(world, client, settings):
    settings.JANUS_SERVERS = ["ws://127.0.0.1:9"]
    answer = post(client, world.plaintiff, "media_credential", world.joint)
    assert answer.status_code == 503
    assert answer.json()["error"] == "media_unavailable" and "unavailable" in answer.json()["message"]


def test_signed_out_or_with_get_no_credential(world, client):
    answer = client.post(reverse("media_credential", args=[world.joint.pk]))
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
    client.force_login(world.plaintiff)
    assert client.get(reverse("media_credential", args=[world.joint.pk])).status_code == 405


@pytest.mark.parametrize("action", ["mute", "remove"])
def test_only_the_mediator_moderates(world, client, action):
    for user in (world.judge, world.plaintiff):
        answer = post(client, user, f"media_{action}", world.joint, {"user": world.defendant.pk})
        assert answer.status_code == 403
    # Not a member of the plaintiff's caucus: refused as for its text room.
    answer = post(client, world.defendant, f"media_{action}", world.plaintiff_caucus, {"user": world.plaintiff.pk})
    assert answer.status_code == 403 and answer.json()["error"] == "not_member"
    assert not MediaModeration.objects.exists()
    answer = post(client, world.mediator, f"media_{action}", world.joint, {"user": world.defendant.pk})
    assert answer.status_code == 200
    assert MediaModeration.objects.get().kind == {"mute": "mute", "remove": "removal"}[action]


def test_moderation_answers_bad_input_clearly_and_changes_nothing(world, client):
    # A number of thousands of digits is no one, not a server error (int() refuses
    # more than 4300 digits).
    for given in ("", "abc", "99999", "-1", str(2**70), "9" * 5000):
        answer = post(client, world.mediator, "media_mute", world.joint, {"user": given})
        assert answer.status_code == 400
    answer = post(client, world.mediator, "media_unmute", world.joint, {"user": world.defendant.pk})
    assert answer.status_code == 409 and "not muted" in answer.json()["message"]
    answer = post(client, world.mediator, "media_readmit", world.joint, {"user": world.defendant.pk})
    assert answer.status_code == 409
    assert not MediaModeration.objects.exists()
    assert not RoomEntry.objects.filter(kind__startswith="media.").exists()


def test_a_person_asking_for_credentials_without_end_is_slowed_down(world, client, settings):
    from rooms.media import views

    settings.JANUS_SERVERS = ["ws://127.0.0.1:9"]
    statuses = [
        post(client, world.plaintiff, "media_credential", world.joint).status_code
        for _ in range(views.CREDENTIALS_PER_MINUTE + 1)
    ]
    assert statuses[:-1] == [503] * views.CREDENTIALS_PER_MINUTE and statuses[-1] == 429
    # Someone else is not slowed down by them.
    assert post(client, world.defendant, "media_credential", world.joint).status_code == 503


def test_the_answers_message_is_in_the_readers_language(world, client, compiled_catalog):  # noqa: F811
    for user in (world.mediator, world.defendant):
        user.language = "zh-hans"
        user.save(update_fields=["language"])
    answer = post(client, world.mediator, "media_unmute", world.joint, {"user": world.defendant.pk})
    assert answer.json()["message"] == f"{world.defendant} 在此房间的视频中未被静音。"
    answer = post(client, world.defendant, "media_credential", world.plaintiff_caucus)
    assert answer.json() == {"error": "not_member", "message": "您不在此房间中。"}
