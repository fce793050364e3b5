"""Several Janus servers, as `make run-cluster` starts them (rooms.server.media): each
room's media placed on one, recorded; a stopped server skipped for new rooms, its
rooms placed again on a live one; no server answering costs a bounded wait."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from mediation.models import AuditEntry
from rooms.media import janus as janus_api
from rooms.media.servers import MediaUnavailable, media_room_for
from rooms.models import MediaRoom
from rooms.server.cluster import Cluster, end_processes, free_port
from rooms.server.media import MediaServers, janus_installed, listens, turnserver_installed
from tests.cases import make_civil_case
from tests.conftest import require_service


@pytest.fixture
def two_servers(settings, tmp_path):
    require_service("Janus", janus_installed(), "janus is not installed (apt-get install janus)")
    settings.JANUS_RECORDINGS_DIR = str(tmp_path / "recordings")
    urls = [f"ws://127.0.0.1:{free_port()}" for _ in range(2)]
    with MediaServers(tmp_path / "media", urls) as servers:
        assert servers.started == urls, servers.problems
        settings.JANUS_SERVERS = urls
        yield servers


@pytest.fixture
def rooms(db):
    world = make_civil_case()
    return [world.joint, world.plaintiff_caucus, world.defendant_caucus]


def exists_on(url: str, media: MediaRoom) -> bool:
    return janus_api.videoroom_request(url, {"request": "exists", "room": media.janus_room})["exists"]


def test_rooms_are_spread_over_both_servers_and_recorded(two_servers, rooms):
    first, second = two_servers.urls
    placed = [media_room_for(room) for room in rooms]

    assert [media.server for media in placed] == [first, second, first]
    for media in placed:
        assert MediaRoom.objects.get(room=media.room).server == media.server
        other = second if media.server == first else first
        assert exists_on(media.server, media)
        assert not exists_on(other, media)
    audit = AuditEntry.objects.filter(action="media.placed").order_by("pk")
    assert [entry.data["server"] for entry in audit] == [first, second, first]


def test_a_stopped_server_is_skipped_for_new_rooms_and_its_rooms_move(two_servers, rooms):
    first, second = two_servers.urls
    joint, plaintiff_caucus, defendant_caucus = rooms
    on_first = media_room_for(joint)
    assert on_first.server == first

    end_processes(two_servers.janus[first])
    # Both servers would be as loaded: the stopped first would be chosen, were it live.
    assert media_room_for(plaintiff_caucus).server == second
    assert media_room_for(defendant_caucus).server == second

    moved = media_room_for(joint)
    assert moved.server == second
    assert moved.janus_room != on_first.janus_room
    assert exists_on(second, moved)
    entry = AuditEntry.objects.filter(action="media.placed", data__previous=first).get()
    assert entry.data["server"] == second
    assert two_servers.ended() == [
        f"Janus {first} stopped (exit 0): video is unavailable in its rooms until it runs again "
        f"(log: {two_servers.root / 'janus-1' / 'janus.log'})"
    ]


@pytest.fixture
def hung_servers():
    """Servers that take TCP connections and never say a word (a hung Janus)."""
    listeners = []
    for _ in range(2):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listeners.append(listener)
    yield [f"ws://127.0.0.1:{listener.getsockname()[1]}" for listener in listeners]
    for listener in listeners:
        listener.close()


def timed_refusal(room) -> float:
    started = time.monotonic()
    with pytest.raises(MediaUnavailable):
        media_room_for(room)
    return time.monotonic() - started


def test_no_stopped_server_keeps_the_room_waiting(settings, rooms):
    settings.JANUS_SERVERS = [f"ws://127.0.0.1:{free_port()}" for _ in range(3)]
    assert timed_refusal(rooms[0]) < 0.5
    assert not MediaRoom.objects.exists()


def test_hung_servers_cost_one_timeout_not_one_each(settings, rooms, hung_servers):
    settings.JANUS_TIMEOUT_SECONDS = 0.5
    settings.JANUS_SERVERS = hung_servers
    # Asked all at once: about one timeout, well under one per server.
    elapsed = timed_refusal(rooms[0])
    assert 0.4 < elapsed < settings.JANUS_TIMEOUT_SECONDS * len(hung_servers)
    assert not MediaRoom.objects.exists()


def test_a_room_on_a_hung_server_is_refused_within_a_timeout_per_server(two_servers, settings, rooms, hung_servers):
    media = media_room_for(rooms[0])
    settings.JANUS_TIMEOUT_SECONDS = 0.5
    # Its server hangs, and so does the only other one.
    MediaRoom.objects.filter(pk=media.pk).update(server=hung_servers[0])
    settings.JANUS_SERVERS = hung_servers

    elapsed = timed_refusal(rooms[0])

    assert elapsed < settings.JANUS_TIMEOUT_SECONDS * len(hung_servers) + 0.5
    assert MediaRoom.objects.get(pk=media.pk).server == hung_servers[0]


def test_a_server_with_other_files_says_unavailable_and_is_logged(two_servers, settings, rooms, caplog):
    # Janus answers `info` to anyone, but nothing else without its API secret.
    settings.JANUS_API_SECRET = "not-the-secret-its-files-have"
    with pytest.raises(MediaUnavailable):
        media_room_for(rooms[0])
    assert f"Janus {two_servers.urls[0]} refuses the platform's requests (403: Unauthorized" in caplog.text


def test_the_cluster_gives_its_daphne_processes_its_janus_servers_and_coturn(settings, tmp_path):
    require_service("Janus", janus_installed(), "janus is not installed (apt-get install janus)")
    require_service("coturn", turnserver_installed(), "turnserver is not installed (apt-get install coturn)")
    settings.JANUS_RECORDINGS_DIR = str(tmp_path / "recordings")
    cluster = Cluster(workers=1, janus=2, turn=True, workdir=tmp_path)
    urls = cluster.env["JANUS_SERVERS"].split(",")
    turn_port = int(cluster.env["TURN_PORT"])
    assert cluster.env["TURN_URLS"] == f"turn:127.0.0.1:{turn_port}?transport=udp"
    try:
        cluster.start_media()
        assert cluster.media.started == urls
        for url in urls:
            assert janus_api.server_info(url)["janus"] == "server_info"
        assert listens("127.0.0.1", turn_port)
    finally:
        cluster.stop()
    assert not any(listens("127.0.0.1", urlsplit(url).port) for url in [*urls, f"ws://127.0.0.1:{turn_port}"])
