"""Helpers for tests that interleave transactions on PostgreSQL."""

import re
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


def tables_locked(queries) -> list[str]:
    """The tables whose rows the captured queries locked FOR UPDATE, in the order the
    locks were taken (a table each time; `FOR UPDATE OF` names its own)."""
    locked = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" not in sql:
            continue
        named = re.search(r"FOR UPDATE OF (.+?)(?: NOWAIT| SKIP LOCKED|$)", sql)
        if named:
            locked += re.findall(r'"(\w+)"', named.group(1))
        else:
            locked += re.findall(r'(?:FROM|JOIN) "(\w+)"', sql)
    return locked
