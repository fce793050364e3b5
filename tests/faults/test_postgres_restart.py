"""Fault 6: PostgreSQL goes down (`pg_ctl stop -m immediate`, a crash) while two daphne
processes carry a chat, and is started again a few seconds later.

While it is down, every message sent is answered with an `unavailable` error frame
in its reader's language, and the socket stays open; nothing is acknowledged that
is not stored. Once PostgreSQL is back, the same daphne processes (not restarted)
store again within 15 s: what the clients resent is acknowledged, a new socket is
let in. Afterwards every acknowledged message is stored once, under the seq its
author was told, with every field of its row as sent; seq has no hole.

The daphne processes run on a private PostgreSQL cluster (the test process keeps
the test database), migrated and given a case by tests/faults/seed_database.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql

from rooms.models import RoomEntry
from tests.faults.conftest import SERVER_SETTINGS
from tests.faults.support import ROOT, RoomClient, assert_holds_exactly, chatter, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

WORKERS = 2
PARTICIPANTS = 2
# One message per person every 2 s: with the resends of the outage (the whole
# outbox every second), still under the limit of 20 per 10 s.
INTERVAL = 2.0
OUTAGE_SECONDS = 4.0
RETURN_LIMIT = 15.0
UNAVAILABLE = {
    "": "Your message could not be stored. Nothing was sent; try again.",
    "zh-hans": "消息保存失败，未能发送，请重试。",
}


class RecordingClient(RoomClient):
    """A room client that remembers the body of every message it posted."""

    def __init__(self, *args, **options):
        super().__init__(*args, **options)
        self.posted: dict[str, str] = {}

    async def post(self, body: str) -> str:
        client_id = await super().post(body)
        self.posted[client_id] = body
        return client_id


def seed_private_database(server) -> tuple[str, dict]:
    """A new database on the private cluster, migrated, with a case in it."""
    name = f"faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.url(), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.url(name)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS}
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed_database", str(PARTICIPANTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    return url, json.loads(seeded.stdout.strip().splitlines()[-1])


def stored_rows(url: str, room_id: int) -> tuple[int, dict[int, dict]]:
    """The room's last_seq and its entries by seq, read straight from the database."""
    with psycopg.connect(url) as connection:
        (last_seq,) = connection.execute("SELECT last_seq FROM rooms_room WHERE id = %s", [room_id]).fetchone()
        cursor = connection.execute(
            "SELECT seq, id, kind, author_id, client_id, body, data, created_at FROM rooms_roomentry "
            "WHERE room_id = %s ORDER BY seq",
            [room_id],
        )
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    by_seq = {row["seq"]: row for row in rows}
    assert len(by_seq) == len(rows), "two entries share a seq"
    return last_seq, by_seq


