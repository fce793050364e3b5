"""Fixtures of the hostile-input tests: a case with both sides, signed-in sessions, and
a real daphne process started with the platform's own WebSocket limits."""

from __future__ import annotations

import os

import pytest

from rooms.server.cluster import DAPHNE_FLAGS
from tests.cases import make_case
from tests.security.world import module_world, storages_at
from tests.servers import DaphneProcess, database_url_for_servers, session_cookie

STARTUP_SECONDS = 40


@pytest.fixture
def world(people):
    """The report's case: a mediator, a judge, the plaintiff's agent and the
    defendant's representative, with the joint room and one caucus per side."""
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def cookies(world):
    """Signed-in sessions of the case's people, made before any server starts (on
    SQLite the server works on a copy of the database)."""
    return {name: session_cookie(getattr(world, name)) for name in ("mediator", "judge", "plaintiff", "defendant")}


@pytest.fixture
def daphne_server(world, cookies, tmp_path):
    """A real daphne serving the test's world."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_servers(copy_into=tmp_path),
        "PYTHONUNBUFFERED": "1",
        # Errors only: a server exception shows up as an ERROR line with its traceback.
        "LOG_LEVEL": "WARNING",
    }
    server = DaphneProcess(env, tmp_path / "daphne.log", flags=DAPHNE_FLAGS)
    try:
        server.wait_ready(STARTUP_SECONDS)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def module_files(tmp_path_factory):
    return tmp_path_factory.mktemp("court-files")


@pytest.fixture(scope="module")
def court(django_db_setup, django_db_blocker, module_files, _platform_keys):
    """A court with every role and a case of each kind, built once per module (for
    tests that only read it)."""
    with module_world(django_db_blocker, module_files, _platform_keys) as built:
        yield built


@pytest.fixture
def court_files_in_use(settings, _isolated_files_and_keys, module_files):
    """The court's files, for a test that reads or writes them."""
    settings.STORAGES = storages_at(module_files)
