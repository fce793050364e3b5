"""What tests that start real server processes share: a daphne process on a free
port, the URL under which such a process sees the test database, and a signed-in
session cookie to present to it."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from rooms.server.cluster import end_processes, free_port

ROOT = Path(__file__).resolve().parents[1]
DAPHNE = Path(sys.executable).with_name("daphne")


def session_cookie(user) -> str:
    """A signed-in session for `user`, as the login view would leave it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def database_url_for_servers(copy_into: Path | None = None) -> str:
    """A database URL under which a server process sees what this (transactional)
    test committed: the test database itself on PostgreSQL or in an SQLite file; an
    in-memory SQLite test database lives in this process only, so it is copied into
    a file in `copy_into`."""
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        credentials = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"
    if connection.vendor != "sqlite":
        raise NotImplementedError(f"no way to share a {connection.vendor} test database with a server process")
    if not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    if copy_into is None:
        raise ValueError("an in-memory SQLite test database must be copied into a directory")
    path = copy_into / "server.sqlite3"
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
    return f"sqlite:///{path}"


class DaphneProcess:
    """The platform under a daphne process on a free loopback port; its output goes
    to `log`."""

    def __init__(self, env: dict, log: Path, flags: tuple[str, ...] | list[str] = (), port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [str(DAPHNE), *flags, "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 40.0) -> None:
        """Return once it accepts connections; raise RuntimeError (with its output)
        if it exits or does not listen in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"daphne on port {self.port} exited with {code}:\n{self.output()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            time.sleep(0.05)
        raise RuntimeError(f"daphne on port {self.port} did not listen within {timeout} s:\n{self.output()}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self, tail: int = 6000) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")[-tail:]

    def stop(self) -> None:
        end_processes(self.process)
        self._log_file.close()
