"""Fault 3: clients stop reading (sockets with a small receive buffer that the test no
longer reads: a user's tabs on a stalled laptop) while the others keep posting long
messages. The server process's memory stays bounded: once more than 1 MiB waits for
such a socket it is closed with 4429 (the others see its user go offline), instead of
the process holding the whole flood for each of them. The other clients' latency
does not suffer, and the slow user, reconnecting later, resumes from the last seq it
read and misses nothing, in one pass (a resume page larger than the cap is paced to
the reader, not cut off with 4429)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from rooms.models import Room
from tests.faults.support import (
    RawSocket,
    RoomClient,
    add_participants,
    assert_holds_exactly,
    expected_resumes,
    in_thread,
    log_times,
    percentile,
    rss_kib,
    stored_entries,
    wait_until,
)
from tests.servers import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

POSTERS = 16
SLOW_SOCKETS = 8
# Close to 4,000 characters (the most a message may have), 4 bytes each in UTF-8.
BODY = "𠀀" * 3950
WARM_UP_EACH = 2
FLOOD_EACH = 18
# One round of messages every 0.7 s: each poster posts 20 in all, the most allowed in 10 s.
INTERVAL = 0.7
# Held for the slow sockets without a cap: SLOW_SOCKETS x the flood (about 35 MiB).
RSS_GROWTH_LIMIT_MIB = 22
P99_LIMIT = 2.0


def test_clients_that_stop_reading_are_closed_with_4429_and_resume_later(shared_services, start_cluster, world):
    room = world.joint
    posters = add_participants(world, POSTERS, label="poster ")
    readers = [world.mediator, world.judge, world.defendant]
    slow = world.plaintiff
    cookies = {user.pk: session_cookie(user) for user in [*posters, *readers, slow]}
    cluster = start_cluster(1)
    worker_pid, worker_port = cluster.pid(0), cluster.worker_ports[0]
    url = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{room.pk}/"

    def client_for(user, **options):
        return RoomClient(user.full_name, url, cookies[user.pk], user.pk, origin=cluster.url, **options)

    figures = {"rss": []}
    sampling = threading.Event()

    def sample_rss():
        while not sampling.is_set():
            figures["rss"].append(rss_kib(worker_pid))
            time.sleep(0.05)

    async def post_rounds(clients, rounds, label):
        for number in range(rounds):
            for client in clients:
                await client.post(f"{label} {number} {client.name}: {BODY}")
            await asyncio.sleep(INTERVAL)

    def latencies(clients, watchers, client_ids):
        values = []
        for author in clients:
            for client_id in client_ids & set(author.acked):
                seq = author.acked[client_id]["seq"]
                values.extend(w.first_seen[seq] - author.sent_at[client_id] for w in watchers)
        return values

    async def scenario():
        clients, watchers, raws = [], [], []
        try:
            for user in readers:
                watchers.append(await client_for(user).started())
            for user in posters:
                clients.append(await client_for(user).started())
            # Warm up: the same traffic with every client reading.
            await post_rounds(clients, WARM_UP_EACH, "warm-up")
            await wait_until(lambda: not any(c.outbox for c in clients), 30, "the warm-up acknowledged")
            warm_up_ids = {cid for c in clients for cid in c.acked}
            figures["p99_before"] = percentile(latencies(clients, watchers, warm_up_ids), 0.99)
            await asyncio.sleep(0.5)
            figures["rss_before"] = rss_kib(worker_pid)

            # The slow sockets: straight to the daphne process, so that their own small
            # buffers (not nginx's) are what the process writes into.
            for _ in range(SLOW_SOCKETS):
                raw = await asyncio.to_thread(RawSocket, worker_port, f"/ws/rooms/{room.pk}/", cookies[slow.pk])
                raws.append(raw)
                hello = await asyncio.to_thread(raw.read_json)
                assert hello["type"] == "hello"
            await wait_until(lambda: all(slow.pk in w.online_now() for w in watchers), 10, "the slow user online")
            sampler = threading.Thread(target=sample_rss, daemon=True)
            sampler.start()
            flood_started = time.monotonic()
            await post_rounds(clients, FLOOD_EACH, "flood")
            await wait_until(lambda: not any(c.outbox for c in clients), 30, "the flood acknowledged")
            await wait_until(
                lambda: all(slow.pk not in w.online_now() for w in watchers), 10, "the slow user going offline"
            )
            figures["offline_after"] = (
                min(t for t, online in watchers[0].presence if t > flood_started and slow.pk not in online)
                - flood_started
            )
            sampling.set()
            sampler.join()
            figures["rss_after"] = rss_kib(worker_pid)
            flood_ids = {cid for c in clients for cid in c.acked} - warm_up_ids
            figures["p99_during"] = percentile(latencies(clients, watchers, flood_ids), 0.99)
            figures["flood_bytes"] = len(flood_ids) * len(BODY.encode())
            # Reading again, the slow sockets find their connection closed.
            figures["drains"] = [await asyncio.to_thread(raw.drain, 10) for raw in raws]
            figures["raw_bytes_read"] = [raw.bytes_read for raw in raws]

            last_seq = await in_thread(lambda: Room.objects.get(pk=room.pk).last_seq)
            # The slow user comes back and resumes from the last seq it read.
            back = await client_for(slow, start_seq=hello["last_seq"]).started()
            await wait_until(lambda: back.holds_through(last_seq), 30, "the slow user resumed")
            figures["back_closes"] = list(back.closes)
            watchers.append(back)
            await wait_until(lambda: all(w.holds_through(last_seq) for w in watchers), 30, "the readers")
            return hello, back, watchers
        finally:
            sampling.set()
            for raw in raws:
                raw.close()
            await asyncio.gather(*(client.stop() for client in clients + watchers))

    hello, back, watchers = asyncio.run(scenario())

    log = (cluster.workdir / "daphne-0.log").read_text(errors="replace")
    growth_mib = (max(figures["rss"]) - figures["rss_before"]) / 1024
    closed_slow = log_times(log, "its client stopped reading")
    missed = back.missed_at_hello[0]
    print(
        f"\nflood {figures['flood_bytes'] / 2**20:.1f} MiB of messages to {SLOW_SOCKETS} sockets that stopped reading "
        f"({SLOW_SOCKETS * figures['flood_bytes'] / 2**20:.0f} MiB to hold without a cap); RSS "
        f"{figures['rss_before'] / 1024:.0f} MiB before, peak {max(figures['rss']) / 1024:.0f} MiB "
        f"(+{growth_mib:.1f} MiB), {figures['rss_after'] / 1024:.0f} MiB after; 4429 closes {len(closed_slow)}; "
        f"slow user shown offline {figures['offline_after']:.1f} s into the flood, the sockets having read "
        f"{figures['raw_bytes_read']} bytes, then {figures['drains'][0]}; p99 latency of the others "
        f"{figures['p99_before'] * 1000:.0f} ms before, {figures['p99_during'] * 1000:.0f} ms during; "
        f"resume of {missed} entries: {back.resumes_sent} resume frame(s), {back.entries_by_resume} entries"
    )
    # Each slow socket was closed because it stopped reading (4429; by the time the
    # test reads again, the close frame is behind a megabyte the server gave up on) ...
    assert len(closed_slow) == SLOW_SOCKETS, closed_slow
    assert all(drain["close_code"] in (4429, None) for drain in figures["drains"]), figures["drains"]
    # ... long before the process could hold the flood for each.
    assert SLOW_SOCKETS * figures["flood_bytes"] > 1.5 * RSS_GROWTH_LIMIT_MIB * 2**20
    assert growth_mib < RSS_GROWTH_LIMIT_MIB, growth_mib
    assert figures["p99_during"] < P99_LIMIT, figures["p99_during"]
    # The slow user resumed in one pass, without being cut off, and holds everything
    # since the last seq it read, once each.
    assert figures["back_closes"] == [], figures["back_closes"]
    assert back.resumes_sent == expected_resumes(missed)
    assert back.entries_by_resume == missed
    stored = stored_entries(room.pk, hello["last_seq"])
    assert sorted(stored) == list(range(hello["last_seq"] + 1, Room.objects.get(pk=room.pk).last_seq + 1))
    assert_holds_exactly(back, stored, hello["last_seq"])
    for watcher in watchers:
        assert_holds_exactly(watcher, stored_entries(room.pk, watcher.base_seq), watcher.base_seq)
