"""Fault 2: Redis goes away (`SHUTDOWN NOSAVE`) and comes back while two daphne
processes carry a chat between them. Nothing stored is lost: what was posted while
Redis was down is stored and acknowledged (the database is the record; Redis only
carries frames between processes), and within 5 s of Redis returning every client
holds it and live delivery between the processes works again (each process's hub
reconnects and its sockets catch up from the database).

A second room stays quiet until Redis is down: its first message then is also the
first of that room on its process, when the process looks up who is online to tell
the others of the activity."""

from __future__ import annotations

import asyncio
import time

import pytest

from rooms.models import Room
from rooms.server.cluster import wait_for_port
from tests.faults.support import (
    RoomClient,
    assert_holds_exactly,
    chatter,
    in_thread,
    log_times,
    percentile,
    stored_entries,
    wait_until,
)
from tests.servers import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

INTERVAL = 0.8
OUTAGE_SECONDS = 2.5
# Live delivery and the catch-up are back this long after Redis is.
RETURN_LIMIT = 5.0
# What a frame may take from its author's acknowledgement to every other client.
LATENCY_ALLOWANCE = 1.0


def test_redis_restart_loses_nothing_and_live_delivery_returns(postgres, private_redis, start_cluster, world):
    joint, caucus = world.joint, world.plaintiff_caucus
    users = [world.mediator, world.judge, world.plaintiff, world.defendant]
    cookies = {user.pk: session_cookie(user) for user in users}
    cluster = start_cluster(2, REDIS_URL=private_redis.url)

    def client_for(user, room):
        url = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{room.pk}/"
        return RoomClient(f"{user.full_name} in {room.kind}", url, cookies[user.pk], user.pk, origin=cluster.url)

    figures = {}

    async def scenario():
        in_joint, in_caucus = [], []
        try:
            for user in users:
                in_joint.append(await client_for(user, joint).started())
            for user in (world.mediator, world.plaintiff):
                in_caucus.append(await client_for(user, caucus).started())
            figures["spread"] = cluster.connections_per_worker()
            stop = asyncio.Event()
            sent: list[str] = []
            posting = [
                asyncio.create_task(chatter(client, stop, interval=INTERVAL, label=client.name, sent=sent))
                for client in in_joint
            ]
            await asyncio.sleep(2)
            figures["down_at"] = time.monotonic()
            await asyncio.to_thread(private_redis.shutdown_nosave)
            # The quiet room speaks while Redis is down, from both processes.
            await asyncio.sleep(0.5)
            caucus_sent = [await client.post(f"{client.name}: while Redis is down") for client in in_caucus]
            await asyncio.sleep(OUTAGE_SECONDS - 0.5)
            await asyncio.to_thread(private_redis.start)
            await asyncio.to_thread(wait_for_port, private_redis.port)
            figures["up_at"] = up_at = time.monotonic()
            await asyncio.sleep(RETURN_LIMIT + 2)
            caucus_sent += [await client.post(f"{client.name}: after Redis is back") for client in in_caucus]
            stop.set()
            await asyncio.gather(*posting)
            everyone = in_joint + in_caucus
            try:
                await wait_until(lambda: not any(c.outbox for c in everyone), 20, "every message acknowledged")
            finally:
                figures["unacknowledged"] = {c.name: list(c.outbox.values()) for c in everyone if c.outbox}
            for room, clients in ((joint, in_joint), (caucus, in_caucus)):
                last_seq = await in_thread(lambda room=room: Room.objects.get(pk=room.pk).last_seq)
                await wait_until(lambda c=clients, s=last_seq: all(x.holds_through(s) for x in c), 20, "catch-up")
            figures["caught_up_after"] = time.monotonic() - up_at
            return in_joint, in_caucus, sent, caucus_sent
        finally:
            await asyncio.gather(*(client.stop() for client in in_joint + in_caucus))

    in_joint, in_caucus, sent, caucus_sent = asyncio.run(scenario())
    down_at, up_at = figures["down_at"], figures["up_at"]

    for room, clients, posted in ((joint, in_joint, sent), (caucus, in_caucus, caucus_sent)):
        base = clients[0].base_seq
        stored = stored_entries(room.pk, base)
        assert sorted(stored) == list(range(base + 1, Room.objects.get(pk=room.pk).last_seq + 1))
        acked = {client_id: frame for client in clients for client_id, frame in client.acked.items()}
        assert sorted(acked) == sorted(posted)
        assert sorted(str(entry.client_id) for entry in stored.values() if entry.client_id) == sorted(posted)
        for client in clients:
            assert_holds_exactly(client, stored, base)
    # Every message reached every client by the later of (its acknowledgement, 5 s
    # after Redis returned), plus the allowance.
    late, lags_after, outage_lag = [], [], 0.0
    for clients in (in_joint, in_caucus):
        for author in clients:
            for client_id, frame in author.acked.items():
                acked_at = author.acked_at[client_id]
                deadline = max(acked_at, up_at + RETURN_LIMIT) + LATENCY_ALLOWANCE
                for reader in clients:
                    seen = reader.first_seen[frame["seq"]]
                    if seen > deadline:
                        late.append((reader.name, frame["body"], round(seen - up_at, 2)))
                    if down_at <= acked_at < up_at:
                        outage_lag = max(outage_lag, seen - up_at)
                    elif acked_at >= up_at + RETURN_LIMIT and reader is not author:
                        lags_after.append(seen - acked_at)
    print(
        f"\nspread {figures['spread']}; Redis down {up_at - down_at:.1f} s; {len(sent) + len(caucus_sent)} messages; "
        f"what was posted during the outage reached everyone {outage_lag:.2f} s after Redis returned; "
        f"latency {RETURN_LIMIT:.0f} s after: p99 {percentile(lags_after, 0.99) * 1000:.0f} ms; "
        f"all caught up {figures['caught_up_after']:.1f} s after; errors "
        f"{[f['code'] for c in in_joint + in_caucus for _t, f in c.errors]}"
    )
    # Every process carries clients (nginx spreads them; a retried handshake may shift one).
    assert len(figures["spread"]) == 2 and min(figures["spread"]) >= 1, figures["spread"]
    assert not figures["unacknowledged"]
    assert not late, late[:10]
    # Each process's hub said it reconnected, and dropped no frame after that.
    for path in sorted(cluster.workdir.glob("daphne-*.log")):
        text = path.read_text(errors="replace")
        reconnected = log_times(text, "Room hub reconnected to Redis")
        assert reconnected, f"{path.name}: the hub never reconnected"
        dropped = [t for t in log_times(text, "Could not publish") if t > reconnected[-1] + 1.0]
        assert not dropped, f"{path.name}: {len(dropped)} publishes failed after the hub reconnected"
    assert lags_after, "no message was posted after live delivery should have returned"
