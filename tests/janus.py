"""A real Janus server for the tests that need one (Debian's janus, its VideoRoom
plugin): started once per test session with the files `media_config` writes, on a
free port of loopback. In CI a missing janus is a failure, elsewhere a skip."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from rooms.media.config import write_media_config
from rooms.server.cluster import end_processes, free_port


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"janus ended at start-up: {log.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"janus did not listen on {port}: {log.read_text()[-2000:]}")


class JanusProcess:
    """A running Janus: its URL, folder and recordings folder."""

    def __init__(self, root: Path, recordings: Path):
        self.root = root
        self.recordings = recordings
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        (server,) = write_media_config(self.root, [self.url])
        self.log = self.root / "janus.log"
        self.process = subprocess.Popen(
            server.command(), stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None:
            end_processes(self.process)
            self.process = None

    @property
    def pid(self) -> int:
        return self.process.pid


def janus_available() -> bool:
    return shutil.which("janus") is not None


@pytest.fixture(scope="session")
def _janus_process(tmp_path_factory):
    from tests.conftest import require_service

    require_service("Janus", janus_available(), "janus is not installed (apt-get install janus)")
    root = tmp_path_factory.mktemp("janus")
    recordings = root / "recordings"
    recordings.mkdir()
    from django.conf import settings

    # The files are written with the recordings folder the tests use.
    previous = settings.JANUS_RECORDINGS_DIR
    settings.JANUS_RECORDINGS_DIR = str(recordings)
    process = JanusProcess(root, recordings)
    try:
        process.start()
    finally:
        settings.JANUS_RECORDINGS_DIR = previous
    yield process
    process.stop()


@pytest.fixture
def janus(_janus_process, settings):
    """A running Janus server, the platform's only one for this test."""
    if _janus_process.process is None or _janus_process.process.poll() is not None:
        _janus_process.start()
    settings.JANUS_SERVERS = [_janus_process.url]
    settings.JANUS_RECORDINGS_DIR = str(_janus_process.recordings)
    return _janus_process
