"""How many room messages the real-time stack delivers, how fast, and whether any is
lost (issue 3's benchmark).

N clients (default 1,000) in M rooms of N/M (default 200 rooms of 5), each client
sending `message.send` at a fixed rate for a fixed time, against two servers in turn:

- ours: daphne serving the platform (`benchmarks/rooms_asgi.py`: the platform's ASGI
  application with the per-user message limit lifted) with REDIS_URL set (the room
  hub's Redis pub/sub fan-out and presence; a private redis-server the benchmark
  starts, unless --redis-url names one) on a PostgreSQL database of its own
  (`bench_rooms`, dropped and recreated), filled through the services: 200 mediation
  cases, each with a mediator, a judge and three participants in its joint room, and a
  signed-in session per user;
- the ceiling: a minimal uvicorn + `websockets` in-memory broadcast server
  (`benchmarks/_ceiling.py`), same frames, same rooms, no database.

The server (and Redis, and PostgreSQL's backends for the benchmark database) run on
CPU 0; the load generator (`benchmarks/_ws_load.py`, uvloop and a minimal WebSocket
client of its own) on CPU 1. For each run it prints delivered messages/s
(deliveries = messages x members: every member, the sender included, receives each
message), p50/p95/p99 latency from send to each receipt (the sender's timestamp is
inside the body), loss and duplicates per room by client_id and seq, the memory per
idle connection (server RSS with N idle connections minus RSS with none, divided by
N), CPU use of each process, and our figures beside the ceiling's with the ratio.

Then a restart storm (issue 22), --storms times per server (default 3; the median
counts): every client disconnects, the server restarts on the same port, and every
client connects again at once (--storm-concurrency handshakes in flight, by default
all of them), as clients do when the server they were on comes back. Timed from the
first connect to the last `hello`, ours beside Socket.IO's with the ratio and the
goal (at most 1.5x). `--storm-only` skips the message runs; with --profile, the first
storm of ours is profiled too (into FILE.storm).

    make bench-rooms                               # 1 msg/s per client for 20 s, both servers
    .venv/bin/python benchmarks/rooms.py --rate 1,2,4 --duration 15
    .venv/bin/python benchmarks/rooms.py --find-max            # highest rate with zero loss, p99 <= 250 ms
    .venv/bin/python benchmarks/rooms.py --profile var/bench/daphne.raw   # + py-spy profile of daphne
    .venv/bin/python benchmarks/rooms.py --targets ours,socketio --storm-only --reuse-db   # restart storms only

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_rooms, dropped and
recreated unless --reuse-db) chooses the database; before each run the rooms' tables
are vacuumed and analysed, as autovacuum would in a database in use. Redis is a
private `redis-server` on a free loopback port (the hub's channel names carry no
prefix, so a shared Redis would carry this run's traffic to any other server
subscribed to the same room ids);
`--redis-url` uses an existing one instead. Exits non-zero on any loss, duplicate,
seq conflict or refused message in a measured run (in --find-max mode: on duplicates
or seq conflicts at any rate, loss there being the stopping criterion).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rooms.server.cluster import end_processes  # noqa: E402

BIN = Path(sys.executable).parent
WORK_DIR = ROOT / "var" / "bench"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_rooms")
SETTINGS = "benchmarks.rooms_settings"
# Another ASGI application to serve as "ours" (an instrumented one, say).
OURS_APPLICATION = os.environ.get("BENCH_OURS_APPLICATION", "benchmarks.rooms_asgi:application")
SOCKETIO_PEER = ROOT / "benchmarks" / "peers" / "socketio"
LISTEN_BACKLOG = 1024
SERVER_CPU = 0
LOAD_CPU = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Issue 3's goals, and the find-max criterion of issue 6.
GOAL_P99_MS = 100
GOAL_RATIO = 0.5
GOAL_KB_PER_CONNECTION = 50
GOAL_KB_PER_CONNECTION_PEER = 30
# Issue 22: after a restart, every client reconnecting at once has its hello within
# this many times Socket.IO's time.
GOAL_STORM_RATIO = 1.5


# -- the benchmark database ----------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def recreate_database() -> None:
    import psycopg
    from psycopg import sql

    name = database_name(DATABASE_URL)
    with psycopg.connect(maintenance_url(DATABASE_URL), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_exists() -> bool:
    import psycopg

    with psycopg.connect(maintenance_url(DATABASE_URL), autocommit=True) as admin:
        row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(DATABASE_URL)]).fetchone()
        return row is not None


def set_up_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["DATABASE_URL"] = DATABASE_URL
    # This process only fills the database; it must not publish to the servers' Redis.
    os.environ["REDIS_URL"] = ""
    import django

    django.setup()


def signed_in_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def create_rooms(room_count: int, room_size: int) -> list[dict]:
    """`room_count` mediation cases, each with a mediator, a judge and room_size - 2
    participants (sides alternating), all in the case's joint room; a session each."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    from mediation.models import Department, RoomKind, User
    from mediation.roles import Role
    from mediation.services import cases
    from rooms.models import Room

    department = Department.objects.create(name="调解中心", code="bench-mediation")
    mediator_group = Group.objects.get_or_create(name=Role.MEDIATOR)[0]
    judge_group = Group.objects.get_or_create(name=Role.JUDGE)[0]
    rooms = []
    for number in range(room_count):
        with transaction.atomic():
            mediator = User.objects.create_user(
                f"mediator-{number}@bench.test", None, full_name=f"调解员{number}", department=department
            )
            mediator.groups.add(mediator_group)
            judge = User.objects.create_user(
                f"judge-{number}@bench.test", None, full_name=f"法官{number}", department=department
            )
            judge.groups.add(judge_group)
            case = cases.open_mediation_case(
                actor=mediator, cause_of_action="合同纠纷", claim_amount=500000, judge=judge
            )
            parties = {
                side: cases.add_party(case=case, actor=mediator, side=side, kind="organisation", name=f"{name}{number}")
                for side, name in (("plaintiff", "上海文化传媒有限公司"), ("defendant", "北京科技有限公司"))
            }
            people = [mediator, judge]
            for seat in range(room_size - 2):
                side = "plaintiff" if seat % 2 == 0 else "defendant"
                user = User.objects.create_user(
                    f"party-{number}-{seat}@bench.test", None, full_name=f"当事人{number}-{seat}"
                )
                cases.attach_participant(case=case, party=parties[side], user=user, role="agent", actor=mediator)
                people.append(user)
            room = Room.objects.get(case=case, kind=RoomKind.JOINT)
        rooms.append({"id": room.pk, "cookies": [signed_in_cookie(user) for user in people]})
    return rooms


