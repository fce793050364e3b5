"""Building blocks of the fault tests: a cluster started in parallel, a room client
that behaves like frontend/static/js/room.js, a raw socket that stops reading, and
readings of a process's memory and TCP connections from /proc."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import random
import signal
import socket
import struct
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rooms.conf import RESUME_PAGE_SIZE
from rooms.server.cluster import Cluster, nginx_binary, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
FATAL_CLOSE_CODES = {4401, 4403, 4404, 4408}


# -- sessions and databases ---------------------------------------------------------


# -- the cluster ----------------------------------------------------------------------


class FaultCluster(Cluster):
    """rooms.server.cluster.Cluster (daphne with the platform's flags behind nginx), with
    its workers started in parallel and nginx restartable on its port."""

    # A fast shutdown: a graceful one waits for every WebSocket to close.
    nginx_stop_signal = signal.SIGTERM

    def start(self) -> FaultCluster:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_workers(range(len(self.worker_ports)))
        config = self._render_nginx()
        self._nginx_command = [nginx_binary(), "-c", str(config), "-p", str(self.workdir)]
        self.start_nginx()
        return self

    def start_workers(self, indexes) -> None:
        indexes = list(indexes)
        with ThreadPoolExecutor(max_workers=max(1, len(indexes))) as pool:
            list(pool.map(self.start_worker, indexes))

    def start_nginx(self) -> None:
        self.nginx = subprocess.Popen(
            self._nginx_command,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "nginx-stderr.log", "ab"),  # noqa: SIM115
        )
        wait_for_port(self.port)

    def pid(self, index: int) -> int:
        return self.workers[index].pid

    def logs(self, limit: int = 3000) -> str:
        parts = []
        for path in sorted(self.workdir.glob("daphne-*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name} (last {limit} characters)\n{text[-limit:]}")
        return "\n".join(parts)

    def connections_per_worker(self) -> list[int]:
        """Established TCP connections (from nginx) that each worker holds."""
        ports = established_local_ports()
        return [ports.count(port) for port in self.worker_ports]


def established_local_ports() -> list[int]:
    """The local port of every established IPv4 TCP connection of this machine's
    network namespace (one line per end)."""
    ports = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01":
            ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


# -- a room client ------------------------------------------------------------------------


class RoomClient:
    """One browser tab in a room, behaving like frontend/static/js/room.js.

    Every message waits in an outbox until the server sends it back (its
    acknowledgement); entries are kept by seq, so a frame received twice (live and
    by a resume) counts once; on hello it resumes from the last contiguous seq it
    holds and resends its outbox with the same client_ids; a connection lost is
    retried with exponential backoff and full jitter; a gap in the sequence is asked
    for after a moment; `rate_limited` and `unavailable` errors resend the outbox
    a little later.
    """

    GAP_DELAY = 0.8

    def __init__(
        self,
        name: str,
        url: str,
        cookie: str,
        user_id: int,
        *,
        origin: str,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
        retry_after: dict | None = None,
        start_seq: int | None = None,
    ):
        self.name = name
        self.url = url
        self.cookie = cookie
        self.user_id = user_id
        self.origin = origin
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after = {"rate_limited": 2.0, "unavailable": 1.0, **(retry_after or {})}
        # Entries held, by seq; last_seq is the highest contiguous one.
        self.entries: dict[int, dict] = {}
        self.highest = 0
        self.first_seen: dict[int, float] = {}
        self.base_seq: int | None = start_seq
        self.last_seq: int | None = start_seq
        self.outbox: dict[str, str] = {}
        self.sent_at: dict[str, float] = {}
        self.acked: dict[str, dict] = {}
        self.acked_at: dict[str, float] = {}
        self.duplicates = 0
        self.conflicts: list[tuple[dict, dict]] = []
        self.errors: list[tuple[float, dict]] = []
        self.hellos: list[tuple[float, dict]] = []
        self.presence: list[tuple[float, set[int]]] = []
        self.closes: list[tuple[float, int | None]] = []
        self.connect_failures = 0
        self.resumes_sent = 0
        self.resume_requests: list[int] = []
        self.entries_by_resume = 0
        self.missed_at_hello: list[int] = []
        # (seconds from losing the connection to its hello, to being caught up)
        self.recoveries: list[tuple[float, float]] = []
        self.fatal_close: int | None = None
        self.ready = False
        self._ws = None
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._lost_at: float | None = None
        self._hello_at: float | None = None
        self._catch_up_to: int | None = None
        self._resume_outstanding = False
        self._gap_timer: asyncio.TimerHandle | None = None
        self._flush_timer: asyncio.TimerHandle | None = None
        self._connected = asyncio.Event()
        # Tasks started from timers: the loop keeps only weak references to them.
        self._background: set[asyncio.Future] = set()

    # -- life cycle --

    def start(self) -> RoomClient:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def started(self, timeout: float = 30) -> RoomClient:
        """Start and wait for the first hello."""
        self.start()
        await self.wait_connected(timeout)
        return self

    async def wait_connected(self, timeout: float = 30) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def stop(self) -> None:
        self._stopping = True
        for timer in (self._gap_timer, self._flush_timer):
            if timer is not None:
                timer.cancel()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 3)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def drop(self) -> None:
        """Close the socket from this side (a network blip); the client reconnects."""
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    def _backoff(self, attempts: int) -> float:
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** min(attempts, 8)))

    async def _run(self) -> None:
        from websockets.asyncio.client import connect

        attempts = 0
        while not self._stopping:
            try:
                ws = await connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=10,
                    close_timeout=2,
                    max_size=2**22,
                )
            except Exception:
                self.connect_failures += 1
                attempts += 1
                await asyncio.sleep(self._backoff(attempts))
                continue
            self._ws = ws
            try:
                async for text in ws:
                    frame = json.loads(text)
                    if frame.get("type") == "hello":
                        attempts = 0
                    await self._handle(ws, frame)
            except Exception:
                pass
            finally:
                self._ws = None
                self.ready = False
                self._resume_outstanding = False
                self._connected.clear()
                if self._gap_timer is not None:
                    self._gap_timer.cancel()
                    self._gap_timer = None
                now = time.monotonic()
                self.closes.append((now, ws.close_code))
                if self._lost_at is None and not self._stopping:
                    self._lost_at = now
            if ws.close_code in FATAL_CLOSE_CODES:
                self.fatal_close = ws.close_code
                return
            attempts += 1
            await asyncio.sleep(self._backoff(attempts))

    # -- frames --

    async def _send(self, ws, frame: dict) -> None:
        with contextlib.suppress(Exception):
            await ws.send(json.dumps(frame, ensure_ascii=False))

    async def _resume(self, ws, after_seq: int) -> None:
        self.resumes_sent += 1
        self.resume_requests.append(after_seq)
        self._resume_outstanding = True
        await self._send(ws, {"type": "resume", "after_seq": after_seq})

    async def _handle(self, ws, frame: dict) -> None:
        kind = frame.get("type")
        now = time.monotonic()
        if kind == "hello":
            self.hellos.append((now, frame))
            if self.last_seq is None:
                self.base_seq = self.last_seq = frame["last_seq"]
            self.presence.append((now, set(frame.get("online", []))))
            self.ready = True
            self._connected.set()
            self._hello_at = now
            self._catch_up_to = frame["last_seq"]
            self.missed_at_hello.append(max(0, frame["last_seq"] - self.last_seq))
            if frame["last_seq"] > self.last_seq:
                await self._resume(ws, self.last_seq)
            await self._flush(ws)
            self._check_caught_up(now)
        elif kind in ("message", "event"):
            self._place(frame, now)
            self._check_gap(ws)
            self._check_caught_up(now)
        elif kind == "resume.page":
            self.entries_by_resume += frame["last_seq"] - frame["after_seq"]
            if frame["more"]:
                await self._resume(ws, frame["last_seq"])
            else:
                self._resume_outstanding = False
        elif kind == "presence":
            self.presence.append((now, set(frame["online"])))
        elif kind == "error":
            self.errors.append((now, frame))
            delay = self.retry_after.get(frame.get("code"))
            if delay is not None and self._flush_timer is None:
                self._flush_timer = asyncio.get_running_loop().call_later(delay, self._flush_later)

    def _place(self, frame: dict, now: float) -> None:
        seq = frame["seq"]
        held = self.entries.get(seq)
        if held is not None:
            self.duplicates += 1
            if held.get("id") != frame.get("id"):
                self.conflicts.append((held, frame))
        else:
            self.entries[seq] = frame
            self.first_seen[seq] = now
            self.highest = max(self.highest, seq)
            while self.last_seq + 1 in self.entries:
                self.last_seq += 1
        client_id = frame.get("client_id")
        if frame["type"] == "message" and (frame.get("author") or {}).get("id") == self.user_id and client_id:
            if client_id in self.outbox:
                del self.outbox[client_id]
                self.acked[client_id] = frame
                self.acked_at[client_id] = now
            elif client_id in self.acked and self.acked[client_id]["seq"] != seq:
                self.conflicts.append((self.acked[client_id], frame))

    def _check_gap(self, ws) -> None:
        if self._gap_timer is not None or self.highest <= self.last_seq:
            return

        def fire():
            self._gap_timer = None
            if self._ws is ws and self.last_seq < self.highest and not self._resume_outstanding:
                self._in_background(self._resume(ws, self.last_seq))

        self._gap_timer = asyncio.get_running_loop().call_later(self.GAP_DELAY, fire)

    def _check_caught_up(self, now: float) -> None:
        if self._lost_at is None or self._catch_up_to is None or self._hello_at is None:
            return
        if self.last_seq >= self._catch_up_to:
            self.recoveries.append((self._hello_at - self._lost_at, now - self._lost_at))
            self._lost_at = None

    def _flush_later(self) -> None:
        self._flush_timer = None
        ws = self._ws
        if ws is not None and self.ready:
            self._in_background(self._flush(ws))

    def _in_background(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _flush(self, ws) -> None:
        for client_id, body in list(self.outbox.items()):
            await self._send(ws, {"type": "message.send", "client_id": client_id, "body": body})

    # -- what a test does --

    async def post(self, body: str) -> str:
        client_id = str(uuid.uuid4())
        self.outbox[client_id] = body
        self.sent_at[client_id] = time.monotonic()
        ws = self._ws
        if ws is not None and self.ready:
            await self._send(ws, {"type": "message.send", "client_id": client_id, "body": body})
        return client_id

    async def send_frame(self, frame: dict) -> None:
        ws = self._ws
        if ws is not None:
            await self._send(ws, frame)

    def holds_through(self, last_seq: int) -> bool:
        return self.last_seq is not None and self.last_seq >= last_seq

    def online_now(self) -> set[int]:
        return self.presence[-1][1] if self.presence else set()

    def received_since(self, after_seq: int) -> dict[int, dict]:
        return {seq: frame for seq, frame in self.entries.items() if seq > after_seq}


async def wait_until(predicate, timeout: float, description: str, interval: float = 0.05) -> float:
    """Wait for `predicate()`; returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s in vain for {description}")
        await asyncio.sleep(interval)
    return time.monotonic() - started


async def chatter(client: RoomClient, stop: asyncio.Event, *, interval: float, label: str, sent: list) -> None:
    """Post a message every `interval` seconds (jittered) until `stop`."""
    number = 0
    await asyncio.sleep(random.uniform(0, interval))
    while not stop.is_set():
        number += 1
        sent.append(await client.post(f"{label} #{number}"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), random.uniform(0.75 * interval, 1.25 * interval))


def expected_resumes(missed: int) -> int:
    return math.ceil(missed / RESUME_PAGE_SIZE)


# -- a client that stops reading -------------------------------------------------------


class RawSocket:
    """A WebSocket opened by hand on a socket with a small receive buffer, so that
    the test decides when (if ever) it reads."""

    def __init__(self, port: int, path: str, cookie: str, *, receive_buffer: int = 4096, segment: int = 1460):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        # An Ethernet-sized segment, as from a real client: with loopback's 64 KiB
        # segments the server's kernel would buffer megabytes before the process does.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, segment)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n"
            f"Cookie: {cookie}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"handshake refused: {status!r}")
        self.bytes_read = 0

    def _read_exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.bytes_read += len(chunk)
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame (server frames are not masked)."""
        first, second = self._read_exactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exactly(8))
        return first & 0x0F, self._read_exactly(length)

    def read_json(self) -> dict:
        while True:
            opcode, payload = self.read_frame()
            if opcode == 1:
                return json.loads(payload)
            if opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise ConnectionError(f"closed with {code}")

    def drain(self, timeout: float = 10) -> dict:
        """Read what is left: returns the close code if a close frame arrives, and how
        the connection ended otherwise."""
        self.sock.settimeout(timeout)
        frames = 0
        try:
            while True:
                opcode, payload = self.read_frame()
                if opcode == 8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    return {"close_code": code, "frames": frames, "end": "close frame"}
                frames += 1
        except (ConnectionError, OSError) as error:
            return {"close_code": None, "frames": frames, "end": type(error).__name__}

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


# -- people ---------------------------------------------------------------------------------


def add_participants(world, count: int, *, label: str = "") -> list:
    """`count` more people in the case, alternately for the plaintiff and the
    defendant: all of them are members of the joint room."""
    from django.db import transaction

    from mediation.services import cases
    from tests.factories import UserFactory

    parties = [world.plaintiff_participant.party, world.defendant_participant.party]
    users = []
    with transaction.atomic():
        for number in range(count):
            user = UserFactory(full_name=f"Participant {label}{number}")
            cases.attach_participant(
                case=world.case, party=parties[number % 2], user=user, role="agent", actor=world.mediator
            )
            users.append(user)
    return users


async def in_thread(function):
    """Run a database read from async code, in a thread whose connection is closed
    after it (an open connection would keep the test database from being dropped)."""
    from django.db import connection

    def call():
        try:
            return function()
        finally:
            connection.close()

    return await asyncio.to_thread(call)


def stored_entries(room_id: int, after_seq: int = 0) -> dict:
    from rooms.models import RoomEntry

    return {entry.seq: entry for entry in RoomEntry.objects.filter(room_id=room_id, seq__gt=after_seq)}


def assert_holds_exactly(client: RoomClient, stored: dict, after_seq: int) -> None:
    """The client holds every stored entry after `after_seq` once, as stored."""
    held = client.received_since(after_seq)
    assert sorted(held) == sorted(stored), (client.name, sorted(set(stored) ^ set(held))[:20])
    assert not client.conflicts, (client.name, client.conflicts[:3])
    for seq, frame in held.items():
        entry = stored[seq]
        assert frame["seq"] == entry.seq, (client.name, seq)
        assert frame["type"] == ("message" if entry.is_message else "event"), (client.name, seq)
        if entry.is_message:
            assert frame["client_id"] == str(entry.client_id), (client.name, seq)
            assert frame["body"] == entry.body, (client.name, seq)


def log_times(text: str, marker: str) -> list[float]:
    """The times (seconds since the epoch) of the log lines that contain `marker`
    (lines start with the logging module's `2026-01-01 12:00:00,123`)."""
    import datetime as dt

    times = []
    for line in text.splitlines():
        if marker in line:
            with contextlib.suppress(ValueError):
                times.append(dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return times
