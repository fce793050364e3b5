"""Several daphne processes behind nginx on one machine, sharing PostgreSQL and Redis:
what `make run-cluster` serves, and what the scale-out and fault tests start and
break on purpose."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from string import Template

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# The same limits as `make run` (see the Makefile).
DAPHNE_FLAGS = [
    "--websocket-max-message-size",
    "65536",
    "--websocket-max-frame-size",
    "65536",
    "--ping-interval",
    "15",
    "--ping-timeout",
    "20",
    "--proxy-headers",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def end_processes(*processes: subprocess.Popen, stop_signal: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Ask child processes to stop, all at once, and kill any that has not within
    `timeout`."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(stop_signal)
    for process in running:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise FileNotFoundError("nginx is not installed: apt-get install nginx-light")
    return found


class Cluster:
    # A graceful shutdown: nginx lets open WebSockets finish.
    nginx_stop_signal = signal.SIGQUIT

    def __init__(
        self,
        *,
        workers: int = 3,
        port: int | None = None,
        env: dict | None = None,
        workdir: Path | None = None,
        janus: int = 0,
        turn: bool = False,
    ):
        self.port = port or free_port()
        self.worker_ports = [free_port() for _ in range(workers)]
        self.env = {**os.environ, **(env or {}), "TRUSTED_PROXY": "true"}
        self.workdir = Path(workdir or BASE_DIR / "var" / "cluster")
        self.workers: dict[int, subprocess.Popen] = {}
        self.nginx: subprocess.Popen | None = None
        # `janus` Janus servers on loopback ports and coturn if `turn`, for every daphne
        # process (JANUS_SERVERS, TURN_URLS): rooms.server.media.
        self.media = None
        if janus or turn:
            from rooms.server.media import MediaServers

            urls = [f"ws://127.0.0.1:{free_port()}" for _ in range(janus)]
            self.media = MediaServers(self.workdir / "media", urls, turn_port=free_port() if turn else None)
            self.env["JANUS_SERVERS"] = ",".join(urls)
            if turn:
                self.env["TURN_PORT"] = str(self.media.turn_port)
                self.env["TURN_URLS"] = f"turn:127.0.0.1:{self.media.turn_port}?transport=udp"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _render_nginx(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # max_fails=0: a refused connection still moves on to the next process
        # (proxy_next_upstream), but no process is marked down. nginx marks one live
        # again only when a request to it ends, and a WebSocket lasts for hours: after
        # a restart, a marked process would take one new socket per fail_timeout.
        upstreams = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in self.worker_ports)
        text = Template((BASE_DIR / "config" / "nginx" / "cluster.conf").read_text()).substitute(
            workdir=self.workdir, upstreams=upstreams, listen=f"127.0.0.1:{self.port}"
        )
        path = self.workdir / "nginx.conf"
        path.write_text(text)
        return path

    def start_worker(self, index: int) -> subprocess.Popen:
        port = self.worker_ports[index]
        log = open(self.workdir / f"daphne-{index}.log", "ab")  # noqa: SIM115 (kept open for the process)
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("daphne")),
                *DAPHNE_FLAGS,
                # A backlog of 1,024: Twisted's 50 drops connection attempts when every
                # client reconnects at once after a restart (docs/performance.md).
                "-e",
                f"tcp:{port}:interface=127.0.0.1:backlog=1024",
                "config.asgi:application",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers[index] = process
        wait_for_port(port)
        return process

    def kill_worker(self, index: int, sig: int = signal.SIGKILL) -> None:
        process = self.workers.pop(index)
        process.send_signal(sig)
        process.wait(timeout=30)

    def start_media(self) -> None:
        if self.media is not None:
            self.media.start()

    def start(self) -> Cluster:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_media()
        for index in range(len(self.worker_ports)):
            self.start_worker(index)
        config = self._render_nginx()
        self.nginx = subprocess.Popen(
            [nginx_binary(), "-c", str(config), "-p", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "nginx-stderr.log", "ab"),  # noqa: SIM115
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.nginx is not None:
            end_processes(self.nginx, stop_signal=self.nginx_stop_signal)
            self.nginx = None
        end_processes(*self.workers.values())
        self.workers.clear()
        if self.media is not None:
            self.media.stop()

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