def prepare_database(room_count: int, room_size: int, reuse: bool) -> list[dict]:
    fixtures = WORK_DIR / f"{database_name(DATABASE_URL)}-fixtures.json"
    wanted = {"database": DATABASE_URL, "rooms": room_count, "size": room_size}
    if reuse and fixtures.exists() and database_exists():
        saved = json.loads(fixtures.read_text())
        if {key: saved.get(key) for key in wanted} == wanted:
            print(f"Reusing {database_name(DATABASE_URL)} ({room_count} rooms of {room_size}).", flush=True)
            set_up_django()
            return saved["room_list"]
    started = time.monotonic()
    print(f"Recreating {database_name(DATABASE_URL)}, migrating ...", flush=True)
    recreate_database()
    set_up_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(f"Creating {room_count} cases with {room_count * room_size} users and sessions ...", flush=True)
    room_list = create_rooms(room_count, room_size)
    # Planner statistics, as a database in use has them: right after the load,
    # autovacuum has not analysed the new tables yet, and the first runs would be
    # measured with plans made for empty tables.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    fixtures.parent.mkdir(parents=True, exist_ok=True)
    fixtures.write_text(json.dumps({**wanted, "room_list": room_list}))
    print(f"Database ready in {time.monotonic() - started:.0f} s.", flush=True)
    return room_list


def stored_counts(client_ids: list[str]) -> tuple[int, int]:
    """(rows, distinct client_ids) stored in the database for these client_ids."""
    from django.db import connections
    from django.db.models import Count

    from rooms.models import RoomEntry

    rows = distinct = 0
    for start in range(0, len(client_ids), 5000):
        chunk = client_ids[start : start + 5000]
        for count in (
            RoomEntry.objects.filter(client_id__in=chunk)
            .values("client_id")
            .annotate(n=Count("id"))
            .values_list("n", flat=True)
        ):
            rows += count
            distinct += 1
    connections.close_all()
    return rows, distinct


# -- processes, CPUs and memory ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server exited with {process.returncode}; see {log}:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise SystemExit(f"The server did not listen on {port} within {timeout:.0f} s; see {log}")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def core_times() -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies per CPU, from /proc/stat."""
    cores = {}
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                values = [int(value) for value in values]
                idle = values[3] + values[4]
                cores[int(name[3:])] = (sum(values) - idle, sum(values))
    return cores


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    return 100 * (after[0] - before[0]) / max(1, after[1] - before[1])


def pin_all_threads(pid: int, cpus: set[int]) -> dict[int, set[int]]:
    """Pin every thread of `pid` to `cpus`; returns what to restore."""
    before = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            before[int(tid)] = os.sched_getaffinity(int(tid))
            os.sched_setaffinity(int(tid), cpus)
    return before


def restore_affinity(saved: dict[int, set[int]]) -> None:
    for tid, cpus in saved.items():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, cpus)


def redis_pid(url: str) -> int | None:
    import redis

    host = urlsplit(url).hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None
    try:
        return int(redis.Redis.from_url(url, socket_connect_timeout=2).info("server")["process_id"])
    except Exception:
        return None


class PrivateRedis:
    """A redis-server of the benchmark's own, without persistence, on the server CPU."""

    def __init__(self, pin: bool):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = WORK_DIR / "redis.log"
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        if pin:
            command = ["taskset", "-c", str(SERVER_CPU), *command]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        end_processes(self.process)


class PostgresPinner(threading.Thread):
    """Keeps the PostgreSQL backends serving the benchmark database on the server's
    CPU (a backend that a new connection starts is pinned within half a second), and
    keeps count of the CPU time they used."""

    def __init__(self, pin: bool = True):
        super().__init__(daemon=True)
        self.pin = pin
        self.stopped = threading.Event()
        self.cpu_by_pid: dict[int, float] = {}

    def backends(self, connection) -> list[int]:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database_name(DATABASE_URL)],
        ).fetchall()
        return [row[0] for row in rows]

    def run(self) -> None:
        import psycopg

        with psycopg.connect(maintenance_url(DATABASE_URL), autocommit=True) as connection:
            while True:
                for pid in self.backends(connection):
                    if self.pin and pid not in self.cpu_by_pid:
                        with contextlib.suppress(OSError):
                            os.sched_setaffinity(pid, {SERVER_CPU})
                    self.cpu_by_pid[pid] = cpu_seconds(pid) or self.cpu_by_pid.get(pid, 0.0)
                if self.stopped.wait(0.5):
                    return

    def cpu(self) -> float:
        """CPU seconds of every backend seen so far (a backend that ended counts with
        what it had used when last seen)."""
        for pid in list(self.cpu_by_pid):
            self.cpu_by_pid[pid] = cpu_seconds(pid) or self.cpu_by_pid[pid]
        return sum(self.cpu_by_pid.values())

    def stop(self) -> None:
        self.stopped.set()


