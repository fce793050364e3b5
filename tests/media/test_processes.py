"""The media socket under a real daphne process, cut by a removal committed in
another process (this one): the hub's Redis broker carries the revoke, and the
person's Janus session is gone within 5 seconds."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from mediation.services.cases import remove_participant
from rooms.media import credentials
from rooms.media.servers import media_room_for
from tests.media.test_cutting import gone_within, listed_users
from tests.servers import DaphneProcess, database_url_for_servers, session_cookie

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(redis_url, janus, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a server process needs a database it shares with the test (DATABASE_URL=postgres://...)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_servers(),
        "REDIS_URL": redis_url,
        "JANUS_SERVERS": janus.url,
        "PYTHONUNBUFFERED": "1",
    }
    process = DaphneProcess(env, tmp_path / "daphne.log")
    try:
        process.wait_ready(40)
        yield process
    finally:
        process.stop()


async def test_a_removal_in_another_process_cuts_the_media_within_5_seconds(server, world):
    from websockets.asyncio.client import connect

    await database_sync_to_async(media_room_for)(world.joint)
    cookie = await database_sync_to_async(session_cookie)(world.defendant)
    credential = credentials.issue(world.defendant.pk, world.joint.pk)
    async with connect(
        f"ws://127.0.0.1:{server.port}/ws/media/{world.joint.pk}/?credential={credential}",
        origin=f"http://127.0.0.1:{server.port}",
        additional_headers={"Cookie": cookie},
        subprotocols=["janus-protocol"],
        open_timeout=10,
    ) as socket:

        async def request(frame: dict) -> dict:
            await socket.send(json.dumps(frame))
            while True:
                answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if answer.get("transaction") == frame["transaction"] and answer["janus"] != "ack":
                    return answer

        session = (await request({"janus": "create", "transaction": "c"}))["data"]["id"]
        handle = (
            await request(
                {"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": "a", "session_id": session}
            )
        )["data"]["id"]
        joined = await request(
            {
                "janus": "message",
                "transaction": "j",
                "session_id": session,
                "handle_id": handle,
                "body": {"request": "join", "ptype": "publisher"},
            }
        )
        assert joined["plugindata"]["data"]["videoroom"] == "joined"
        assert world.defendant.pk in await listed_users(world.joint)

        started = time.monotonic()
        await database_sync_to_async(remove_participant)(
            participant=world.defendant_participant, actor=world.mediator, reason="Withdrew"
        )
        await gone_within(5, world.joint, world.defendant.pk)
        with pytest.raises(Exception) as closed:
            while True:
                await asyncio.wait_for(socket.recv(), 5 - (time.monotonic() - started))
        assert getattr(closed.value, "rcvd", None) is not None and closed.value.rcvd.code == 4403
