"""coturn from the generated turnserver.conf: a relay allocated with the platform's
time-limited credential (rooms.media.credentials.ice_servers), and refused with an
expired or forged one."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import pytest

from rooms.media.credentials import ice_servers
from rooms.server.cluster import free_port
from rooms.server.media import MediaServers, turnserver_installed
from tests.conftest import require_service

ANSWER_SECONDS = 10


@pytest.fixture
def coturn(settings, tmp_path):
    require_service("coturn", turnserver_installed(), "turnserver is not installed (apt-get install coturn)")
    try:
        import aioice  # noqa: F401
    except ImportError:
        require_service("aioice", False, "pip install -r requirements-test.lock")
    settings.JANUS_RECORDINGS_DIR = str(tmp_path / "recordings")
    port = free_port()
    settings.TURN_URLS = [f"turn:127.0.0.1:{port}?transport=udp"]
    with MediaServers(tmp_path / "media", [], turn_port=port) as servers:
        assert servers.turn is not None, servers.problems
        yield port


def allocate(port: int, username: str, password: str) -> tuple[str, int]:
    """A TURN allocation on coturn; the relayed address it gives."""
    from aioice.turn import create_turn_endpoint

    async def run():
        transport, _protocol = await asyncio.wait_for(
            create_turn_endpoint(asyncio.DatagramProtocol, ("127.0.0.1", port), username, password),
            ANSWER_SECONDS,
        )
        relayed = transport.get_extra_info("sockname")
        transport.close()
        return relayed

    return asyncio.run(run())


def refused_code(port: int, username: str, password: str) -> int:
    from aioice.stun import TransactionFailed

    with pytest.raises(TransactionFailed) as refusal:
        allocate(port, username, password)
    return refusal.value.response.attributes["ERROR-CODE"][0]


def test_the_platforms_credential_allocates_a_relay(coturn, settings):
    (server,) = ice_servers(user_id=7)
    assert server["urls"] == settings.TURN_URLS

    host, relayed_port = allocate(coturn, server["username"], server["credential"])

    assert host and relayed_port > 0


def test_an_expired_credential_is_refused(coturn, settings):
    settings.TURN_CREDENTIAL_SECONDS = -60
    (server,) = ice_servers(user_id=7)

    assert refused_code(coturn, server["username"], server["credential"]) == 401


def test_a_forged_credential_is_refused(coturn):
    (server,) = ice_servers(user_id=7)
    expiry, _user = server["username"].split(":")
    # Another user's name with the first one's password ...
    assert refused_code(coturn, f"{expiry}:8", server["credential"]) == 401
    # ... or a password signed with another secret.
    forged = base64.b64encode(hmac.new(b"guessed", server["username"].encode(), hashlib.sha1).digest()).decode()
    assert refused_code(coturn, server["username"], forged) == 401


def bind_to(port: int, username: str, password: str, peer: tuple[str, int]) -> int | None:
    """A TURN allocation, then a channel to `peer` through it: None if coturn lets it
    through, the error code if it refuses."""
    from aioice.stun import TransactionFailed
    from aioice.turn import TurnClientUdpProtocol

    async def run():
        server = ("127.0.0.1", port)
        transport, client = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: TurnClientUdpProtocol(
                server, username=username, password=password, lifetime=600, channel_refresh_time=500
            ),
            remote_addr=server,
        )
        try:
            await asyncio.wait_for(client.connect(), ANSWER_SECONDS)
            await asyncio.wait_for(client.channel_bind(0x4000, peer), ANSWER_SECONDS)
        except TransactionFailed as refusal:
            return refusal.response.attributes["ERROR-CODE"][0]
        finally:
            transport.close()
        return None

    return asyncio.run(run())


def test_the_relay_reaches_no_internal_network_but_the_janus_servers(settings, tmp_path):
    """Whoever holds a TURN credential could otherwise send UDP into the court's
    networks: coturn relays to no private address but the Janus servers'."""
    settings.JANUS_SERVERS = ["ws://10.20.30.40:8188"]
    settings.JANUS_RECORDINGS_DIR = str(tmp_path / "recordings")
    require_service("coturn", turnserver_installed(), "turnserver is not installed (apt-get install coturn)")
    port = free_port()
    settings.TURN_URLS = [f"turn:127.0.0.1:{port}?transport=udp"]
    with MediaServers(tmp_path / "media", [], turn_port=port) as servers:
        assert servers.turn is not None, servers.problems
        (server,) = ice_servers(user_id=7)
        credentials = (server["username"], server["credential"])
        for internal in ("10.1.2.3", "172.16.0.9", "192.168.1.1", "100.64.0.1"):
            assert bind_to(port, *credentials, (internal, 20000)) == 403, internal
        assert bind_to(port, *credentials, ("10.20.30.40", 20000)) is None
