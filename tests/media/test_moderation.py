"""The mediator mutes and removes people in a room's video (real Janus)."""

import pytest
from channels.db import database_sync_to_async

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry
from rooms.media import services
from rooms.media.rules import media_refusal
from rooms.models import RoomEntry
from tests.media.test_cutting import gone_within, listed_users

pytestmark = pytest.mark.django_db(transaction=True)


async def moderation_of(client, feed_id: int) -> str:
    """The next moderation event Janus sends about `feed_id` ("muted"/"unmuted")."""
    while True:
        frame = await client.receive()
        data = (frame.get("plugindata") or {}).get("data") or {}
        if data.get("moderation") and data.get("id") == feed_id:
            return data["moderation"]


async def test_a_muted_person_stays_muted_when_they_join_again_until_unmuted(janus, world, media):
    plaintiff, _ = await media(world.plaintiff, world.joint)
    handle, joined = await plaintiff.join_as_publisher()
    await plaintiff.publish(handle)

    await database_sync_to_async(services.mute_in_media)(room=world.joint, actor=world.mediator, user=world.plaintiff)
    assert await moderation_of(plaintiff, joined["id"]) == "muted"

    # Back with a new socket: muted again as soon as they publish.
    await plaintiff.close()
    again, _ = await media(world.plaintiff, world.joint)
    handle, joined = await again.join_as_publisher()
    await again.publish(handle)
    assert await moderation_of(again, joined["id"]) == "muted"

    await database_sync_to_async(services.unmute_in_media)(room=world.joint, actor=world.mediator, user=world.plaintiff)
    assert await moderation_of(again, joined["id"]) == "unmuted"
    kinds = await database_sync_to_async(list)(
        RoomEntry.objects.filter(room=world.joint, kind__startswith="media.").values_list("kind", flat=True)
    )
    assert kinds == ["media.muted", "media.unmuted"]


async def test_a_removed_person_is_cut_and_cannot_join_again_until_readmitted(janus, world, media):
    defendant, _ = await media(world.defendant, world.joint)
    await defendant.join_as_publisher()
    await database_sync_to_async(services.remove_from_media)(
        room=world.joint, actor=world.mediator, user=world.defendant
    )
    assert await defendant.receive_close() == 4403
    await gone_within(5, world.joint, world.defendant.pk)
    _again, code = await media(world.defendant, world.joint)
    assert code == 4403
    assert await database_sync_to_async(media_refusal)(world.defendant, world.joint) == "removed_from_media"
    # The text room is theirs still; and the removal is of this room's video only.
    assert await database_sync_to_async(media_refusal)(world.defendant, world.defendant_caucus) == ""

    await database_sync_to_async(services.readmit_to_media)(
        room=world.joint, actor=world.mediator, user=world.defendant
    )
    back, code = await media(world.defendant, world.joint)
    assert code is None
    await back.join_as_publisher()
    assert world.defendant.pk in await listed_users(world.joint)


def test_moderation_is_the_mediators_and_of_parties_only(world):
    for actor in (world.judge, world.plaintiff):
        with pytest.raises(ActionForbidden):
            services.mute_in_media(room=world.joint, actor=actor, user=world.defendant)
        with pytest.raises(ActionForbidden):
            services.remove_from_media(room=world.joint, actor=actor, user=world.defendant)
    with pytest.raises(TransitionNotAllowed):
        services.mute_in_media(room=world.joint, actor=world.mediator, user=world.judge)
    # The defendant is not in the plaintiff's caucus: nothing to moderate there.
    with pytest.raises(TransitionNotAllowed):
        services.remove_from_media(room=world.plaintiff_caucus, actor=world.mediator, user=world.defendant)
    assert not RoomEntry.objects.filter(kind__startswith="media.").exists()
    services.mute_in_media(room=world.joint, actor=world.mediator, user=world.defendant)
    with pytest.raises(TransitionNotAllowed):
        services.mute_in_media(room=world.joint, actor=world.mediator, user=world.defendant)
    assert AuditEntry.objects.filter(action="media.muted").count() == 1


def test_a_removal_in_a_caucus_stays_in_that_caucus(world):
    services.remove_from_media(room=world.plaintiff_caucus, actor=world.mediator, user=world.plaintiff)
    [entry] = RoomEntry.objects.filter(kind="media.removed")
    assert entry.room_id == world.plaintiff_caucus.pk
    assert entry.data["user"] == {"id": world.plaintiff.pk, "name": "Plaintiff agent A"}


async def test_the_platform_kicks_a_persons_feeds_from_the_videoroom_itself(janus, world, media):
    """For a socket the hub could not reach (another process cut off from Redis, say)."""
    defendant, _ = await media(world.defendant, world.joint)
    await defendant.join_as_publisher()
    plaintiff, _ = await media(world.plaintiff, world.joint)
    await plaintiff.join_as_publisher()
    kicked = await database_sync_to_async(services.kick_from_videoroom)(world.joint.pk, world.defendant.pk)
    assert kicked == 1
    assert await listed_users(world.joint) == {world.plaintiff.pk}
