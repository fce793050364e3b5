"""Fault 1: `kill -9` one of three daphne processes while everyone keeps posting, then
start it again. Clients behave like the browser's: they reconnect through nginx with
jittered backoff, resume from the last seq they hold and resend what was not
acknowledged with the same client_id.

Every message a client got an acknowledgement for is stored once and reaches every
member once (kept by seq, as the browser does); seq has no hole, in the database and
at every client; the clients of the killed process are caught up within 10 s."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from rooms.models import Room, RoomEntry
from tests.faults.support import (
    RoomClient,
    add_participants,
    assert_holds_exactly,
    chatter,
    in_thread,
    stored_entries,
    wait_until,
)
from tests.servers import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 3
VICTIM = 1
# One message per user every 0.8 s: under the limit of 20 per 10 s, resends included.
INTERVAL = 0.8
RESUME_LIMIT = 10.0


def test_kill_9_of_a_process_mid_chat_loses_and_doubles_nothing(shared_services, start_cluster, world):
    users = [world.mediator, world.judge, world.plaintiff, world.defendant, *add_participants(world, 5)]
    room = world.joint
    cookies = {user.pk: session_cookie(user) for user in users}
    cluster = start_cluster(WORKERS)
    url = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{room.pk}/"

    def client_for(user, name=None, *, port=None, **options):
        address = url if port is None else f"ws://127.0.0.1:{port}/ws/rooms/{room.pk}/"
        # A page is served by whoever serves its socket: nginx, or the process itself.
        origin = cluster.url if port is None else f"http://127.0.0.1:{port}"
        return RoomClient(name or user.full_name, address, cookies[user.pk], user.pk, origin=origin, **options)

    figures = {}

    async def scenario():
        clients, fresh = [], []
        try:
            for user in users:
                clients.append(await client_for(user).started())
            figures["spread"] = cluster.connections_per_worker()
            stop = asyncio.Event()
            sent: list[str] = []
            posting = [
                asyncio.create_task(chatter(client, stop, interval=INTERVAL, label=client.name, sent=sent))
                for client in clients
            ]
            await asyncio.sleep(3)
            await asyncio.to_thread(cluster.kill_worker, VICTIM, signal.SIGKILL)
            figures["sent_before_kill"] = len(sent)
            await asyncio.sleep(4)
            started = time.monotonic()
            await asyncio.to_thread(cluster.start_worker, VICTIM)
            figures["restart_seconds"] = time.monotonic() - started
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*posting)
            figures["sent"] = len(sent)
            await wait_until(lambda: not any(client.outbox for client in clients), 30, "every message acknowledged")
            last_seq = await in_thread(lambda: Room.objects.get(pk=room.pk).last_seq)
            await wait_until(
                lambda: all(client.holds_through(last_seq) for client in clients), 30, "every client caught up"
            )
            # New sockets after the restart read the whole history from the start: two
            # through nginx, one on the restarted process itself (nginx may still be
            # keeping new connections away from it for a while after its failure).
            fresh.append(await client_for(users[0], "fresh, via nginx", start_seq=0).started())
            fresh.append(await client_for(users[1], "fresh, via nginx", start_seq=0).started())
            restarted_port = cluster.worker_ports[VICTIM]
            fresh.append(await client_for(users[2], "fresh, restarted", port=restarted_port, start_seq=0).started())
            figures["spread_after"] = cluster.connections_per_worker()
            await wait_until(lambda: all(client.holds_through(last_seq) for client in fresh), 30, "fresh clients")
            return clients, fresh, sent
        finally:
            await asyncio.gather(*(client.stop() for client in clients + fresh))

    clients, fresh, sent = asyncio.run(scenario())

    base = clients[0].base_seq
    stored = stored_entries(room.pk, base)
    last_seq = Room.objects.get(pk=room.pk).last_seq
    recoveries = {client.name: client.recoveries for client in clients if client.recoveries}
    print(
        f"\nspread {figures['spread']} -> {figures['spread_after']}; {figures['sent']} messages posted, "
        f"{figures['sent_before_kill']} before the kill; restart took {figures['restart_seconds']:.1f} s; "
        f"recoveries (to hello, to caught up) {recoveries}; duplicate frames dropped by seq "
        f"{sum(client.duplicates for client in clients)}; resends answered as duplicates; errors "
        f"{[frame['code'] for client in clients for _t, frame in client.errors]}"
    )
    # Every process carries clients (nginx spreads them; a retried handshake may shift one).
    assert len(figures["spread"]) == 3 and min(figures["spread"]) >= 1, figures["spread"]
    # The clients of the killed process, and only they, lost their connection; each
    # was caught up within the limit.
    assert len(recoveries) == figures["spread"][VICTIM], recoveries
    for name, times in recoveries.items():
        assert all(caught_up <= RESUME_LIMIT for _hello, caught_up in times), (name, times)
    # Every message posted was acknowledged, and is stored exactly once, under the
    # seq its author was told.
    acked = {client_id: frame for client in clients for client_id, frame in client.acked.items()}
    assert sorted(acked) == sorted(sent)
    by_client_id = {str(entry.client_id): entry for entry in stored.values() if entry.client_id}
    assert len(by_client_id) == len(sent)
    for client_id, frame in acked.items():
        assert by_client_id[client_id].seq == frame["seq"]
    assert RoomEntry.objects.filter(room=room, client_id__in=sent).count() == len(sent)
    # No hole and nothing beyond the room's counter.
    assert sorted(stored) == list(range(base + 1, last_seq + 1))
    for client in clients:
        assert_holds_exactly(client, stored, base)
    everything = stored_entries(room.pk)
    assert sorted(everything) == list(range(1, last_seq + 1))
    for client in fresh:
        assert_holds_exactly(client, everything, 0)
    assert {frame["code"] for client in clients for _t, frame in client.errors} <= {"rate_limited"}
