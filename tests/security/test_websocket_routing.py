"""Who may open a WebSocket, and on which paths: the origin is compared whole (scheme,
host and port), and a path the platform does not serve is refused cleanly."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from rooms.protocol import CLOSE_NO_SUCH_ROOM
from tests.servers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_SECONDS = 5


async def handshake(room_id: int, cookie: str, headers: list[tuple[bytes, bytes]]) -> tuple[bool, dict | None]:
    """Through the application daphne serves: whether the handshake was accepted, and
    the first frame if it was."""
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room_id}/", headers=[(b"cookie", cookie.encode()), *headers]
    )
    connected, _code = await communicator.connect(timeout=5)
    try:
        if not connected:
            assert await communicator.receive_nothing(timeout=0.2)
            return False, None
        return True, await communicator.receive_json_from(timeout=5)
    finally:
        await communicator.disconnect()


@pytest.fixture
async def plaintiff_cookie(world):
    return await database_sync_to_async(session_cookie)(world.plaintiff)


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        (b"testserver", b"https://testserver"),
        (b"testserver", b"http://testserver:8080"),
        (b"testserver", b"ws://testserver"),
        (b"127.0.0.1:8001", b"http://127.0.0.1:8002"),
        (b"127.0.0.1:8001", b"http://127.0.0.1"),
        (b"127.0.0.1:8001", b"https://127.0.0.1:8001"),
        (b"127.0.0.1:8001", b"http://127.0.0.1:8001/path"),
        (b"127.0.0.1:8001", b"http://127.0.0.1:port"),
        # A host the platform does not serve, asked for by its own page.
        (b"evil.example", b"http://evil.example"),
    ],
    ids=[
        "wrong-scheme",
        "wrong-port",
        "ws-scheme",
        "other-port",
        "port-missing",
        "https-on-http",
        "with-path",
        "bad-port",
        "foreign-host",
    ],
)
async def test_an_origin_with_the_right_host_but_another_scheme_or_port_is_refused(
    world, plaintiff_cookie, host, origin
):
    accepted, _hello = await handshake(world.joint.pk, plaintiff_cookie, [(b"host", host), (b"origin", origin)])

    assert not accepted


@pytest.mark.parametrize("host", [b"testserver", b"127.0.0.1:8001", b"localhost:8000"])
async def test_the_pages_own_origin_with_its_port_is_accepted(world, plaintiff_cookie, host):
    origin = b"http://" + host

    accepted, hello = await handshake(world.joint.pk, plaintiff_cookie, [(b"host", host), (b"origin", origin)])

    assert accepted and hello["type"] == "hello" and hello["me"]["id"] == world.plaintiff.pk


async def test_behind_the_tls_proxy_only_the_https_origin_is_accepted(world, plaintiff_cookie, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["mediation.court.example"]
    proxied = [(b"host", b"mediation.court.example"), (b"x-forwarded-proto", b"https")]

    secure, _ = await handshake(
        world.joint.pk, plaintiff_cookie, [*proxied, (b"origin", b"https://mediation.court.example")]
    )
    plain, _ = await handshake(
        world.joint.pk, plaintiff_cookie, [*proxied, (b"origin", b"http://mediation.court.example")]
    )

    assert (secure, plain) == (True, False)


async def test_the_site_url_and_trusted_origins_are_accepted_and_nothing_beside_them(world, plaintiff_cookie, settings):
    settings.ALLOWED_HOSTS = ["mediation.court.example", ".court.example"]
    settings.SITE_URL = "https://mediation.court.example"
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.court.example"]
    # A proxy that forwards neither the port nor the scheme.
    host = [(b"host", b"mediation.court.example")]

    async def accepted(origin: bytes) -> bool:
        return (await handshake(world.joint.pk, plaintiff_cookie, [*host, (b"origin", origin)]))[0]

    assert await accepted(b"https://mediation.court.example")
    assert await accepted(b"https://desk.court.example")
    assert not await accepted(b"https://mediation.court.example:8443")
    assert not await accepted(b"http://desk.court.example")
    assert not await accepted(b"https://court.example.evil.example")


# Paths nobody serves, under a real daphne ---------------------------------------------------


UNKNOWN_PATHS = [
    "/ws/nope/",
    "/ws/rooms/",
    "/ws/rooms/abc/",
    "/ws/rooms/1/extra/",
    "/ws/rooms/-1/",
    "/ws/notifications/x/",
    "/",
    "/accounts/login/",
]


@pytest.mark.slow
async def test_a_websocket_on_an_unknown_path_is_refused_without_an_error(world, cookies, daphne_server):
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async def status_of(path: str) -> int:
        try:
            connection = await connect(
                f"ws://127.0.0.1:{daphne_server.port}{path}",
                origin=daphne_server.url,
                additional_headers={"Cookie": cookies["plaintiff"]},
                open_timeout=FRAME_SECONDS,
            )
        except InvalidStatus as refused:
            return refused.response.status_code
        await connection.close()
        return 101

    statuses = {path: await status_of(path) for path in UNKNOWN_PATHS}

    assert statuses == dict.fromkeys(UNKNOWN_PATHS, 403)
    # A room id no database column holds is no such room, not a server error.
    async with connect(
        f"ws://127.0.0.1:{daphne_server.port}/ws/rooms/{10**30}/",
        origin=daphne_server.url,
        additional_headers={"Cookie": cookies["plaintiff"]},
        open_timeout=FRAME_SECONDS,
    ) as connection:
        from websockets.exceptions import ConnectionClosed

        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), FRAME_SECONDS)
        assert closed.value.rcvd.code == CLOSE_NO_SUCH_ROOM
    # The server carries on, and logged nothing of it as an error.
    async with connect(
        f"ws://127.0.0.1:{daphne_server.port}/ws/rooms/{world.joint.pk}/",
        origin=daphne_server.url,
        additional_headers={"Cookie": cookies["plaintiff"]},
        open_timeout=FRAME_SECONDS,
    ) as connection:
        hello = json.loads(await asyncio.wait_for(connection.recv(), FRAME_SECONDS))
        assert hello["type"] == "hello"
    await asyncio.sleep(0.5)
    assert daphne_server.alive()
    log = daphne_server.output()
    assert "Traceback" not in log and " ERROR " not in log, log