# -- the servers ---------------------------------------------------------------------


@dataclass
class Server:
    name: str
    label: str
    command: list[str]
    env: dict
    uses_redis: bool = False
    uses_postgres: bool = False
    port: int = 0
    process: subprocess.Popen | None = None
    log: Path = Path()
    redis_saved: dict = field(default_factory=dict)
    redis_pid: int | None = None
    redis_url: str = ""
    private_redis: PrivateRedis | None = None
    pinner: PostgresPinner | None = None

    def start(self, pin: bool, pin_redis: bool, port: int = 0) -> None:
        self.port = port or free_port()
        self.log = WORK_DIR / f"{self.name}.log"
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        if pin:
            command = ["taskset", "-c", str(SERVER_CPU), *command]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.log)
        if self.private_redis is not None:
            self.redis_pid = self.private_redis.process.pid
        elif self.uses_redis:
            self.redis_pid = redis_pid(self.redis_url)
            if pin and pin_redis and self.redis_pid:
                self.redis_saved = pin_all_threads(self.redis_pid, {SERVER_CPU})
        if self.uses_postgres:
            self.pinner = PostgresPinner(pin)
            self.pinner.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu(self) -> dict[str, float]:
        figures = {"server": cpu_seconds(self.pid)}
        if self.redis_pid:
            figures["redis"] = cpu_seconds(self.redis_pid)
        if self.pinner:
            figures["postgres"] = self.pinner.cpu()
        return figures

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def restart(self, pin: bool, pin_redis: bool) -> None:
        """Stop the server and start it again on the same port, as a deployment
        restarts it: its clients reconnect to the address they know."""
        self.stop()
        self.start(pin, pin_redis, port=self.port)

    def stop(self) -> None:
        if self.pinner:
            self.pinner.stop()
        restore_affinity(self.redis_saved)
        self.redis_saved = {}
        if self.process is not None:
            end_processes(self.process)

    def log_problems(self) -> list[str]:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        markers = ("ERROR", "WARNING", "CRITICAL", "Traceback", "Exception")
        return [line for line in lines if any(marker in line for marker in markers)]


def install_socketio_peer() -> None:
    """The peer's Node packages, at the versions of its package-lock.json, from the
    npm registry (once)."""
    if not (SOCKETIO_PEER / "node_modules" / "socket.io").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SOCKETIO_PEER, check=True)


def servers(targets: list[str], redis_url: str, private_redis: PrivateRedis | None) -> list[Server]:
    python = str(BIN / "python")
    available = {
        "ours": Server(
            name="ours",
            label="daphne + Redis hub + PostgreSQL",
            # The listen backlog of docs/deployment.md (Twisted's default is 50; a
            # restart storm overflows it, and every dropped SYN costs its client 1, 3,
            # 7 ... s). Node's, for the peer, is 511.
            command=[
                str(BIN / "daphne"),
                "-e",
                f"tcp:port={{port}}:interface=127.0.0.1:backlog={LISTEN_BACKLOG}",
                OURS_APPLICATION,
            ],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": SETTINGS,
                "DATABASE_URL": DATABASE_URL,
                "REDIS_URL": redis_url,
                "PYTHONUNBUFFERED": "1",
            },
            uses_redis=True,
            uses_postgres=True,
            redis_url=redis_url,
            private_redis=private_redis,
        ),
        "socketio": Server(
            name="socketio",
            label="Socket.IO (Node) + Redis streams adapter, connection-state recovery",
            command=[
                shutil.which("node") or "node",
                str(SOCKETIO_PEER / "server.js"),
                "--port",
                "{port}",
                "--redis",
                redis_url or "",
            ],
            env={**os.environ},
            uses_redis=True,
            redis_url=redis_url,
            private_redis=private_redis,
        ),
        "ceiling": Server(
            name="ceiling",
            label="uvicorn + websockets, in memory",
            command=[python, str(ROOT / "benchmarks" / "_ceiling.py"), "--port", "{port}"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        ),
    }
    return [available[name] for name in targets]


# -- the load generators -------------------------------------------------------------


class Generators:
    """K generator processes on the load CPU, each with whole rooms."""

    def __init__(self, server: Server, room_list: list[dict], count: int, concurrency: int, pin: bool):
        self.processes = []
        for number in range(count):
            spec = WORK_DIR / f"load-{server.name}-{number}.json"
            spec.write_text(
                json.dumps(
                    {
                        "url": f"ws://127.0.0.1:{server.port}",
                        "protocol": "socketio" if server.name == "socketio" else "platform",
                        "origin": f"http://127.0.0.1:{server.port}",
                        "rooms": room_list[number::count],
                        "seed": number + 1,
                        "concurrency": max(1, concurrency // count),
                    }
                )
            )
            command = [str(BIN / "python"), str(ROOT / "benchmarks" / "_ws_load.py"), "--spec", str(spec)]
            if pin:
                command += ["--cpu", str(LOAD_CPU)]
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.processes.append(process)
        for process in self.processes:
            self.read(process)

    @staticmethod
    def read(process: subprocess.Popen) -> dict:
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"A load generator exited with {process.wait()}")
        return json.loads(line)

    def tell(self, command: dict, only_first: bool = False) -> list[dict]:
        processes = self.processes[:1] if only_first else self.processes
        for process in processes:
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
        return [self.read(process) for process in processes]

    def cpu(self) -> float:
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(Exception):
                    process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                    process.stdin.flush()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- figures -------------------------------------------------------------------------


