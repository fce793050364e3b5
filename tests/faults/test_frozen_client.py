"""Fault 4: a client's process is frozen (SIGSTOP: a laptop lid closed, a tab
suspended). Its TCP connection stays open, so only the server's WebSocket pings
(the platform's daphne flags: a ping after 15 s of silence, 20 s to answer) can tell;
the other members see it offline within 50 s."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import pytest

from tests.faults.conftest import stop_process
from tests.faults.support import ROOT, RoomClient, wait_until
from tests.servers import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OFFLINE_LIMIT = 50.0


def test_a_frozen_client_shows_offline_within_50_seconds(shared_services, start_cluster, world):
    room = world.joint
    frozen_user, observer_user = world.plaintiff, world.mediator
    frozen_cookie, observer_cookie = session_cookie(frozen_user), session_cookie(observer_user)
    cluster = start_cluster(1)
    url = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{room.pk}/"
    frozen = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.frozen_client", url, cluster.url, frozen_cookie],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    figures = {}

    async def scenario():
        observer = await RoomClient("observer", url, observer_cookie, observer_user.pk, origin=cluster.url).started()
        try:
            line = await asyncio.wait_for(asyncio.to_thread(frozen.stdout.readline), 30)
            assert line.strip() == "ready", line
            await wait_until(lambda: frozen_user.pk in observer.online_now(), 10, "the client online")
            frozen.send_signal(signal.SIGSTOP)
            stopped_at = time.monotonic()
            # The room goes on meanwhile: frames keep being sent to the frozen client.
            posted = 0

            def offline():
                return frozen_user.pk not in observer.online_now()

            while not offline() and time.monotonic() - stopped_at < OFFLINE_LIMIT + 10:
                if time.monotonic() - stopped_at > 2 * posted:
                    posted += 1
                    await observer.post(f"Still here after {posted * 2} s?")
                await asyncio.sleep(0.1)
            figures["offline_after"] = time.monotonic() - stopped_at
            figures["posted"] = posted
            figures["online"] = observer.online_now()
        finally:
            await observer.stop()

    try:
        asyncio.run(scenario())
    finally:
        stop_process(frozen)
    print(f"\nthe frozen client was shown offline {figures['offline_after']:.1f} s after SIGSTOP")
    assert frozen_user.pk not in figures["online"], "the frozen client was still shown online"
    assert figures["offline_after"] <= OFFLINE_LIMIT
