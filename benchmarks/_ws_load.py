"""The load generator of `benchmarks/rooms.py`: one asyncio process holding many
WebSocket clients, driven by its parent over stdin and stdout, one JSON object a line.

The generator has one core, like the server, and at the rates the peers reach it was
the generator, not the server, that ran out first. So it runs on uvloop, and its
clients speak RFC 6455 through a plain asyncio protocol (`WireClient`) rather than a
WebSocket library's general machinery (a parser coroutine, a queue and a task switch
per receipt). It needs only what the three servers send: unfragmented, unmasked text
frames, pings and closes; anything else closes the client as a protocol error.

The parent gives it whole rooms (every member of a room lives in the same generator,
so each generator checks its own rooms completely) and then commands:

    {"cmd": "warmup"}    connect the first room, send one message from each member,
                         wait for every receipt, disconnect
    {"cmd": "connect", "concurrency": n}
                         connect every client and wait for each one's `hello`, at most
                         n handshakes in flight (default: the spec's concurrency);
                         answers with the time from the first connect to the last
                         hello, and when half and 99 % of the hellos had arrived
    {"cmd": "disconnect"}
                         close every client (the phase before a reconnection storm)
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
import base64
import contextlib
import json
import os
import random
import resource
import struct
import sys
import time
import uuid
from collections import Counter
from heapq import heappop, heappush
from urllib.parse import urlsplit

import uvloop

PADDING = "请双方于下周三前提交补充证据材料，调解员将据此安排第二次调解。"
BUCKET_NS = 100_000  # latency histogram resolution: 0.1 ms

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
FINAL = 0x80
# Clients must mask what they send (RFC 6455 section 5.3) against caches that a
# predictable payload could poison on the way; on loopback nothing is in the way, and
# a zero key leaves the payload as it is instead of costing an XOR per byte.
ZERO_MASK_KEY = b"\x00\x00\x00\x00"
PROTOCOL_ERROR = 1002
NO_STATUS = 1005
ABNORMAL_CLOSURE = 1006
# Sends in a row before the generator lets waiting receipts in.
RECEIPTS_EVERY = 50
# A send due this soon goes now: a timer per send (thousands a second) cost the
# generator more than the sends. Latency is timed from the actual send.
SEND_EARLY_NS = 500_000


def client_frame(opcode: int, payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        header = bytes((FINAL | opcode, 0x80 | length))
    elif length < 1 << 16:
        header = struct.pack("!BBH", FINAL | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", FINAL | opcode, 0x80 | 127, length)
    return header + ZERO_MASK_KEY + payload


class HandshakeFailed(Exception):
    pass


class WireClient(asyncio.Protocol):
    """One WebSocket client connection. Until `on_text` is set, text frames queue for
    `recv()` (the opening exchange); from then on each goes to `on_text` as it
    arrives."""

    def __init__(self):
        loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = loop.create_future()
        self.ended = loop.create_future()
        self.frames: asyncio.Queue[str] = asyncio.Queue()
        self.on_text = None
        self.on_lost = None
        self.close_code: int | None = None
        self.closing = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded.done():
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: head_end + 4]
            if not status.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(HandshakeFailed(status.decode("latin-1")))
                self.transport.close()
                return
            self.upgraded.set_result(None)
        offset, end = 0, len(buffer)
        while end - offset >= 2:
            first, length = buffer[offset], buffer[offset + 1] & 0x7F
            start = offset + 2
            if length == 126:
                start += 2
                if start > end:
                    break
                length = int.from_bytes(buffer[offset + 2 : start], "big")
            elif length == 127:
                start += 8
                if start > end:
                    break
                length = int.from_bytes(buffer[offset + 2 : start], "big")
            stop = start + length
            if stop > end:
                break
            offset = stop
            self.on_frame(first, bytes(buffer[start:stop]))
        del buffer[:offset]

    def on_frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        if opcode == TEXT and first & FINAL:
            text = payload.decode("utf-8")
            if self.on_text is None:
                self.frames.put_nowait(text)
            else:
                self.on_text(text)
        elif opcode == PING:
            self.write(PONG, payload)
        elif opcode == CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else NO_STATUS
            if not self.closing:
                self.closing = True
                self.write(CLOSE, payload[:2])
            self.transport.close()
        elif opcode != PONG:
            # A fragment or a binary frame: none of the servers measured sends one.
            self.close_code = PROTOCOL_ERROR
            self.transport.abort()

    def connection_lost(self, exc) -> None:
        if self.close_code is None:
            self.close_code = ABNORMAL_CLOSURE
        if not self.upgraded.done():
            self.upgraded.set_exception(HandshakeFailed("connection closed during the handshake"))
        self.frames.put_nowait("")
        if not self.ended.done():
            self.ended.set_result(None)
        if self.on_lost is not None:
            self.on_lost(self.close_code)

    def write(self, opcode: int, payload: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(client_frame(opcode, payload))

    def send(self, text: str) -> None:
        if self.transport.is_closing():
            raise ConnectionError("the connection is closed")
        self.transport.write(client_frame(TEXT, text.encode("utf-8")))

    async def recv(self) -> str:
        text = await self.frames.get()
        if not text and self.ended.done():
            raise ConnectionError(f"the connection closed (code {self.close_code})")
        return text

    async def close(self, timeout: float = 2.0) -> None:
        if not self.closing:
            self.closing = True
            self.write(CLOSE, (1000).to_bytes(2, "big"))
        try:
            await asyncio.wait_for(asyncio.shield(self.ended), timeout)
        except TimeoutError:
            self.transport.abort()


async def open_connection(url: str, origin: str, cookie: str) -> WireClient:
    parts = urlsplit(url)
    client = WireClient()
    await asyncio.get_running_loop().create_connection(lambda: client, parts.hostname, parts.port)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    client.transport.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\r\n"
        ).encode("latin-1")
    )
    try:
        await client.upgraded
    except BaseException:
        client.transport.abort()
        raise
    return client


class Client:
    __slots__ = ("closed", "cookie", "index", "received", "room", "ws")

    def __init__(self, index: int, room: Room, cookie: str):
        self.index = index
        self.room = room
        self.cookie = cookie
        self.ws: WireClient | None = None
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
        path = (
            f"/socket.io/?EIO=4&transport=websocket&room={client.room.id}"
            if self.socketio
            else f"/ws/rooms/{client.room.id}/"
        )
        ws = await asyncio.wait_for(open_connection(f"{self.base_url}{path}", self.origin, client.cookie), 120)
        try:
            if self.socketio:
                opened = await asyncio.wait_for(ws.recv(), 120)  # "0{sid, pingInterval...}"
                if not opened.startswith("0"):
                    raise RuntimeError(f"expected the Engine.IO open packet, got {opened[:80]}")
                ws.send("40")
                connected = await asyncio.wait_for(ws.recv(), 120)  # "40{sid}"
                if not connected.startswith("40"):
                    raise RuntimeError(f"expected the namespace connect, got {connected[:80]}")
                hello = json.loads((await asyncio.wait_for(ws.recv(), 120))[2:])[1]
            else:
                hello = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if hello.get("type") != "hello":
                raise RuntimeError(f"expected hello, got {hello}")
        except BaseException:
            ws.transport.abort()
            raise
        client.ws = ws
        client.closed = False
        ws.on_lost = lambda code: self.on_lost(client, code)
        while not ws.frames.empty():
            text = ws.frames.get_nowait()
            if text:
                self.on_text(client, text)
        ws.on_text = lambda text: self.on_text(client, text)

    async def connect_clients(self, clients: list[Client], concurrency: int | None = None) -> dict:
        started = time.monotonic()
        limit = asyncio.Semaphore(concurrency or self.concurrency)
        failures: list[str] = []
        hellos: list[float] = []

        async def one(client: Client) -> None:
            async with limit:
                for attempt in range(3):
                    try:
                        await self.open(client)
                        hellos.append(time.monotonic() - started)
                        return
                    except Exception as error:
                        last = f"{type(error).__name__}: {error}"
                        await asyncio.sleep(0.5 * (attempt + 1))
                failures.append(last)

        await asyncio.gather(*(one(client) for client in clients))
        hellos.sort()
        return {
            "connected": len(clients) - len(failures),
            "failed": len(failures),
            "first_failures": failures[:3],
            "seconds": round(time.monotonic() - started, 3),
            "p50_seconds": round(hellos[len(hellos) // 2], 3) if hellos else None,
            "p99_seconds": round(hellos[min(len(hellos) - 1, int(len(hellos) * 0.99))], 3) if hellos else None,
        }

    async def close_clients(self, clients: list[Client]) -> None:
        async def one(client: Client) -> None:
            if client.ws is not None:
                client.closed = True
                with contextlib.suppress(Exception):
                    await client.ws.close()

        await asyncio.gather(*(one(client) for client in clients))

    # -- receiving -------------------------------------------------------------------

    def on_text(self, client: Client, raw: str) -> None:
        now = time.monotonic_ns()
        self.last_frame_ns = now
        try:
            if self.socketio:
                if raw == "2":  # Engine.IO ping
                    client.ws.send("3")
                    return
                if not raw.startswith("42"):
                    self.other_frames["engine.io:" + raw[:2]] += 1
                    return
                frame = json.loads(raw[2:])[1]
            else:
                frame = json.loads(raw)
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
            self.other_frames[f"unreadable ({type(error).__name__})"] += 1

    def on_lost(self, client: Client, code: int) -> None:
        if not client.closed and not self.quitting:
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
        sends_in_a_row = 0
        while queue:
            due, index = queue[0]
            if due >= step.end_ns:
                break
            now = now_ns()
            if due > now + SEND_EARLY_NS:
                sends_in_a_row = 0
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
            step.lag[max(sent - due, 0) // 1_000_000] += 1
            step.last_send_ns = sent
            frame = {"type": "message.send", "client_id": client_id, "body": f"{sent} {index} {PADDING}"}
            if self.socketio:
                text = "42" + dumps(["frame", frame], ensure_ascii=False)
            else:
                text = dumps(frame, ensure_ascii=False)
            try:
                client.ws.send(text)
            except Exception:
                step.send_failures += 1
            sends_in_a_row += 1
            if sends_in_a_row == RECEIPTS_EVERY:
                # Sends that fell due together must not hold back the receipts.
                sends_in_a_row = 0
                await asyncio.sleep(0)

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
        if report["failed"]:
            return report
        step = Step(1.0, 0, 0, time.monotonic_ns())
        room.sent = {}
        for client in room.clients:
            client.received = {}
        self.step = step
        for client in room.clients:
            client_id = str(uuid.uuid4())
            room.sent[client_id] = client
            body = f"{time.monotonic_ns()} {client.index} warm-up"
            client.ws.send(json.dumps({"type": "message.send", "client_id": client_id, "body": body}))
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
                say(await self.connect_clients(self.clients, command.get("concurrency")))
            elif name == "disconnect":
                await self.close_clients(self.clients)
                say({"disconnected": len(self.clients)})
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
    uvloop.run(Generator(spec).serve())


if __name__ == "__main__":
    main()