def merge_histograms(histograms: list[dict]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for key, count in histogram.items():
            merged[int(key)] = merged.get(int(key), 0) + count
    return merged


def percentile(histogram: dict[int, int], fraction: float, unit: float) -> float:
    total = sum(histogram.values())
    if not total:
        return float("nan")
    rank = fraction * total
    seen = 0
    for key in sorted(histogram):
        seen += histogram[key]
        if seen >= rank:
            return (key + 1) * unit
    return max(histogram) * unit


@dataclass
class Run:
    target: str
    rate: float
    clients: int
    members: int
    sent: int = 0
    expected: int = 0
    received: int = 0
    delivered_per_s: float = 0.0
    p50: float = float("nan")
    p95: float = float("nan")
    p99: float = float("nan")
    max: float = float("nan")
    lost: int = 0
    unacknowledged: int = 0
    duplicates: int = 0
    seq_conflicts: int = 0
    seq_gaps: int = 0
    errors: dict = field(default_factory=dict)
    send_failures: int = 0
    disconnects: int = 0
    lag_p99_ms: float = 0.0
    achieved_send_rate: float = 0.0
    cpu: dict = field(default_factory=dict)
    cores: dict = field(default_factory=dict)
    stored_rows: int | None = None
    stored_distinct: int | None = None
    rss_after_kb: int = 0
    stray: int = 0
    drain_seconds: float = 0.0

    @property
    def offered_per_s(self) -> float:
        return self.rate * self.clients * self.members

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def broken(self) -> bool:
        """Wrong whatever the load: something delivered twice or out of sequence."""
        stored_twice = self.stored_rows is not None and self.stored_rows != self.stored_distinct
        return bool(self.duplicates or self.seq_conflicts or stored_twice)

    @property
    def lossless(self) -> bool:
        return not (self.lost or self.seq_gaps or self.error_count or self.send_failures or self.disconnects)

    def good(self, max_p99: float) -> bool:
        return self.lossless and not self.broken and self.p99 <= max_p99


def vacuum_rooms() -> None:
    """What autovacuum does in a database in use (it may be off here, as it is on the
    machine these figures come from): every stored batch updates its rooms' last_seq,
    and without a vacuum the rooms table grows with each run, each run slower than the
    one before by what the runs before it left behind."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) rooms_room, rooms_roomentry")
    connections.close_all()


def run_step(server: Server, generators: Generators, args, rate: float, duration: float, check_store: bool) -> Run:
    if check_store:
        vacuum_rooms()
    clients = args.clients
    start_ns = time.monotonic_ns() + 500_000_000
    cpu_before, gen_before, cores_before = server.cpu(), generators.cpu(), core_times()
    results = generators.tell(
        {
            "cmd": "run",
            "rate": rate,
            "duration": duration,
            "warmup": args.warmup,
            "drain": args.drain,
            "start_ns": start_ns,
        }
    )
    wall = (time.monotonic_ns() - start_ns) / 1e9
    cpu_after, gen_after, cores_after = server.cpu(), generators.cpu(), core_times()
    run = Run(server.name, rate, clients, clients // args.rooms)
    latency = merge_histograms([result["latency"] for result in results])
    lag = merge_histograms([result["lag_ms"] for result in results])
    for key in ("sent", "expected", "received", "lost", "unacknowledged", "duplicates", "seq_conflicts", "seq_gaps"):
        setattr(run, key, sum(result[key] for result in results))
    run.send_failures = sum(result["send_failures"] for result in results)
    run.disconnects = sum(result["disconnects"] for result in results)
    run.stray = sum(result["stray"] for result in results)
    for result in results:
        for code, count in result["errors"].items():
            run.errors[code] = run.errors.get(code, 0) + count
    window = results[0]["window_seconds"]
    run.delivered_per_s = sum(result["window_receipts"] for result in results) / window if window else 0.0
    run.p50, run.p95, run.p99 = (percentile(latency, q, 0.1) for q in (0.50, 0.95, 0.99))
    run.max = (max(latency) + 1) * 0.1 if latency else float("nan")
    run.lag_p99_ms = percentile(lag, 0.99, 1.0)
    send_seconds = max(result["send_seconds"] for result in results)
    run.achieved_send_rate = run.sent / send_seconds / clients if send_seconds else 0.0
    run.drain_seconds = max(result["drain_seconds"] for result in results)
    run.cpu = {name: 100 * (cpu_after[name] - cpu_before.get(name, 0.0)) / wall for name in cpu_after}
    run.cpu["generator"] = 100 * (gen_after - gen_before) / wall
    run.cores = {core: busy_percent(cores_before[core], cores_after[core]) for core in cores_after}
    if server.alive():
        run.rss_after_kb = rss_kb(server.pid)
    if check_store:
        run.stored_rows, run.stored_distinct = stored_counts(
            [client_id for result in results for client_id in result["client_ids"]]
        )
    return run


def describe(run: Run) -> str:
    errors = ",".join(f"{code}={count}" for code, count in sorted(run.errors.items())) or "0"
    stored = ""
    if run.stored_rows is not None:
        stored = f" stored {run.stored_distinct}/{run.sent}" + (
            f" ({run.stored_rows - run.stored_distinct} twice!)" if run.stored_rows != run.stored_distinct else ""
        )
    cpu = " ".join(f"{name} {value:.0f}%" for name, value in run.cpu.items())
    cores = " ".join(f"cpu{core} {value:.0f}%" for core, value in sorted(run.cores.items()))
    return (
        f"  {run.target:8} rate {run.rate:g}/s: sent {run.sent} (achieved {run.achieved_send_rate:.2f}/s per client, "
        f"send lag p99 {run.lag_p99_ms:.0f} ms), delivered {run.received}/{run.expected} "
        f"= {run.delivered_per_s:,.0f}/s, p50 {run.p50:.1f} p95 {run.p95:.1f} p99 {run.p99:.1f} max {run.max:.0f} ms; "
        f"lost {run.lost} (unacked {run.unacknowledged}), dup {run.duplicates}, seq gaps {run.seq_gaps}, "
        f"seq conflicts {run.seq_conflicts}, errors {errors}, send failures {run.send_failures}, "
        f"disconnects {run.disconnects}, stray {run.stray}, drain {run.drain_seconds:.1f} s{stored}; "
        f"CPU {cpu}; {cores}; RSS {run.rss_after_kb / 1024:.0f} MB"
    )


# -- profiling -----------------------------------------------------------------------


def profile_summary(raw: Path, top: int = 25) -> str:
    """Inclusive and self shares of the busiest functions in py-spy's raw
    (collapsed-stack) output."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        total += count
        frames = [frame for frame in stack.split(";") if frame and not frame.startswith(("process ", "thread "))]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        return "  (no samples)"
    lines = [f"  {total} samples (active threads only)", "  self time:"]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    lines.append("  inclusive (selected):")
    for frame, count in sorted(inclusive.items(), key=lambda item: -item[1])[: top * 2]:
        lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)


