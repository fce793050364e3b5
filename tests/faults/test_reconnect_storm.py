"""Fault 5: everyone reconnects at once. A hundred clients are in a room on two daphne
processes; both processes are killed (-9), 600 messages are stored while they are
down, and the processes start again: every client reconnects with jittered
exponential backoff, resumes from the last seq it holds and catches up.

Everyone ends with every message once, and the resume work is bounded: a client asks
for ceil(missed / 500) pages (at most one more), and the entries fetched by all
resumes add up to what the clients missed."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import pytest
from django.db import connection

from rooms.conf import RESUME_PAGE_SIZE
from rooms.membership import member_of
from rooms.models import Room
from rooms.store import PostRequest, store_messages
from tests.faults.support import (
    RoomClient,
    add_participants,
    assert_holds_exactly,
    expected_resumes,
    in_thread,
    percentile,
    stored_entries,
    wait_until,
)
from tests.servers import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 100
MISSED = 600
CATCH_UP_LIMIT = 30.0


def store_while_down(room, authors, count: int) -> None:
    """What was said while every process was down (as another process, or the
    restarted ones, would have stored it)."""
    members = [member_of(author, room) for author in authors]
    requests = [
        PostRequest(room_id=room.pk, author=members[n % len(members)], client_id=uuid.uuid4(), body=f"missed {n}")
        for n in range(count)
    ]
    results = store_messages(requests)
    assert {result.outcome for result in results} == {"stored"}


def database_rows_fetched() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tup_fetched FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_hundred_clients_reconnecting_at_once_all_catch_up_with_bounded_resumes(
    shared_services, start_cluster, world
):
    room = world.joint
    users = [world.mediator, world.judge, world.plaintiff, world.defendant]
    users += add_participants(world, CLIENTS - len(users))
    cookies = {user.pk: session_cookie(user) for user in users}
    cluster = start_cluster(2)
    url = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{room.pk}/"
    figures = {}

    async def scenario():
        clients = [
            RoomClient(user.full_name, url, cookies[user.pk], user.pk, origin=cluster.url, backoff_cap=3.0)
            for user in users
        ]
        try:
            for start in range(0, CLIENTS, 20):
                await asyncio.gather(*(client.started(60) for client in clients[start : start + 20]))
            figures["spread"] = cluster.connections_per_worker()
            held_before = {client.name: client.last_seq for client in clients}
            # Every process dies at once; the clients retry with backoff meanwhile.
            await asyncio.to_thread(cluster.kill_worker, 0, signal.SIGKILL)
            await asyncio.to_thread(cluster.kill_worker, 1, signal.SIGKILL)
            await wait_until(lambda: not any(client.ready for client in clients), 10, "every client disconnected")
            await in_thread(lambda: store_while_down(room, users[:4], MISSED))
            last_seq = await in_thread(lambda: Room.objects.get(pk=room.pk).last_seq)
            rows_before = await in_thread(database_rows_fetched)
            await asyncio.sleep(1)
            await asyncio.to_thread(cluster.start_workers, [0, 1])
            back_at = time.monotonic()
            await wait_until(
                lambda: all(client.holds_through(last_seq) for client in clients),
                CATCH_UP_LIMIT,
                "every client caught up",
            )
            figures["caught_up_after"] = time.monotonic() - back_at
            figures["hellos_after"] = sorted(client.hellos[-1][0] - back_at for client in clients)
            figures["spread_after"] = cluster.connections_per_worker()
            await asyncio.sleep(1.5)
            figures["rows_fetched"] = await in_thread(database_rows_fetched) - rows_before
            # Live traffic flows again, to everyone.
            for client in clients[:5]:
                await client.post(f"{client.name}: everyone back?")
            await wait_until(
                lambda: all(client.holds_through(last_seq + 5) for client in clients), 15, "the live messages"
            )
            return clients, held_before
        finally:
            await asyncio.gather(*(client.stop() for client in clients))

    clients, held_before = asyncio.run(scenario())

    recoveries = [client.recoveries[0][1] for client in clients if client.recoveries]
    missed = {client.name: client.missed_at_hello[-1] for client in clients}
    resumes = sum(client.resumes_sent for client in clients)
    fetched = sum(client.entries_by_resume for client in clients)
    print(
        f"\nspread {figures['spread']} -> {figures['spread_after']}; {CLIENTS} clients caught up "
        f"{figures['caught_up_after']:.1f} s after the processes were back (hello: median "
        f"{percentile(figures['hellos_after'], 0.5):.1f} s, last {figures['hellos_after'][-1]:.1f} s; "
        "per client: median "
        f"{percentile(recoveries, 0.5):.1f} s, slowest {max(recoveries):.1f} s from losing the connection); "
        f"failed connection attempts {sum(c.connect_failures for c in clients)}; resume frames {resumes} for "
        f"{sum(missed.values())} missed entries, entries fetched by resumes {fetched}; database rows fetched "
        f"{figures['rows_fetched']}"
    )
    assert len(recoveries) == CLIENTS
    stored = stored_entries(room.pk)
    for client in clients:
        assert missed[client.name] >= MISSED, (client.name, held_before[client.name], missed[client.name])
        assert client.resumes_sent <= expected_resumes(missed[client.name]) + 1, (client.name, client.resume_requests)
        assert client.entries_by_resume <= missed[client.name] + RESUME_PAGE_SIZE
        assert_holds_exactly(client, {s: e for s, e in stored.items() if s > client.base_seq}, client.base_seq)
    assert resumes <= sum(expected_resumes(m) + 1 for m in missed.values())
    # Nothing fetched twice, apart from pages answering a client's extra resume.
    extra_pages = resumes - sum(expected_resumes(m) for m in missed.values())
    assert fetched <= sum(missed.values()) + extra_pages * RESUME_PAGE_SIZE
