"""Helpers for tests that interleave transactions on PostgreSQL."""

import time

from django.db import connection


def wait_until_another_session_waits_for_a_lock(timeout: float = 10) -> None:
    """Return once another client session of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("No other session waited for a lock.")
