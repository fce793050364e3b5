"""Who is in a room's video reaches that room's text sockets, and no other room's."""

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


async def media_frame(client, **match) -> dict:
    while True:
        frame = await client.receive(timeout=5)
        if frame["type"] == "media" and all(frame.get(key) == value for key, value in match.items()):
            return frame


async def no_media_frame(client, timeout=0.5):
    while not await client.communicator.receive_nothing(timeout=timeout):
        frame = await client.receive()
        assert frame["type"] != "media", frame


async def test_the_caucus_sees_who_is_in_its_video_and_the_other_side_learns_nothing(janus, world, media, text):
    mediator_text = await text(world.mediator, world.plaintiff_caucus)
    defendant_text = await text(world.defendant, world.joint)
    defendant_caucus_text = await text(world.defendant, world.defendant_caucus)

    plaintiff, _ = await media(world.plaintiff, world.plaintiff_caucus)
    handle, _joined = await plaintiff.join_as_publisher()
    frame = await media_frame(mediator_text)
    assert frame["people"] == [
        {"id": world.plaintiff.pk, "audio": False, "video": False, "screen": False, "muted_by_mediator": False}
    ]
    await plaintiff.publish(handle)
    frame = await media_frame(mediator_text)
    assert frame["people"][0]["audio"] and frame["people"][0]["video"]
    # The camera off: the others see it.
    await plaintiff.message(handle, {"request": "configure", "streams": [{"mid": "1", "send": False}]})
    frame = await media_frame(mediator_text)
    assert frame["people"][0]["audio"] and not frame["people"][0]["video"]

    await plaintiff.close()
    assert (await media_frame(mediator_text))["people"] == []
    await no_media_frame(defendant_text)
    await no_media_frame(defendant_caucus_text)


async def test_a_page_that_opens_reads_who_is_in_the_video(janus, world, media, client):
    plaintiff, _ = await media(world.plaintiff, world.joint)
    await plaintiff.join_as_publisher()
    await database_sync_to_async(client.force_login)(world.defendant)
    answer = await database_sync_to_async(client.get)(reverse("media_people", args=[world.joint.pk]))
    assert [person["id"] for person in answer.json()["people"]] == [world.plaintiff.pk]
    # The plaintiff's caucus is not the defendant's to read.
    answer = await database_sync_to_async(client.get)(reverse("media_people", args=[world.plaintiff_caucus.pk]))
    assert answer.status_code == 403
