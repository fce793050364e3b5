"""Helpers for tests that interleave transactions on PostgreSQL."""

import re
import threading
import time

from django.db import connection, connections


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


def interleave(holder, waiter, *, holding: threading.Event, release: threading.Event) -> list[Exception]:
    """Run `holder` in a thread until it sets `holding` (it then waits for `release`
    with its locks held), then `waiter` in another until it waits for one of those
    locks; then set `release` and wait for both to end. Returns what either raised.
    Each thread closes its database connections as it ends."""
    errors: list[Exception] = []

    def in_thread(work):
        def run():
            try:
                work()
            except Exception as error:
                errors.append(error)
            finally:
                connections.close_all()

        return threading.Thread(target=run)

    first, second = in_thread(holder), in_thread(waiter)
    first.start()
    try:
        assert holding.wait(10)
        second.start()
        wait_until_another_session_waits_for_a_lock()
    finally:
        release.set()
        first.join(15)
        if second.ident is not None:
            second.join(15)
    assert not first.is_alive() and not second.is_alive()
    return errors
