"""Removing a participant or closing the room cuts their media within 5 seconds: the
media socket closes and their Janus session is gone (real Janus)."""

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async

from mediation.services.cases import remove_participant
from rooms import services as room_services
from tests.media.test_socket import media_room, participants

pytestmark = pytest.mark.django_db(transaction=True)


async def listed_users(room) -> set[int]:
    return {json.loads(each["display"])["id"] for each in await participants(await media_room(room))}


async def gone_within(seconds: float, room, user_id: int) -> float:
    """How long until `user_id` is no longer in the room's VideoRoom (fails after `seconds`)."""
    started = time.monotonic()
    while user_id in await listed_users(room):
        assert time.monotonic() - started < seconds, "still in the media room"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_removed_participant_is_cut_from_the_media_within_5_seconds(janus, world, media):
    defendant, _ = await media(world.defendant, world.joint)
    await defendant.join_as_publisher()
    plaintiff, _ = await media(world.plaintiff, world.joint)
    await plaintiff.join_as_publisher()
    assert await listed_users(world.joint) == {world.defendant.pk, world.plaintiff.pk}

    started = time.monotonic()
    await database_sync_to_async(remove_participant)(
        participant=world.defendant_participant, actor=world.mediator, reason="Withdrew"
    )
    assert await defendant.receive_close() == 4403
    await gone_within(5 - (time.monotonic() - started), world.joint, world.defendant.pk)
    assert await listed_users(world.joint) == {world.plaintiff.pk}
    # And they cannot come back.
    _again, code = await media(world.defendant, world.joint)
    assert code == 4403


async def test_closing_the_room_cuts_everyones_media_within_5_seconds(janus, world, media):
    plaintiff, _ = await media(world.plaintiff, world.plaintiff_caucus)
    await plaintiff.join_as_publisher()
    mediator, _ = await media(world.mediator, world.plaintiff_caucus)
    await mediator.join_as_publisher()
    joint, _ = await media(world.plaintiff, world.joint)
    await joint.join_as_publisher()

    started = time.monotonic()
    await database_sync_to_async(room_services.close_room)(room=world.plaintiff_caucus, actor=world.mediator)
    assert await plaintiff.receive_close() == 4408
    assert await mediator.receive_close() == 4408
    await gone_within(5 - (time.monotonic() - started), world.plaintiff_caucus, world.plaintiff.pk)
    assert await listed_users(world.plaintiff_caucus) == set()
    # The joint room's media goes on.
    assert await listed_users(world.joint) == {world.plaintiff.pk}


async def test_leaving_destroys_the_janus_session(janus, world, media):
    plaintiff, _ = await media(world.plaintiff, world.joint)
    await plaintiff.join_as_publisher()
    await plaintiff.close()
    await gone_within(5, world.joint, world.plaintiff.pk)


async def test_a_room_whose_closing_time_comes_cuts_its_media(janus, world, media, monkeypatch):
    """No message announces the end of a grace period (`closes_at`): the socket asks
    the rule again every REFRESH_SECONDS."""
    from django.utils import timezone

    from rooms.media import presence
    from rooms.models import Room

    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.2)
    plaintiff, _ = await media(world.plaintiff, world.joint)
    await plaintiff.join_as_publisher()
    await database_sync_to_async(Room.objects.filter(pk=world.joint.pk).update)(closes_at=timezone.now())
    assert await plaintiff.receive_close() == 4408
    await gone_within(5, world.joint, world.plaintiff.pk)


async def test_a_room_closing_by_the_clock_cuts_its_media_within_5_seconds(janus, world, media):
    """The end of a closing's grace period (`closes_at`) closes the room with no message
    to announce it: the media socket wakes for it, not only at its next refresh."""
    import datetime as dt

    from django.utils import timezone

    from rooms.models import Room

    closes_in = 1.5
    await database_sync_to_async(Room.objects.filter(pk=world.joint.pk).update)(
        closes_at=timezone.now() + dt.timedelta(seconds=closes_in)
    )
    plaintiff, code = await media(world.plaintiff, world.joint)
    assert code is None
    await plaintiff.join_as_publisher()
    started = time.monotonic()
    assert await plaintiff.receive_close(timeout=5 + closes_in) == 4408
    await gone_within(5 + closes_in - (time.monotonic() - started), world.joint, world.plaintiff.pk)