def test_postgres_restart_refuses_clearly_stores_nothing_half_and_recovers_by_itself(
    private_postgres, redis_url, start_cluster
):
    url, world = seed_private_database(private_postgres)
    room_id, people = world["room"], world["people"]
    cluster = start_cluster(WORKERS, DATABASE_URL=url, REDIS_URL=redis_url)
    pids = [cluster.pid(index) for index in range(WORKERS)]
    address = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{room_id}/"

    def client_for(person, name=None, **options):
        return RecordingClient(
            name or person["name"], address, person["cookie"], person["id"], origin=cluster.url, **options
        )

    figures = {}

    async def scenario():
        clients, fresh = [], []
        try:
            for person in people:
                clients.append(await client_for(person).started())
            figures["spread"] = cluster.connections_per_worker()
            stop = asyncio.Event()
            sent: list[str] = []
            posting = [
                asyncio.create_task(chatter(client, stop, interval=INTERVAL, label=client.name, sent=sent))
                for client in clients
            ]
            await asyncio.sleep(3)
            figures["stopping_at"] = time.monotonic()
            await asyncio.to_thread(private_postgres.stop, "immediate")
            figures["down_at"] = time.monotonic()
            await asyncio.sleep(OUTAGE_SECONDS)
            figures["starting_at"] = time.monotonic()
            await asyncio.to_thread(private_postgres.start)
            figures["up_at"] = up_at = time.monotonic()
            waiting = {client: set(client.outbox) for client in clients}
            figures["waiting_at_restart"] = sum(len(ids) for ids in waiting.values())
            # The service returns by itself: what waited is stored once the clients
            # resend it, and a new socket is let in.
            figures["all_stored_after"] = await wait_until(
                lambda: all(ids <= set(client.acked) for client, ids in waiting.items()),
                RETURN_LIMIT,
                "what the clients held during the outage to be acknowledged",
            )
            fresh.append(await client_for(people[0], "fresh socket", start_seq=0).started(RETURN_LIMIT))
            figures["fresh_hello_after"] = fresh[0].hellos[0][0] - up_at
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*posting)
            figures["sent"] = len(sent)
            try:
                await wait_until(lambda: not any(c.outbox for c in clients), 20, "every message acknowledged")
            finally:
                figures["unacknowledged"] = {c.name: list(c.outbox.values()) for c in clients if c.outbox}
            last_seq, _rows = await asyncio.to_thread(stored_rows, url, room_id)
            await wait_until(
                lambda: all(c.holds_through(last_seq) for c in clients + fresh), 20, "every client caught up"
            )
            figures["closed"] = {c.name: c.closes for c in clients if c.closes}
            return clients, fresh, sent
        finally:
            await asyncio.gather(*(client.stop() for client in clients + fresh))

    clients, fresh, sent = asyncio.run(scenario())
    down_at, up_at = figures["down_at"], figures["up_at"]
    last_seq, rows = stored_rows(url, room_id)

    errors = [(client, at, frame) for client in clients for at, frame in client.errors]
    unavailable = [(client, at, frame) for client, at, frame in errors if frame["code"] == "unavailable"]
    first_error_after = max(min([at for c, at, _f in unavailable if c is client] or [up_at]) for client in clients)
    first_ack_after = min(at for client in clients for at in client.acked_at.values() if at >= up_at)
    print(
        f"\nspread {figures['spread']}; PostgreSQL down {figures['starting_at'] - figures['stopping_at']:.1f} s "
        f"(start took {up_at - figures['starting_at']:.1f} s); {figures['sent']} messages posted, "
        f"{figures['waiting_at_restart']} waiting at the restart; {len(unavailable)} 'unavailable' error frames, "
        f"every client got one within {first_error_after - down_at:.2f} s; "
        f"first acknowledgement {first_ack_after - up_at:.2f} s after the restart, everything held during the outage "
        f"stored {figures['all_stored_after']:.2f} s after; a new socket let in {figures['fresh_hello_after']:.2f} s "
        f"after; errors by code {_count(frame['code'] for _c, _t, frame in errors)}; sockets closed {figures['closed']}"
    )

    # The outage: an error frame for every send, in the reader's language; no socket closed.
    # Every process carries clients (nginx spreads them; a retried handshake may shift one).
    assert len(figures["spread"]) == 2 and min(figures["spread"]) >= 1, figures["spread"]
    assert {frame["code"] for _c, _t, frame in errors} <= {"unavailable", "rate_limited"}, errors
    for client, language in zip(clients, (person["language"] for person in people), strict=True):
        own = [(at, frame) for c, at, frame in unavailable if c is client]
        assert any(down_at <= at < up_at for at, _frame in own), f"{client.name} got no error during the outage"
        assert all(frame["detail"] == UNAVAILABLE[language] for _at, frame in own), (client.name, own[:2])
        # Nothing was acknowledged while the database was down.
        assert not [at for at in client.acked_at.values() if down_at + 1.0 < at < figures["starting_at"]]
    assert not figures["unacknowledged"]
    assert not figures["closed"], figures["closed"]
    # The same processes served before, during and after.
    assert [cluster.pid(index) for index in range(WORKERS)] == pids
    assert all(process.poll() is None for process in cluster.workers.values())

    # Every acknowledged message is stored once, under the seq its author was told,
    # its row complete and as sent; seq has no hole and none twice.
    assert sorted(rows) == list(range(1, last_seq + 1))
    messages = {str(row["client_id"]): row for row in rows.values() if row["client_id"] is not None}
    assert sorted(messages) == sorted(sent)
    posted = {client_id: (client, body) for client in clients for client_id, body in client.posted.items()}
    for client_id, row in messages.items():
        client, body = posted[client_id]
        assert row["kind"] == RoomEntry.MESSAGE, row
        assert row["author_id"] == client.user_id, row
        assert row["body"] == body, row
        assert row["data"]["author"]["id"] == client.user_id, row
        assert row["data"]["author"]["name"] == client.name, row
        assert row["created_at"] is not None, row
        frame = client.acked[client_id]
        assert frame["seq"] == row["seq"], (frame, row)
    entries = {
        seq: SimpleNamespace(
            pk=row["id"],
            seq=seq,
            body=row["body"],
            client_id=row["client_id"],
            is_message=row["kind"] == RoomEntry.MESSAGE,
        )
        for seq, row in rows.items()
    }
    base = clients[0].base_seq
    for client in clients:
        assert_holds_exactly(client, {seq: e for seq, e in entries.items() if seq > base}, base)
    assert_holds_exactly(fresh[0], entries, 0)


def _count(codes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return counts
