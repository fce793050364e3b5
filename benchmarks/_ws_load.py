"""The load generator of `benchmarks/rooms.py`: one asyncio process holding many
WebSocket clients (the `websockets` library), driven by its parent over stdin and
stdout, one JSON object a line.

The parent gives it whole rooms (every member of a room lives in the same generator,
so each generator checks its own rooms completely) and then commands:

    {"cmd": "warmup"}    connect the first room, send one message from each member,
                         wait for every receipt, disconnect
    {"cmd": "connect"}   connect every client and wait for each one's `hello`
    {"cmd": "run", "rate": r, "duration": s, "warmup": s, "drain": s, "start_ns": t}
                         from monotonic time t, every client sends `message.send` at r
                         per second for `duration` seconds (phases spread evenly);
                         then wait up to `drain` seconds for the last receipts and
                         answer with the step's figures
    {"cmd": "quiet", "seconds": s, "timeout": s}
                         wait until no frame has arrived for `seconds`
    {"cmd": "status"}    frames outside runs, unexpected closes
    {"cmd": "quit"}      close every client and exit

Each message body starts with the sender's CLOCK_MONOTONIC time in nanoseconds (the
same clock in every process on the machine). Every member of the room, the sender
included, records the time from send to its receipt. Loss and duplicates are counted
per room by `client_id`; `seq` is checked to be the same for every member and without
gaps.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import sys
import time
import uuid
from collections import Counter
from heapq import heappop, heappush

PADDING = "请双方于下周三前提交补充证据材料，调解员将据此安排第二次调解。"
BUCKET_NS = 100_000  # latency histogram resolution: 0.1 ms


class Client:
    __slots__ = ("closed", "cookie", "index", "reader", "received", "room", "ws")

    def __init__(self, index: int, room: Room, cookie: str):
        self.index = index
        self.room = room
        self.cookie = cookie
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.received: dict[str, int] = {}
        self.closed = False


class Room:
    __slots__ = ("clients", "id", "sent")

    def __init__(self, room_id: int):
        self.id = room_id
        self.clients: list[Client] = []
        self.sent: dict[str, Client] = {}


class Step:
    def __init__(self, rate: float, duration: float, warmup: float, start_ns: int):
        self.rate = rate
        self.start_ns = start_ns
        self.end_ns = start_ns + int(duration * 1e9)
        self.measure_from = start_ns + int(warmup * 1e9)
        self.measure_to = self.end_ns
        self.sent = 0
        self.send_failures = 0
        self.received = 0
        self.window_receipts = 0
        self.duplicates = 0
        self.stray = 0
        self.latency = Counter()
        self.lag = Counter()
        self.errors = Counter()
        self.last_send_ns = start_ns


class Generator:
    def __init__(self, spec: dict):
        self.base_url = spec["url"].rstrip("/")
        self.origin = spec["origin"]
        # "platform": the room protocol; "socketio": the same frames as Socket.IO
        # events named "frame" (Engine.IO v4 over a WebSocket), for the peer.
        self.socketio = spec.get("protocol", "platform") == "socketio"
        self.concurrency = spec.get("concurrency", 50)
        self.rooms: list[Room] = []
        self.clients: list[Client] = []
        for entry in spec["rooms"]:
            room = Room(entry["id"])
            for cookie in entry["cookies"]:
                client = Client(len(self.clients), room, cookie)
                room.clients.append(client)
                self.clients.append(client)
            self.rooms.append(room)
        self.step: Step | None = None
        self.other_frames = Counter()
        self.unexpected_closes = Counter()
        self.quitting = False
        self.last_frame_ns = 0
        self.random = random.Random(spec.get("seed", 1))

    # -- connections -----------------------------------------------------------------

    async def open(self, client: Client) -> None:
        from websockets.asyncio.client import connect

        path = (
            f"/socket.io/?EIO=4&transport=websocket&room={client.room.id}"
            if self.socketio
            else f"/ws/rooms/{client.room.id}/"
        )
        client.ws = await connect(
            f"{self.base_url}{path}",
            origin=self.origin,
            additional_headers={"Cookie": client.cookie},
            compression=None,
            ping_interval=None,
            open_timeout=120,
            close_timeout=2,
        )
        if self.socketio:
            opened = await asyncio.wait_for(client.ws.recv(), 120)  # "0{sid, pingInterval...}"
            if not opened.startswith("0"):
                raise RuntimeError(f"expected the Engine.IO open packet, got {opened[:80]}")
            await client.ws.send("40")
            connected = await asyncio.wait_for(client.ws.recv(), 120)  # "40{sid}"
            if not connected.startswith("40"):
                raise RuntimeError(f"expected the namespace connect, got {connected[:80]}")
            hello = json.loads((await asyncio.wait_for(client.ws.recv(), 120))[2:])[1]
        else:
            hello = json.loads(await asyncio.wait_for(client.ws.recv(), 120))
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        client.closed = False
        client.reader = asyncio.get_running_loop().create_task(self.read(client))

    async def connect_clients(self, clients: list[Client]) -> dict:
        started = time.monotonic()
        limit = asyncio.Semaphore(self.concurrency)
        failures: list[str] = []

        async def one(client: Client) -> None:
            async with limit:
                for attempt in range(3):
                    try:
                        await self.open(client)
                        return
                    except Exception as error:
                        last = f"{type(error).__name__}: {error}"
                        await asyncio.sleep(0.5 * (attempt + 1))
                failures.append(last)

        await asyncio.gather(*(one(client) for client in clients))
        return {
            "connected": len(clients) - len(failures),
            "failed": len(failures),
            "first_failures": failures[:3],
            "seconds": round(time.monotonic() - started, 2),
        }

    async def close_clients(self, clients: list[Client]) -> None:
        async def one(client: Client) -> None:
            if client.ws is not None:
                client.closed = True
                with contextlib.suppress(Exception):
                    await client.ws.close()

        await asyncio.gather(*(one(client) for client in clients))

    # -- receiving -------------------------------------------------------------------

    async def read(self, client: Client) -> None:
        loads = json.loads
        now_ns = time.monotonic_ns
        try:
            async for raw in client.ws:
                now = now_ns()
                self.last_frame_ns = now
                if self.socketio:
                    if raw == "2":  # Engine.IO ping
                        await client.ws.send("3")
                        continue
                    if not raw.startswith("42"):
                        self.other_frames["engine.io:" + raw[:2]] += 1
                        continue
                    frame = loads(raw[2:])[1]
                else:
                    frame = loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    self.on_message(client, frame, now)
                elif kind == "error":
                    step = self.step
                    if step is not None:
                        step.errors[frame.get("code", "?")] += 1
                    else:
                        self.other_frames["error:" + str(frame.get("code"))] += 1
                else:
                    self.other_frames[kind] += 1
        except Exception as error:
            self.unexpected_closes[f"{type(error).__name__}"] += 1
        finally:
            if not client.closed and not self.quitting:
                code = client.ws.close_code if client.ws is not None else None
                self.unexpected_closes[f"close code {code}"] += 1
            client.closed = True

    def on_message(self, client: Client, frame: dict, now: int) -> None:
        step = self.step
        client_id = frame.get("client_id")
        if step is None or client_id not in client.room.sent:
            if step is not None:
                step.stray += 1
            return
        if client_id in client.received:
            step.duplicates += 1
            return
        client.received[client_id] = frame["seq"]
        step.received += 1
        sent_ns = int(frame["body"].split(" ", 1)[0])
        if sent_ns >= step.measure_from:
            step.latency[(now - sent_ns) // BUCKET_NS] += 1
        if step.measure_from <= now <= step.measure_to:
            step.window_receipts += 1

    # -- sending ---------------------------------------------------------------------

    async def send_all(self, step: Step) -> None:
        interval = int(1e9 / step.rate)
        queue = []
        for client in self.clients:
            heappush(queue, (step.start_ns + self.random.randrange(interval), client.index))
        now_ns = time.monotonic_ns
        dumps = json.dumps
        while queue:
            due, index = queue[0]
            if due >= step.end_ns:
                break
            now = now_ns()
            if due > now:
                await asyncio.sleep((due - now) / 1e9)
                continue
            heappop(queue)
            heappush(queue, (due + interval, index))
            client = self.clients[index]
            if client.closed:
                step.send_failures += 1
                continue
            client_id = str(uuid.uuid4())
            sent = now_ns()
            client.room.sent[client_id] = client
            step.sent += 1
            step.lag[(sent - due) // 1_000_000] += 1
            step.last_send_ns = sent
            frame = {"type": "message.send", "client_id": client_id, "body": f"{sent} {index} {PADDING}"}
            if self.socketio:
                text = "42" + dumps(["frame", frame], ensure_ascii=False)
            else:
                text = dumps(frame, ensure_ascii=False)
            try:
                await client.ws.send(text)
            except Exception:
                step.send_failures += 1

    def expected_receipts(self) -> int:
        return sum(len(room.sent) * len(room.clients) for room in self.rooms)

    async def run_step(self, rate: float, duration: float, warmup: float, drain: float, start_ns: int) -> dict:
        for room in self.rooms:
            room.sent = {}
        for client in self.clients:
            client.received = {}
        step = Step(rate, duration, warmup, start_ns)
        self.step = step
        closes_before = sum(self.unexpected_closes.values())
        cpu_before = cpu_seconds()
        wait = (start_ns - time.monotonic_ns()) / 1e9
        if wait > 0:
            await asyncio.sleep(wait)
        await self.send_all(step)
        sending_done = time.monotonic_ns()
        deadline = time.monotonic() + drain
        while step.received < self.expected_receipts() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        drained = time.monotonic_ns()
        cpu_used = cpu_seconds() - cpu_before
        result = self.check(step)
        result.update(
            rate=rate,
            sent=step.sent,
            send_failures=step.send_failures,
            received=step.received,
            window_receipts=step.window_receipts,
            window_seconds=(step.measure_to - step.measure_from) / 1e9,
            duplicates=step.duplicates,
            stray=step.stray,
            errors=dict(step.errors),
            latency={str(key): value for key, value in step.latency.items()},
            lag_ms={str(key): value for key, value in step.lag.items()},
            send_seconds=(sending_done - start_ns) / 1e9,
            drain_seconds=(drained - sending_done) / 1e9,
            cpu_seconds=cpu_used,
            wall_seconds=(drained - start_ns) / 1e9,
            disconnects=sum(self.unexpected_closes.values()) - closes_before,
            open_clients=sum(1 for client in self.clients if not client.closed),
            client_ids=[client_id for room in self.rooms for client_id in room.sent],
        )
        self.step = None
        return result

    def check(self, step: Step) -> dict:
        """Per room: every member got every message sent in the room once, under the
        same seq, and the seqs of a step have no gaps."""
        lost = unacknowledged = seq_conflicts = seq_gaps = 0
        for room in self.rooms:
            seq_of: dict[str, int] = {}
            for client in room.clients:
                received = client.received
                for client_id in room.sent:
                    seq = received.get(client_id)
                    if seq is None:
                        lost += 1
                    elif seq_of.setdefault(client_id, seq) != seq:
                        seq_conflicts += 1
            unacknowledged += sum(1 for client_id, sender in room.sent.items() if client_id not in sender.received)
            seqs = sorted(set(seq_of.values()))
            seq_conflicts += len(seq_of) - len(seqs)
            if seqs:
                seq_gaps += seqs[-1] - seqs[0] + 1 - len(seqs)
        return {
            "expected": self.expected_receipts(),
            "lost": lost,
            "unacknowledged": unacknowledged,
            "seq_conflicts": seq_conflicts,
            "seq_gaps": seq_gaps,
        }

    # -- commands --------------------------------------------------------------------

    async def warmup(self) -> dict:
        room = self.rooms[0]
        report = await self.connect_clients(room.clients)
        step = Step(1.0, 0, 0, time.monotonic_ns())
        room.sent = {}
        for client in room.clients:
            client.received = {}
        self.step = step
        for client in room.clients:
            client_id = str(uuid.uuid4())
            room.sent[client_id] = client
            body = f"{time.monotonic_ns()} {client.index} warm-up"
            await client.ws.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
        deadline = time.monotonic() + 30
        while step.received < len(room.sent) * len(room.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        report["received"] = step.received
        self.step = None
        await self.close_clients(room.clients)
        for client in room.clients:
            client.ws = None
        room.sent = {}
        return report

    async def quiet(self, seconds: float, timeout: float) -> dict:
        """Wait until no frame has arrived for `seconds` (a backlog from an overloaded
        run has drained), at most `timeout` seconds."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if time.monotonic_ns() - self.last_frame_ns >= seconds * 1e9:
                return {"quiet": True, "waited": round(time.monotonic() - started, 1)}
            await asyncio.sleep(0.1)
        return {"quiet": False, "waited": round(time.monotonic() - started, 1)}

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        say({"ready": True, "clients": len(self.clients), "rooms": len(self.rooms)})
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            command = json.loads(line)
            name = command["cmd"]
            if name == "warmup":
                say(await self.warmup())
            elif name == "connect":
                say(await self.connect_clients(self.clients))
            elif name == "run":
                say(
                    await self.run_step(
                        command["rate"], command["duration"], command["warmup"], command["drain"], command["start_ns"]
                    )
                )
            elif name == "quiet":
                say(await self.quiet(command["seconds"], command["timeout"]))
            elif name == "status":
                say(
                    {
                        "open_clients": sum(1 for client in self.clients if not client.closed),
                        "other_frames": dict(self.other_frames),
                        "unexpected_closes": dict(self.unexpected_closes),
                    }
                )
            elif name == "quit":
                self.quitting = True
                await self.close_clients(self.clients)
                say({"bye": True})
                break


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description="Room benchmark load generator (driven by benchmarks/rooms.py).")
    parser.add_argument("--spec", required=True, help="JSON file: url, origin, rooms [{id, cookies}], seed")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    options = parser.parse_args()
    if options.cpu is not None:
        os.sched_setaffinity(0, {options.cpu})
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(options.spec, encoding="utf-8") as handle:
        spec = json.load(handle)
    asyncio.run(Generator(spec).serve())


if __name__ == "__main__":
    main()
