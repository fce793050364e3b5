"""What storing a batch of room messages costs the server and PostgreSQL.

The room writer stores whatever queued while its previous batch was written, in one
transaction (`rooms.store.store_messages`). On a machine where the server and the
database share a core, every millisecond of either is a millisecond the sockets do
not get. This calls `store_messages` directly, batch after batch, on the database of
`benchmarks/rooms.py` (reused if it is there, else created the same way), each
message from a room's mediator in a different room, and prints per batch and per
message:

- wall time;
- this process's CPU time (Python, psycopg, libpq);
- the CPU time of the PostgreSQL backend serving it (from /proc/<pid>/stat).

    .venv/bin/python benchmarks/rooms_store.py                  # batches of 1, 10, 30, 100
    .venv/bin/python benchmarks/rooms_store.py --sizes 30 --batches 1000

Run it twice to compare two versions of the store (say, in a worktree of an older
commit, `TREE=...`): the figures of one run move by about 10 % on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(os.environ.get("TREE", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))

from benchmarks import rooms as bench_rooms  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BODY = "调解方案已收到，我们今天下午答复。"


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def mediators_by_room(room_ids: list[int]) -> list[tuple[int, object]]:
    from mediation.models import User
    from rooms.membership import member_of
    from rooms.models import Room

    rooms = Room.objects.filter(pk__in=room_ids).select_related("case")
    return [(room.pk, member_of(User.objects.get(pk=room.case.mediator_id), room)) for room in rooms]


def measure(senders, size: int, batches: int, backend_pid: int) -> dict:
    from rooms.store import PostRequest, store_messages

    chooser = random.Random(size)

    def batch():
        return [
            PostRequest(room_id=room_id, author=member, client_id=uuid.uuid4(), body=BODY)
            for room_id, member in chooser.sample(senders, size)
        ]

    for _ in range(5):
        store_messages(batch())
    prepared = [batch() for _ in range(batches)]
    walls = []
    cpu, backend = time.process_time(), backend_cpu_seconds(backend_pid)
    for requests in prepared:
        started = time.perf_counter()
        results = store_messages(requests)
        walls.append(time.perf_counter() - started)
        assert all(result.outcome == "stored" for result in results), results
    return {
        "wall": statistics.median(walls) * 1000,
        "python": (time.process_time() - cpu) / batches * 1000,
        "postgres": (backend_cpu_seconds(backend_pid) - backend) / batches * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,30,100", help="messages per batch (default 1,10,30,100)")
    parser.add_argument("--batches", type=int, default=300, help="batches per size (default 300)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    room_list = bench_rooms.prepare_database(200, 5, reuse=True)
    senders = mediators_by_room([room["id"] for room in room_list])
    if max(sizes) > len(senders):
        raise SystemExit(f"At most {len(senders)} messages per batch: one per room.")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend_pid,) = cursor.fetchone()
    print(f"store_messages from {ROOT}, {args.batches} batches per size")
    print(f"{'batch':>6} {'wall ms':>9} {'python ms':>10} {'postgres ms':>12} {'python/msg':>11} {'postgres/msg':>13}")
    for size in sizes:
        figures = measure(senders, size, args.batches, backend_pid)
        print(
            f"{size:>6} {figures['wall']:>9.2f} {figures['python']:>10.2f} {figures['postgres']:>12.2f}"
            f" {figures['python'] / size * 1000:>9.0f}µs {figures['postgres'] / size * 1000:>11.0f}µs"
        )
    print("wall: median per batch; python and postgres: CPU time per batch (CPU time has a 10 ms tick)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
