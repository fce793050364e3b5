"""Fixtures of the fault tests: a case, clusters of daphne processes behind nginx on
the test database, and private Redis and PostgreSQL servers that a test may break
(the machine's shared servers are never stopped)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from rooms.server.cluster import end_processes, free_port, wait_for_port
from tests.cases import make_civil_case
from tests.conftest import require_service
from tests.faults.support import FaultCluster
from tests.servers import database_url_for_servers

# Debian's server binaries of the newest PostgreSQL installed (the machine's own
# cluster is whichever version /etc/postgresql holds).
POSTGRES_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)
SERVER_SETTINGS = "tests.faults.server_settings"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def world(transactional_db):
    return make_civil_case()


def _require_nginx() -> None:
    available = bool(shutil.which("nginx") or Path("/usr/sbin/nginx").exists())
    require_service("nginx", available, "apt-get install nginx-light")


@pytest.fixture
def start_cluster(request, tmp_path):
    """Start daphne processes (the platform's flags) behind nginx, by default on the
    test database and the Redis of REDIS_URL; `env` overrides. Stopped after the
    test; their logs are printed if it failed."""
    _require_nginx()
    clusters = []

    def start(workers: int, **env: str) -> FaultCluster:
        if "DATABASE_URL" not in env:
            env["DATABASE_URL"] = database_url_for_servers()
        if "REDIS_URL" not in env:
            env["REDIS_URL"] = request.getfixturevalue("redis_url")
        env = {"DJANGO_SETTINGS_MODULE": SERVER_SETTINGS, "PYTHONUNBUFFERED": "1", **env}
        cluster = FaultCluster(workers=workers, env=env, workdir=tmp_path / f"cluster-{len(clusters)}")
        clusters.append(cluster)
        return cluster.start()

    yield start
    failed = getattr(request.node, "report_call", None) is not None and request.node.report_call.failed
    for cluster in clusters:
        if failed:
            print(cluster.logs())
        cluster.stop()


@pytest.fixture
def shared_services(postgres, redis_url):
    """The daphne processes share the test database with the test: it must be
    PostgreSQL (a transactional test commits what it creates)."""
    return redis_url


class PrivateRedis:
    """A Redis server of this test only, on a free port, that the test may stop."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--daemonize", "no", "--dir", str(self.directory)),
            ],
            stdout=open(self.directory / "redis.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, timeout=10)

    def shutdown_nosave(self) -> None:
        """SHUTDOWN NOSAVE, as an operator would."""
        import redis

        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(port=self.port, socket_connect_timeout=2).shutdown(nosave=True)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            end_processes(self.process)


@pytest.fixture
def private_redis(tmp_path):
    require_service("redis-server", bool(shutil.which("redis-server")), "apt-get install redis-server")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of this test only (initdb in a temporary directory, on a
    free port), that the test may stop and start."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            # initdb refuses to run as root: the cluster belongs to the postgres user.
            shutil.chown(directory, "postgres")

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return subprocess.run(
            [*prefix, *command], check=check, capture_output=True, text=True, timeout=120, cwd=self.directory
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def initdb(self) -> None:
        self._run(str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        status = self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "status", check=False)
        return status.returncode == 0

    def log(self) -> str:
        path = self.directory / "log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture
def private_postgres():
    available = (POSTGRES_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)
    require_service("PostgreSQL server binaries", available, f"{POSTGRES_BIN}/initdb (apt-get install postgresql)")
    # Not under pytest's temporary directory: as root, that is closed to the postgres user.
    directory = Path(tempfile.mkdtemp(prefix="faults-postgres-"))
    server = PrivatePostgres(directory)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        # Also when starting timed out after the postmaster came up.
        if server.data.exists() and server.running():
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def stop_process(process: subprocess.Popen) -> None:
    """End a process this test started (also when it is stopped with SIGSTOP)."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def elapsed(since: float) -> float:
    return time.monotonic() - since