def start_profiler(server: Server, args, output: Path, seconds: int | None) -> subprocess.Popen | None:
    """py-spy recording `server` into `output` for `seconds` (None: until stopped)."""
    spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy is not installed (pip install py-spy); no profile.")
        return None
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [spy, "record", "--pid", str(server.pid), "--rate", "100"]
    if not args.no_pin:
        command = ["taskset", "-c", str(LOAD_CPU), *command]
    if seconds is not None:
        command += ["--duration", str(seconds)]
    command += ["--nonblocking", "--format", "raw", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish_profiler(spy_process: subprocess.Popen, output: Path, server: Server) -> bool:
    """Wait for py-spy (stopping it first if it records until stopped) and print the
    summary of what it recorded."""
    if spy_process.poll() is None and "--duration" not in spy_process.args:
        spy_process.send_signal(signal.SIGINT)
    _out, errors = spy_process.communicate(timeout=60)
    output = output.resolve()
    if not output.exists():
        print(f"py-spy failed ({spy_process.returncode}): {errors.strip()[-500:]}")
        return False
    print(f"Profile of {server.name} (py-spy raw stacks in {output}):")
    print(profile_summary(output))
    return True


def profile(server: Server, generators: Generators, args, rate: float) -> Run | None:
    output = Path(args.profile)
    seconds = max(1, int(args.duration - args.warmup))
    spy_process = start_profiler(server, args, output, seconds)
    if spy_process is None:
        return None
    settle(server, generators, args)
    print(f"Profiling {server.name} with py-spy for {seconds} s at {rate:g} msg/s per client ...", flush=True)
    run = run_step(server, generators, args, rate, args.duration, check_store=False)
    print(describe(run))
    finish_profiler(spy_process, output, server)
    return run


# -- a whole target ------------------------------------------------------------------


@dataclass
class Outcome:
    server: Server
    runs: list[Run] = field(default_factory=list)
    idle_kb_per_connection: float = float("nan")
    rss_empty_kb: int = 0
    rss_idle_kb: int = 0
    connect_seconds: float = 0.0
    best: Run | None = None
    first_bad: Run | None = None
    problems: list[str] = field(default_factory=list)
    profile_run: Run | None = None
    storms: list[dict] = field(default_factory=list)

    @property
    def storm_seconds(self) -> float:
        """The median storm: from the first connect to the last hello."""
        return statistics.median(storm["seconds"] for storm in self.storms) if self.storms else float("nan")


def measure(server: Server, room_list: list[dict], args) -> Outcome:
    outcome = Outcome(server)
    print(f"\n== {server.name}: {server.label} ==", flush=True)
    server.start(pin=not args.no_pin, pin_redis=not args.no_pin_redis)
    generators = None
    try:
        generators = Generators(server, room_list, args.generators, args.connect_concurrency, pin=not args.no_pin)
        warm = generators.tell({"cmd": "warmup"}, only_first=True)[0]
        if warm["failed"]:
            raise SystemExit(f"Warm-up connections failed: {warm['first_failures']}\n{tail(server.log)}")
        time.sleep(args.settle)
        outcome.rss_empty_kb = rss_kb(server.pid)
        reports = generators.tell({"cmd": "connect"})
        connected = sum(report["connected"] for report in reports)
        outcome.connect_seconds = max(report["seconds"] for report in reports)
        if connected != args.clients:
            failures = [failure for report in reports for failure in report["first_failures"]]
            raise SystemExit(f"Only {connected}/{args.clients} clients connected: {failures}\n{tail(server.log)}")
        time.sleep(args.settle)
        outcome.rss_idle_kb = rss_kb(server.pid)
        outcome.idle_kb_per_connection = (outcome.rss_idle_kb - outcome.rss_empty_kb) / args.clients
        print(
            f"  {connected} clients connected in {outcome.connect_seconds:.1f} s; "
            f"RSS {outcome.rss_empty_kb / 1024:.1f} MB with none, "
            f"{outcome.rss_idle_kb / 1024:.1f} MB idle with {connected}: "
            f"{outcome.idle_kb_per_connection:.1f} KB per connection",
            flush=True,
        )
        check_store = server.uses_postgres
        if args.storm_only:
            pass
        elif args.find_max:
            find_max(server, generators, args, outcome, check_store)
        else:
            for rate in args.rates:
                run = run_step(server, generators, args, rate, args.duration, check_store)
                outcome.runs.append(run)
                print(describe(run), flush=True)
                if not server.alive():
                    break
                settle(server, generators, args)
        if args.profile and server.name == "ours" and server.alive() and not args.storm_only:
            rate = outcome.best.rate if outcome.best else args.rates[0]
            outcome.profile_run = profile(server, generators, args, args.profile_rate or rate)
        for number in range(args.storms):
            if not server.alive():
                break
            outcome.storms.append(storm(server, generators, args, number))
        status = generators.tell({"cmd": "status"})
        closes = {}
        for report in status:
            for reason, count in report["unexpected_closes"].items():
                closes[reason] = closes.get(reason, 0) + count
        if closes:
            print(f"  unexpected closes over the whole run: {closes}")
    finally:
        if generators is not None:
            generators.stop()
        alive = server.alive()
        server.stop()
        outcome.problems = server.log_problems()
        if not alive:
            outcome.problems.insert(0, f"server exited with {server.process.returncode}")
    return outcome


def storm(server: Server, generators: Generators, args, number: int) -> dict:
    """A restart storm: every client disconnects, the server restarts on the same port,
    and every client connects again at once (at most --storm-concurrency handshakes in
    flight), each waiting for its hello. Timed from the first connect to the last
    hello, by the generators. With --profile, the first storm of ours is profiled."""
    generators.tell({"cmd": "disconnect"})
    server.restart(pin=not args.no_pin, pin_redis=not args.no_pin_redis)
    spy_process = None
    if args.profile and server.name == "ours" and number == 0:
        spy_process = start_profiler(server, args, Path(str(args.profile) + ".storm"), seconds=None)
    cpu_before = server.cpu()
    reports = generators.tell({"cmd": "connect", "concurrency": max(1, args.storm_concurrency // args.generators)})
    cpu_after = server.cpu()
    connected = sum(report["connected"] for report in reports)
    result = {
        "connected": connected,
        "seconds": max(report["seconds"] for report in reports),
        "p50_seconds": max(report["p50_seconds"] or 0 for report in reports),
        "p99_seconds": max(report["p99_seconds"] or 0 for report in reports),
        "cpu": {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after},
    }
    cpu = " ".join(f"{name} {value:.1f} s" for name, value in result["cpu"].items())
    print(
        f"  storm {number + 1}: {connected}/{args.clients} clients connected and had their hello "
        f"{result['seconds']:.2f} s after the first connect (half by {result['p50_seconds']:.2f} s, "
        f"99 % by {result['p99_seconds']:.2f} s); CPU {cpu}",
        flush=True,
    )
    if connected != args.clients:
        failures = [failure for report in reports for failure in report["first_failures"]]
        print(f"  storm {number + 1}: {args.clients - connected} clients failed: {failures}")
    if spy_process is not None:
        finish_profiler(spy_process, Path(str(args.profile) + ".storm"), server)
    return result


def find_max(server: Server, generators: Generators, args, outcome: Outcome, check_store: bool) -> None:
    """Raise the per-client rate by --factor until a run loses anything or its p99
    exceeds --max-p99 (or, if the first rate already fails, lower it until one
    passes); then bisect --refine times between the last good rate and the first bad."""

    def attempt(rate: float) -> Run:
        run = run_step(server, generators, args, rate, args.duration, check_store)
        outcome.runs.append(run)
        print(describe(run) + ("  -> ok" if run.good(args.max_p99) else "  -> over the limit"), flush=True)
        settle(server, generators, args)
        return run

    good = bad = None
    rate = args.rates[0]
    run = attempt(rate)
    if run.good(args.max_p99):
        good = run
        while server.alive() and round(rate * args.factor, 3) <= args.max_rate:
            rate = round(rate * args.factor, 3)
            run = attempt(rate)
            if not run.good(args.max_p99):
                bad = run
                break
            good = run
    else:
        bad = run
        while server.alive() and round(rate / args.factor, 3) >= args.min_rate:
            rate = round(rate / args.factor, 3)
            run = attempt(rate)
            if run.good(args.max_p99):
                good = run
                break
            bad = run
    for _ in range(args.refine if good and bad else 0):
        if not server.alive():
            break
        run = attempt(round((good.rate + bad.rate) / 2, 3))
        if run.good(args.max_p99):
            good = run
        else:
            bad = run
    outcome.best, outcome.first_bad = good, bad


def settle(server: Server, generators: Generators, args) -> None:
    """Let a backlog from the previous run drain before the next one starts."""
    if server.alive():
        generators.tell({"cmd": "quiet", "seconds": args.cool_down, "timeout": args.settle_timeout})


# -- report --------------------------------------------------------------------------


def ratio(ours: float, ceiling: float) -> str:
    if not ceiling or ours != ours or ceiling != ceiling:
        return "-"
    return f"{ours / ceiling:.2f}x"


def print_report(outcomes: dict[str, Outcome], args) -> None:
    print()
    print(
        f"{args.clients} clients in {args.rooms} rooms of {args.clients // args.rooms}; {args.duration:g} s per run "
        f"(first {args.warmup:g} s not in the latency figures); "
        + ("nothing pinned" if args.no_pin else f"server on CPU {SERVER_CPU}, generator on CPU {LOAD_CPU}")
    )
    header = (
        f"{'server':9}{'rate':>6}{'offered/s':>11}{'delivered/s':>13}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'lost':>7}{'dup':>5}{'err':>6}{'srv cpu':>9}{'redis':>7}{'pg':>6}{'gen cpu':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, outcome in outcomes.items():
        for run in outcome.runs:
            print(
                f"{name:9}{run.rate:>6g}{run.offered_per_s:>11,.0f}{run.delivered_per_s:>13,.0f}{run.p50:>9.1f}"
                f"{run.p95:>9.1f}{run.p99:>9.1f}{run.max:>9.0f}{run.lost:>7}{run.duplicates:>5}{run.error_count:>6}"
                f"{run.cpu.get('server', 0):>8.0f}%{run.cpu.get('redis', 0):>6.0f}%{run.cpu.get('postgres', 0):>5.0f}%"
                f"{run.cpu.get('generator', 0):>8.0f}%"
            )
    print()
    ours = outcomes.get("ours")
    for name, outcome in outcomes.items():
        print(
            f"{name:9} memory per idle connection: {outcome.idle_kb_per_connection:.1f} KB "
            f"(RSS {outcome.rss_empty_kb / 1024:.1f} MB with none, {outcome.rss_idle_kb / 1024:.1f} MB "
            f"with {args.clients}); connecting took {outcome.connect_seconds:.1f} s"
        )
    if args.find_max:
        for name, outcome in outcomes.items():
            best = outcome.best
            if best:
                print(
                    f"{name:9} highest good rate {best.rate:g} msg/s per client: {best.delivered_per_s:,.0f} "
                    f"deliveries/s, p99 {best.p99:.1f} ms"
                    + (f" (first over: {outcome.first_bad.rate:g}/s)" if outcome.first_bad else "")
                )
            else:
                print(f"{name:9} no rate from {args.rates[0]:g} up met zero loss and p99 <= {args.max_p99:g} ms")
    for peer_name in ("socketio", "ceiling"):
        peer = outcomes.get(peer_name)
        if not (ours and peer):
            continue
        print(
            f"ours / {peer_name}: memory per idle connection "
            f"{ratio(ours.idle_kb_per_connection, peer.idle_kb_per_connection)}",
            end="",
        )
        if args.find_max and ours.best and peer.best:
            print(
                f"; capacity {ratio(ours.best.delivered_per_s, peer.best.delivered_per_s)} deliveries/s, "
                f"p99 at capacity {ratio(ours.best.p99, peer.best.p99)}"
            )
        else:
            print()
        # The same load for both: in --find-max mode, the rates both servers ran.
        by_rate = {run.rate: run for run in peer.runs}
        p99_ratios = []
        for run in sorted(ours.runs, key=lambda each: each.rate):
            other = by_rate.get(run.rate)
            if other:
                print(
                    f"  at {run.rate:g} msg/s per client: delivered/s "
                    f"{ratio(run.delivered_per_s, other.delivered_per_s)}, p99 {ratio(run.p99, other.p99)}"
                    f" ({run.p99:.1f} against {other.p99:.1f} ms)"
                )
                if all(each.lossless and not each.broken for each in (run, other)):
                    p99_ratios.append(run.p99 / other.p99)
        if p99_ratios:
            # One p99 against another at each server's own highest good rate compares two
            # loads, and a server whose p99 rises with the load shows one near the bound
            # there; at the same load the comparison is like for like.
            print(
                f"  p99 at the same load, the {len(p99_ratios)} rates both ran without loss: ours lower at "
                f"{sum(1 for each in p99_ratios if each < 1)}, higher at {sum(1 for each in p99_ratios if each > 1)}; "
                f"median ratio {statistics.median(p99_ratios):.2f}x"
            )
    if ours:
        goal_lines = []
        runs = [ours.best] if args.find_max and ours.best else ours.runs
        for run in runs:
            goal_lines.append(
                f"rate {run.rate:g}: zero loss {'met' if run.lossless and not run.broken else 'MISSED'}, "
                f"p99 <= {GOAL_P99_MS} ms {'met' if run.p99 <= GOAL_P99_MS else 'MISSED'}"
            )
        ceiling = outcomes.get("ceiling")
        if ceiling and args.find_max and ours.best and ceiling.best:
            share = ours.best.delivered_per_s / ceiling.best.delivered_per_s
            verdict = "met" if share >= GOAL_RATIO else "MISSED"
            goal_lines.append(f">= {GOAL_RATIO}x the ceiling {verdict} ({share:.2f}x)")
        kb = ours.idle_kb_per_connection
        goal_lines.append(f"<= {GOAL_KB_PER_CONNECTION} KB per idle connection {'met' if kb <= 50 else 'MISSED'}")
        print("issue 3 goals (ours): " + "; ".join(goal_lines))
        peer = outcomes.get("socketio")
        if peer and args.find_max and ours.best and peer.best:
            print(
                "issue 6 goals (ours): deliveries/s >= Socket.IO "
                f"{'met' if ours.best.delivered_per_s >= peer.best.delivered_per_s else 'MISSED'}, "
                f"p99 <= Socket.IO's {'met' if ours.best.p99 <= peer.best.p99 else 'MISSED'}, "
                f"<= {GOAL_KB_PER_CONNECTION_PEER} KB per connection "
                f"{'met' if ours.idle_kb_per_connection <= GOAL_KB_PER_CONNECTION_PEER else 'MISSED'}"
            )
    for name, outcome in outcomes.items():
        if outcome.problems:
            print(f"\n{name}: {len(outcome.problems)} warning/error lines in {outcome.server.log}; the first ones:")
            for line in outcome.problems[:10]:
                print(f"  {line[:300]}")
    print_storms(outcomes, args)
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other work on this machine counts)")


def print_storms(outcomes: dict[str, Outcome], args) -> None:
    stormed = {name: outcome for name, outcome in outcomes.items() if outcome.storms}
    if not stormed:
        return
    print(
        f"\nrestart storm: {args.clients} clients reconnect at once after a restart "
        f"(at most {args.storm_concurrency} handshakes in flight); first connect to last hello, "
        f"median of {args.storms}:"
    )
    for name, outcome in stormed.items():
        each = ", ".join(f"{storm['seconds']:.2f}" for storm in outcome.storms)
        print(f"  {name:9}{outcome.storm_seconds:>7.2f} s  (each: {each} s)")
    ours, peer = stormed.get("ours"), stormed.get("socketio")
    if ours and peer:
        share = ours.storm_seconds / peer.storm_seconds
        verdict = "met" if share <= GOAL_STORM_RATIO else "MISSED"
        print(f"  ours / socketio: {share:.2f}x; issue 22 goal <= {GOAL_STORM_RATIO}x {verdict}")


def failed(outcomes: dict[str, Outcome], args) -> list[str]:
    reasons = []
    for name, outcome in outcomes.items():
        for run in outcome.runs:
            if run.broken:
                reasons.append(f"{name} at {run.rate:g}/s: duplicates or seq conflicts")
            elif not args.find_max and not run.lossless:
                reasons.append(f"{name} at {run.rate:g}/s: lost, refused or undelivered messages")
        if args.find_max and outcome.best is None:
            reasons.append(f"{name}: no rate met zero loss and p99 <= {args.max_p99:g} ms")
        if any(storm["connected"] != args.clients for storm in outcome.storms):
            reasons.append(f"{name}: clients failed to connect in a restart storm")
        if any(line.startswith("server exited") for line in outcome.problems):
            reasons.append(f"{name}: {outcome.problems[0]}")
    return reasons


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000, help="WebSocket clients (default 1000)")
    parser.add_argument("--rooms", type=int, default=200, help="rooms; clients/rooms members each (default 200)")
    parser.add_argument(
        "--rate", default="1", help="messages/s per client; a comma-separated list runs a sweep (default 1)"
    )
    parser.add_argument("--duration", type=float, default=20, help="seconds of sending per run (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="first seconds left out of the figures (default 3)")
    parser.add_argument("--drain", type=float, default=15, help="seconds to wait for the last receipts (default 15)")
    parser.add_argument("--find-max", action="store_true", help="raise the rate until loss or p99 > --max-p99")
    parser.add_argument("--max-p99", type=float, default=250, help="p99 limit for --find-max, ms (default 250)")
    parser.add_argument("--factor", type=float, default=1.5, help="rate multiplier per --find-max step (default 1.5)")
    parser.add_argument("--refine", type=int, default=1, help="bisection steps after the first bad rate (default 1)")
    parser.add_argument("--max-rate", type=float, default=100, help="highest rate --find-max tries (default 100)")
    parser.add_argument("--min-rate", type=float, default=0.01, help="lowest rate --find-max tries (default 0.01)")
    parser.add_argument(
        "--cool-down", type=float, default=2, help="between runs, wait for this long a silence, s (default 2)"
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=120, help="longest wait for that silence, s (default 120)"
    )
    parser.add_argument(
        "--targets", default="ours,socketio,ceiling", help="servers to measure (default ours,socketio,ceiling)"
    )
    parser.add_argument("--generators", type=int, default=1, help="load generator processes, all on CPU 1 (default 1)")
    parser.add_argument("--connect-concurrency", type=int, default=50, help="handshakes in flight (default 50)")
    parser.add_argument(
        "--storms", type=int, default=3, help="restart storms after the runs; the median counts (default 3, 0: none)"
    )
    parser.add_argument("--storm-only", action="store_true", help="measure the restart storms only, no message runs")
    parser.add_argument(
        "--storm-concurrency", type=int, help="handshakes in flight during a storm (default: every client at once)"
    )
    parser.add_argument("--settle", type=float, default=3, help="pause before reading RSS, s (default 3)")
    parser.add_argument("--profile", metavar="FILE", help="after the runs, profile daphne with py-spy into FILE")
    parser.add_argument("--profile-rate", type=float, help="rate of the profiled run (default: best or first rate)")
    parser.add_argument("--reuse-db", action="store_true", help="keep the benchmark database if it fits")
    parser.add_argument("--redis-url", help="use this Redis instead of starting a private redis-server")
    parser.add_argument("--no-pin-redis", action="store_true", help="leave --redis-url's CPU affinity alone")
    parser.add_argument("--no-pin", action="store_true", help="pin nothing (a diagnostic: figures not comparable)")
    args = parser.parse_args(argv)
    args.rates = [float(rate) for rate in args.rate.split(",")]
    args.storm_concurrency = args.storm_concurrency or args.clients
    if args.storm_only and not args.storms:
        parser.error("--storm-only needs --storms of at least 1")
    args.targets = [name.strip() for name in args.targets.split(",") if name.strip()]
    if args.clients % args.rooms or args.clients // args.rooms < 2:
        parser.error("--clients must be a multiple of --rooms, with at least 2 members per room")
    if not set(args.targets) <= {"ours", "socketio", "ceiling"}:
        parser.error("--targets takes ours, socketio and/or ceiling")
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if not {SERVER_CPU, LOAD_CPU} <= os.sched_getaffinity(0):
        raise SystemExit(f"This benchmark needs CPUs {SERVER_CPU} and {LOAD_CPU}; it may use {os.sched_getaffinity(0)}")
    if not args.no_pin:
        os.sched_setaffinity(0, {LOAD_CPU})
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    room_list = []
    if "socketio" in args.targets:
        install_socketio_peer()
    if "ours" in args.targets:
        room_list = prepare_database(args.rooms, args.clients // args.rooms, args.reuse_db)
    else:
        size = args.clients // args.rooms
        room_list = [{"id": number + 1, "cookies": ["sessionid=none"] * size} for number in range(args.rooms)]
    outcomes = {}
    private_redis = None
    redis_url = args.redis_url
    try:
        if {"ours", "socketio"} & set(args.targets) and not redis_url:
            private_redis = PrivateRedis(pin=not args.no_pin)
            redis_url = private_redis.url
        for server in servers(args.targets, redis_url, private_redis):
            outcomes[server.name] = measure(server, room_list, args)
    finally:
        if private_redis is not None:
            private_redis.stop()
    print_report(outcomes, args)
    reasons = failed(outcomes, args)
    print(f"Total {time.monotonic() - started:.0f} s")
    if reasons:
        print("FAILED: " + "; ".join(reasons))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
