"""What `media_config` writes, proved on the Janus started with its files (fixture
`janus`): only the VideoRoom plugin and the WebSocket transport, listening on its URL's
address only, every request needing the API secret and a room's creation the admin
key; several servers of one machine with RTP port ranges of their own."""

from __future__ import annotations

import itertools
import json
import secrets
import socket
import stat
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from websockets.sync.client import connect

from rooms.media import janus as janus_api
from rooms.media.config import janus_servers


def raw_request(url: str, message: dict) -> dict:
    """One request as a stranger on the network would send it: no secret added."""
    with connect(url, subprotocols=[janus_api.PROTOCOL], open_timeout=2) as websocket:
        websocket.send(json.dumps({"transaction": "t1", **message}))
        while True:
            answer = json.loads(websocket.recv(timeout=2))
            if answer.get("janus") != "ack":
                return answer


def test_only_the_videoroom_and_the_websocket_transport_run(janus):
    info = janus_api.server_info(janus.url)

    assert set(info["plugins"]) == {"janus.plugin.videoroom"}
    assert set(info["transports"]) == {"janus.transport.websockets"}
    assert info["api_secret"] is True
    assert not info.get("events")


def test_a_request_without_the_api_secret_is_refused(janus):
    answer = raw_request(janus.url, {"janus": "create"})
    assert answer["janus"] == "error"
    assert answer["error"]["code"] == 403

    wrong = raw_request(janus.url, {"janus": "create", "apisecret": "guessed"})
    assert wrong["error"]["code"] == 403

    right = raw_request(janus.url, {"janus": "create", "apisecret": janus_api.janus_api_secret()})
    assert right["janus"] == "success"


def test_creating_a_room_needs_the_admin_key(janus):
    room = secrets.randbelow(2**52) + 1
    with janus_api.videoroom_session(janus.url) as session:
        with pytest.raises(janus_api.JanusError) as refusal:
            session.videoroom({"request": "create", "room": room})
        assert (refusal.value.code, refusal.value.reason) == (429, "Missing mandatory element (admin_key)")
        with pytest.raises(janus_api.JanusError) as refusal:
            session.videoroom({"request": "create", "room": room, "admin_key": "guessed"})
        assert refusal.value.code == 433  # JANUS_VIDEOROOM_ERROR_UNAUTHORIZED
        assert not session.videoroom({"request": "exists", "room": room})["exists"]

        # The platform's key creates it.
        session.videoroom(janus_api.with_admin_key({"request": "create", "room": room}))
        assert session.videoroom({"request": "exists", "room": room})["exists"]
        session.videoroom({"request": "destroy", "room": room})


def test_janus_listens_on_its_urls_address_only(janus):
    port = urlsplit(janus.url).port
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) == 0
    # Another address of this machine (loopback is all of 127.0.0.0/8): nothing there.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.2", port)) != 0
    text = (janus.root / "janus-1" / "janus.transport.websockets.jcfg").read_text()
    assert 'ws_ip = "127.0.0.1"' in text
    assert "admin_ws = false" in text


def test_servers_of_one_machine_get_rtp_ports_of_their_own(settings, tmp_path):
    settings.JANUS_RTP_PORT_RANGE = "20000-40000"
    urls = ["ws://127.0.0.1:8188", "ws://127.0.0.1:8189", "ws://127.0.0.1:8190"]

    servers = janus_servers(tmp_path, urls)

    ranges = [tuple(int(port) for port in server.rtp_ports.split("-")) for server in servers]
    assert all(20000 <= first <= last <= 40000 for first, last in ranges)
    for (_first, last), (next_first, _next_last) in itertools.pairwise(ranges):
        assert last < next_first
    assert [server.port for server in servers] == [8188, 8189, 8190]
    assert len({server.folder for server in servers}) == 3


def test_media_config_writes_private_files_and_prints_the_commands(settings, tmp_path, capsys):
    settings.JANUS_SERVERS = ["ws://127.0.0.1:8188", "ws://127.0.0.1:8189"]
    settings.JANUS_RECORDINGS_DIR = str(tmp_path / "recordings")
    settings.JANUS_RTP_PORT_RANGE = "20000-20999"

    call_command("media_config", "--into", str(tmp_path / "media"), "--print-commands")

    commands = capsys.readouterr().out.splitlines()
    assert commands == [
        f"janus --configs-folder {tmp_path}/media/janus-{n} --config {tmp_path}/media/janus-{n}/janus.jcfg"
        for n in (1, 2)
    ]
    second = (tmp_path / "media" / "janus-2" / "janus.jcfg").read_text()
    assert 'rtp_port_range = "20500-20999"' in second
    for path in [*(tmp_path / "media").rglob("*.jcfg"), tmp_path / "media" / "turnserver.conf"]:
        # They hold the API secret, the admin key and coturn's secret.
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
