"""Running the media servers beside daphne: Janus (one process per server of this
machine) and coturn, from the files `media_config` writes (rooms.media.config).

`make run` (the run_platform command) and `make run-cluster` (the run_cluster command)
start them as child processes with their logs in the folder of their files, wait for
each to listen (bounded), and stop them when the platform stops. A Janus that is not
installed, fails to start or stops later only costs video: the platform serves text
as ever and the rooms say video is unavailable (rooms.media.servers).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

from rooms.media import janus
from rooms.media.config import JanusServer, write_media_config
from rooms.server.cluster import end_processes

# How long a server may take to listen after it started (Janus loads its plugins and
# gathers its addresses first: under a second here, a few on a loaded machine).
START_SECONDS = 15.0


class MediaServerFailed(Exception):
    """A media server could not be started: what to tell the person who runs it."""


def janus_installed() -> bool:
    return shutil.which("janus") is not None


def turnserver_installed() -> bool:
    return shutil.which("turnserver") is not None


def is_local_address(host: str) -> bool:
    """Whether `host` is an address of this machine (one a server here can bind)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, 0))
    except OSError:
        return False
    return True


def local_urls(urls: list[str]) -> list[str]:
    """The servers of `urls` that run on this machine (the others are started where
    they live: docs/media.md, Beyond one machine)."""
    return [url for url in urls if is_local_address(urlsplit(url).hostname or "127.0.0.1")]


def listens(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def wait_until_listening(
    host: str, port: int, process: subprocess.Popen, log: Path, seconds: float = START_SECONDS
) -> None:
    """Wait until the process listens on host:port; MediaServerFailed (with the end of
    its log) if it ends or has not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MediaServerFailed(f"it ended at start-up (exit {process.returncode}): {_tail(log)}")
        if listens(host, port):
            return
        time.sleep(0.05)
    raise MediaServerFailed(f"it did not listen on {host}:{port} within {seconds:.0f} s: {_tail(log)}")


def _tail(log: Path, limit: int = 1500) -> str:
    with suppress(OSError):
        return log.read_text(errors="replace")[-limit:]
    return ""


class MediaServers:
    """The Janus servers of `urls` that run on this machine, and coturn if `turn_port`
    is given, started from generated files under `root`; a context manager that
    stops them all.

    `started` are the URLs of the Janus servers running, `problems` what went wrong
    (a missing package, a taken port, a server that would not start): the platform
    serves without them."""

    def __init__(self, root: Path, urls: list[str], *, turn_port: int | None = None):
        self.root = Path(root)
        self.urls = list(urls)
        self.turn_port = turn_port
        self.janus: dict[str, subprocess.Popen] = {}
        self.turn: subprocess.Popen | None = None
        self.started: list[str] = []
        # Servers of `urls` on other machines: started there, not here.
        self.elsewhere: list[str] = []
        self.problems: list[str] = []
        self.reported_ends: set[str] = set()
        self.logs: dict[str, Path] = {}

    def start(self) -> MediaServers:
        servers = write_media_config(self.root, self.urls, turn_port=self.turn_port)
        local = set(local_urls(self.urls))
        self.elsewhere = [url for url in self.urls if url not in local]
        if not janus_installed():
            self.problems.append("janus is not installed (apt-get install janus): serving without video")
        else:
            for server in servers:
                if server.url in local:
                    self._start_janus(server)
        if self.turn_port is not None:
            self._start_turn()
        return self

    def _start_janus(self, server: JanusServer) -> None:
        if listens(server.host, server.port):
            # Already running (started by hand or by systemd from these files)?
            try:
                janus.server_info(server.url)
            except (janus.JanusError, janus.JanusUnavailable):
                self.problems.append(
                    f"{server.host}:{server.port} is taken by something that is not the platform's Janus "
                    "(Debian's own janus service? `systemctl disable --now janus`): no video on "
                    f"{server.url}"
                )
            else:
                self.started.append(server.url)
            return
        log = server.folder / "janus.log"
        self.logs[server.url] = log
        process = subprocess.Popen(
            server.command(),
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own session: a Ctrl-C in the terminal reaches daphne, and the media
            # servers are stopped after it.
            start_new_session=True,
        )
        self.janus[server.url] = process
        try:
            wait_until_listening(server.host, server.port, process, log)
        except MediaServerFailed as error:
            end_processes(process, timeout=5)
            del self.janus[server.url]
            self.problems.append(f"Janus {server.url} did not start: {error}")
            return
        self.started.append(server.url)

    def _start_turn(self) -> None:
        if not turnserver_installed():
            self.problems.append("turnserver is not installed (apt-get install coturn): no TURN relay")
            return
        log = self.root / "turnserver.log"
        process = subprocess.Popen(
            ["turnserver", "-c", str(self.root / "turnserver.conf"), "--log-file", "stdout"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.turn = process
        try:
            wait_until_listening("127.0.0.1", self.turn_port, process, log)
        except MediaServerFailed as error:
            end_processes(process, timeout=5)
            self.turn = None
            self.problems.append(f"coturn did not start: {error}")

    def ended(self) -> list[str]:
        """What stopped since it started and was not told yet (checked while serving)."""
        news = []
        for url, process in self.janus.items():
            if process.poll() is not None and url not in self.reported_ends:
                self.reported_ends.add(url)
                news.append(
                    f"Janus {url} stopped (exit {process.returncode}): video is unavailable in its rooms "
                    f"until it runs again (log: {self.logs[url]})"
                )
        return news

    def stop(self) -> None:
        processes = [*self.janus.values(), *([self.turn] if self.turn else [])]
        end_processes(*processes, timeout=10)
        self.janus.clear()
        self.turn = None

    def __enter__(self) -> MediaServers:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
