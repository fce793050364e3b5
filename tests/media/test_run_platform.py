"""`make run`'s server (manage.py run_platform): Janus beside daphne, both stopped by
one Ctrl-C (or a service manager's SIGTERM); without Janus the platform serves all the same."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rooms.media import janus as janus_api
from rooms.server.cluster import free_port
from rooms.server.media import MediaServers, janus_installed, listens
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 30


def run_platform(tmp_path: Path, janus_port: int, **env: str) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = tmp_path / "run_platform.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_platform",
            "--into",
            str(tmp_path / "media"),
            "--",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "JANUS_SERVERS": f"ws://127.0.0.1:{janus_port}",
            "JANUS_RECORDINGS_DIR": str(tmp_path / "recordings"),
            "PYTHONUNBUFFERED": "1",
            **env,
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        # Its own process group, as a terminal gives it: Ctrl-C goes to the whole group.
        start_new_session=True,
    )
    deadline = time.monotonic() + SECONDS
    while not listens("127.0.0.1", port):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return process, port, log


def ctrl_c(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=SECONDS)


def service_manager_stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=SECONDS)


@pytest.mark.parametrize("stop", [ctrl_c, service_manager_stop])
def test_janus_runs_beside_daphne_and_stopping_stops_both(tmp_path, settings, stop):
    require_service("Janus", janus_installed(), "janus is not installed (apt-get install janus)")
    janus_port = free_port()
    process, port, log = run_platform(tmp_path, janus_port)
    try:
        # The platform's own requests reach it with the platform's secret.
        settings.JANUS_SERVERS = [f"ws://127.0.0.1:{janus_port}"]
        assert janus_api.server_info(f"ws://127.0.0.1:{janus_port}")["janus"] == "server_info"
        assert janus_api.videoroom_request(f"ws://127.0.0.1:{janus_port}", {"request": "list"})["list"] == []
        assert (tmp_path / "media" / "janus-1" / "janus.log").read_text()
    finally:
        stop(process)
    assert process.returncode == 0, log.read_text()
    assert not listens("127.0.0.1", janus_port)
    assert not listens("127.0.0.1", port)


def test_without_janus_installed_the_platform_serves_and_says_so(tmp_path):
    janus_port = free_port()
    # A PATH where no janus is found (daphne is found beside the venv's python).
    process, port, log = run_platform(tmp_path, janus_port, PATH=str(tmp_path))
    assert listens("127.0.0.1", port)
    ctrl_c(process)
    assert process.returncode == 0
    assert "janus is not installed (apt-get install janus): serving without video" in log.read_text()
    assert not listens("127.0.0.1", janus_port)


def test_a_port_taken_by_something_else_is_told_and_left_alone(tmp_path, settings):
    require_service("Janus", janus_installed(), "janus is not installed (apt-get install janus)")
    settings.JANUS_RECORDINGS_DIR = str(tmp_path / "recordings")
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(4)
        url = f"ws://127.0.0.1:{other.getsockname()[1]}"
        settings.JANUS_TIMEOUT_SECONDS = 0.3
        with MediaServers(tmp_path / "media", [url]) as servers:
            assert servers.started == []
            assert servers.janus == {}
            assert "is taken by something that is not the platform's Janus" in servers.problems[0]


def test_only_this_machines_servers_are_started(tmp_path, settings):
    settings.JANUS_RECORDINGS_DIR = str(tmp_path / "recordings")
    # 192.0.2.0/24 is for documentation: never an address of this machine.
    with MediaServers(tmp_path / "media", ["ws://192.0.2.10:8188"]) as servers:
        assert servers.janus == {}
        assert servers.started == []
        assert servers.elsewhere == ["ws://192.0.2.10:8188"]
        # Its files are written all the same, to be copied to the machine it runs on.
        assert (tmp_path / "media" / "janus-1" / "janus.jcfg").exists()
