"""A server under daphne holds a bounded number of PostgreSQL connections, however
many requests it answers: a request's connection must not outlive the request."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.urls import reverse

from rooms.server.cluster import DAPHNE_FLAGS
from tests.servers import DaphneProcess, database_url_for_servers

pytestmark = pytest.mark.django_db(transaction=True)

# The server's long-lived threads may each keep one (Channels' database thread, the
# room writer); a request's thread must keep none.
HANDFUL = 5
SERVER_NAME = "connection-burst-test"


@pytest.fixture
def server_as_a_court_runs_it(postgres, world, cookies, tmp_path):
    """Daphne with persistent connections allowed, as in base settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # Named, so that only this server's connections are counted (not those of a
        # server an earlier test is still stopping, on the same test database).
        "DATABASE_URL": f"{database_url_for_servers()}?application_name={SERVER_NAME}",
        "DATABASE_CONN_MAX_AGE": "60",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }
    server = DaphneProcess(env, tmp_path / "daphne.log", flags=DAPHNE_FLAGS)
    try:
        server.wait_ready(40)
        yield server
    finally:
        server.stop()


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [SERVER_NAME],
        )
        return cursor.fetchone()[0]


def fetch(base: str, path: str, cookie: str | None) -> int:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_burst_of_requests_leaves_no_more_than_a_handful_of_database_connections(
    server_as_a_court_runs_it, world, cookies
):
    server = server_as_a_court_runs_it
    anonymous = [reverse("account_login"), reverse("verify"), "/verify/NOSUCHCODE2026/", "/no/such/page/"]
    signed_in = [
        (cookies["mediator"], reverse("case_detail", args=[world.case.pk])),
        (cookies["mediator"], reverse("my_cases")),
        (cookies["plaintiff"], reverse("my_cases")),
        (cookies["plaintiff"], reverse("case_detail", args=[world.case.pk])),
        (cookies["judge"], reverse("notifications")),
    ]
    requests = [(None, path) for path in anonymous] + signed_in
    burst = [requests[number % len(requests)] for number in range(100)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda item: fetch(server.url, item[1], item[0]), burst))

    assert 500 not in statuses, server.output()
    assert statuses.count(200) >= 60, statuses
    # Connections a request left behind would stay until the garbage collector found
    # its dead thread; give a closed one a moment to leave pg_stat_activity.
    deadline = time.monotonic() + 2
    while server_connections() > HANDFUL and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server_connections() <= HANDFUL
