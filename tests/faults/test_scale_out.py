"""Scale-out: three daphne processes behind nginx share PostgreSQL and Redis; clients
spread over the processes see each other's messages (each exactly once, with the same
seq everywhere) and each other's presence."""

from __future__ import annotations

import asyncio

import pytest

from rooms.models import Room, RoomEntry
from tests.faults.support import RoomClient, add_participants, wait_until
from tests.servers import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 3
MESSAGES_EACH = 3


def test_clients_spread_over_three_processes_see_each_others_messages_and_presence(
    shared_services, start_cluster, world
):
    users = [world.mediator, world.judge, world.plaintiff, world.defendant, *add_participants(world, 2)]
    room = world.joint
    cookies = [session_cookie(user) for user in users]
    cluster = start_cluster(WORKERS)
    url = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{room.pk}/"

    async def scenario():
        clients = []
        try:
            # One after the other: nginx hands consecutive connections to the next process.
            for user, cookie in zip(users, cookies, strict=True):
                client = RoomClient(user.full_name, url, cookie, user.pk, origin=cluster.url)
                clients.append(await client.started())
            spread = cluster.connections_per_worker()
            everyone = {user.pk for user in users}
            await wait_until(
                lambda: all(client.online_now() == everyone for client in clients), 10, "everyone's presence"
            )
            for number in range(MESSAGES_EACH):
                for client in clients:
                    await client.post(f"{client.name}: message {number + 1}")
            last_seq = clients[0].base_seq + len(users) * MESSAGES_EACH
            await wait_until(
                lambda: all(client.holds_through(last_seq) and not client.outbox for client in clients),
                15,
                "every message at every client",
            )
            await clients[-1].stop()
            await wait_until(
                lambda: all(client.online_now() == everyone - {users[-1].pk} for client in clients[:-1]),
                10,
                "the last client going offline everywhere",
            )
            return spread, clients
        finally:
            await asyncio.gather(*(client.stop() for client in clients))

    spread, clients = asyncio.run(scenario())

    # Two clients on each process.
    # Every process carries clients (nginx spreads them; a retried handshake may shift one).
    assert len(spread) == 3 and min(spread) >= 1, spread
    base = clients[0].base_seq
    assert all(client.base_seq == base for client in clients)
    stored = {entry.seq: entry for entry in RoomEntry.objects.filter(room=room, seq__gt=base)}
    assert sorted(stored) == list(range(base + 1, base + len(users) * MESSAGES_EACH + 1))
    assert Room.objects.get(pk=room.pk).last_seq == base + len(users) * MESSAGES_EACH
    acked = {client_id: frame for client in clients for client_id, frame in client.acked.items()}
    assert len(acked) == len(users) * MESSAGES_EACH
    assert {str(entry.client_id): seq for seq, entry in stored.items()} == {
        client_id: frame["seq"] for client_id, frame in acked.items()
    }
    for client in clients:
        # Exactly once: no frame arrived twice, none is missing, the same seq everywhere.
        assert client.duplicates == 0, (client.name, client.duplicates)
        assert not client.conflicts
        assert not client.errors, client.errors
        held = client.received_since(base)
        assert sorted(held) == sorted(stored)
        for seq, frame in held.items():
            assert frame["client_id"] == str(stored[seq].client_id)
            assert frame["body"] == stored[seq].body
