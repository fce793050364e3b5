"""How many streams one Janus server forwards on one core, with how much loss, and how
fast a subscriber sees video (issue 21's benchmark).

A Janus of its own, started from the platform's generated configuration
(`rooms.media.config.write_media_config`, a free loopback port) and pinned to CPU 0
(`taskset -c 0`), with one VideoRoom created by the platform's own request
(`rooms.media.servers.videoroom_settings`: private, join token, VP8 + Opus, 512 kbit/s).
Then:

- one publisher (`benchmarks/_media_publisher.py`): Debian's Chromium with its fake
  camera and microphone (`--use-fake-device-for-media-stream
  --use-fake-ui-for-media-stream`), driven by Playwright through a page of a few lines
  that speaks Janus's protocol itself (no janus.js needed), publishing VP8 video and
  Opus audio;
- N subscribers (N = 5, 10, 20, 40, a fresh set each round), each an aiortc
  RTCPeerConnection with its own Janus session subscribing to the publisher's feed,
  joining one after the other (--join-interval apart), in worker processes of
  --per-worker subscribers each (`benchmarks/_media_subscribers.py`). The subscribers
  decode nothing: aiortc's decoder is replaced in the workers by one that only notes
  the first VP8 key frame, so the client side stays light. They run with Chromium on
  CPU 1.

Per round it prints Janus's CPU over a steady window (--window seconds, from
/proc/<pid>/stat) as % of one core, per subscriber feed and per forwarded track
(forwarded tracks = N x 2: audio and video), the packet loss the subscribers saw
(aiortc's inbound-rtp packetsLost / packetsReceived over the window; retransmission
by RTX is not negotiated, so a packet lost and re-sent counts as received), the
packets each subscriber received per second beside what the publisher sent, the join
time (from opening the subscriber's socket to Janus to its first complete VP8 key
frame: what a person waits for before seeing the picture) p50/p95/max, each CPU's
busy share (other work on the machine shows there) and the subscribers' own CPU.
Then the ratio to the goal of the issue: 40 feeds on one core (Janus's CPU at N = 40,
or projected from the largest N run, against 100 % of one core), loss under 1 % and
join p95 under 2 s.

    make bench-media                                  # N = 5, 10, 20, 40; 10 s windows
    .venv/bin/python benchmarks/media.py --quick      # N = 5, a 3 s window (< 30 s)
    .venv/bin/python benchmarks/media.py --subscribers 40,60 --window 20

Exits non-zero when a subscriber could not join or the publisher could not publish.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _media_publisher import Publisher  # noqa: E402
from _media_subscribers import JOIN_TIMEOUT_SECONDS, subscriber_worker  # noqa: E402

JANUS_CPU = 0
CLIENT_CPU = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TRACKS_PER_FEED = 2  # audio and video

# Issue 21's goal: 40 forwarded streams on one core, loss under 1 %, join under 2 s.
GOAL_FEEDS = 40
GOAL_CPU_PERCENT = 100.0
GOAL_LOSS_PERCENT = 1.0
GOAL_JOIN_SECONDS = 2.0

# The fake camera gives 20 frames/s; fewer means the publisher's encoder was starved.
PUBLISHER_MIN_FPS = 15


# -- Janus -----------------------------------------------------------------------------


def start_janus(root: Path):
    """Janus from the platform's generated files, on a free port, pinned to CPU 0."""
    from django.conf import settings

    from rooms.media.config import write_media_config
    from rooms.server.cluster import free_port, wait_for_port

    settings.JANUS_RECORDINGS_DIR = str(root / "recordings")
    url = f"ws://127.0.0.1:{free_port()}"
    (server,) = write_media_config(root, [url])
    settings.JANUS_SERVERS = [url]
    log = root / "janus.log"
    process = subprocess.Popen(
        ["taskset", "-c", str(JANUS_CPU), *server.command()],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(server.port, timeout=15)
    except TimeoutError:
        process.kill()
        raise RuntimeError(f"janus did not start: {log.read_text()[-2000:]}") from None
    return process, url


def create_room(url: str) -> dict:
    """A VideoRoom made as the platform makes a room's (its own `create` request)."""
    from rooms.media import janus
    from rooms.media.secrets import janus_api_secret
    from rooms.media.servers import videoroom_settings
    from rooms.models import MediaRoom, Room

    media = MediaRoom(
        room=Room(id=1, case_id=1, kind="joint"),
        server=url,
        janus_room=secrets.randbelow(2**50) + 1,
        secret=secrets.token_urlsafe(24),
        join_token=secrets.token_urlsafe(24),
    )
    janus.videoroom_request(url, videoroom_settings(media))
    return {"url": url, "apisecret": janus_api_secret(), "room": media.janus_room, "token": media.join_token}


# -- measuring -------------------------------------------------------------------------


def process_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def cpu_times() -> dict[int, tuple[int, int]]:
    """{cpu: (busy, total)} jiffies from /proc/stat."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(value) for value in values]
            idle = numbers[3] + numbers[4]
            times[int(name[3:])] = (sum(numbers[:8]) - idle, sum(numbers[:8]))
    return times


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for name in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{name}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def udp_drops(pids: list[int]) -> int:
    """Datagrams the kernel dropped (receive buffer full) at the UDP sockets of these
    processes so far: on loopback, where a reader too slow to keep up loses packets."""
    inodes = set().union(*(_socket_inodes(pid) for pid in pids))
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                drops += int(fields[-1])
    return drops


@dataclass
class Round:
    subscribers: int
    joins: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    janus_percent: float = 0.0
    client_percent: float = 0.0
    cpu_busy: dict[int, float] = field(default_factory=dict)
    loss: dict[str, float] = field(default_factory=dict)
    received_per_second: dict[str, float] = field(default_factory=dict)
    lost_packets: int = 0
    silent: int = 0
    janus_drops: int = 0
    subscriber_drops: int = 0
    sent_per_second: dict[str, float] = field(default_factory=dict)
    video: str = ""
    publisher_starved: bool = False

    @property
    def tracks(self) -> int:
        return self.subscribers * TRACKS_PER_FEED

    def join_percentile(self, fraction: float) -> float:
        if not self.joins:
            return float("nan")
        ordered = sorted(self.joins)  # nearest rank
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]

    @property
    def worst_loss(self) -> float:
        return max(self.loss.values(), default=0.0)


def _ask(workers, command: str) -> list:
    for _process, pipe in workers:
        pipe.send(command)
    answers = []
    for _process, pipe in workers:
        if not pipe.poll(60):
            raise RuntimeError(f"a subscriber worker did not answer {command!r}")
        answers.append(pipe.recv()[1])
    return answers


def _packets(workers) -> dict[str, list[list[int]]]:
    """{kind: [[received, lost] per subscriber]}."""
    per_kind = {"audio": [], "video": []}
    for answer in _ask(workers, "packets"):
        for subscriber in answer:
            for kind in per_kind:
                per_kind[kind].append(subscriber[kind])
    return per_kind


def run_round(count: int, room: dict, publisher: Publisher, janus_pid: int, args) -> Round:
    result = Round(subscribers=count)
    context = multiprocessing.get_context("spawn")
    worker_count = -(-count // args.per_worker)
    workers = []
    for index in range(worker_count):
        mine = list(range(index, count, worker_count))
        job = {**room, "feed": publisher.feed, "count": len(mine), "delays": [n * args.join_interval for n in mine]}
        ours, theirs = context.Pipe()
        process = context.Process(target=subscriber_worker, args=(theirs, job), daemon=True)
        process.start()
        workers.append((process, ours))
    try:
        for _process, pipe in workers:
            if not pipe.poll(JOIN_TIMEOUT_SECONDS + count * args.join_interval + 30):
                raise RuntimeError("subscribers did not finish joining")
            for outcome in pipe.recv()[1]:
                (result.joins if isinstance(outcome, float) else result.failures).append(outcome)
        time.sleep(args.warmup)

        before_packets, before_sent = _packets(workers), publisher.sent()
        before_janus, before_cpus = process_ticks(janus_pid), cpu_times()
        before_clients = sum(process_ticks(process.pid) for process, _pipe in workers)
        worker_pids = [process.pid for process, _pipe in workers]
        before_drops = udp_drops([janus_pid]), udp_drops(worker_pids)
        started = time.monotonic()
        time.sleep(args.window)
        after_janus, after_cpus = process_ticks(janus_pid), cpu_times()
        after_clients = sum(process_ticks(process.pid) for process, _pipe in workers)
        result.janus_drops = udp_drops([janus_pid]) - before_drops[0]
        result.subscriber_drops = udp_drops(worker_pids) - before_drops[1]
        elapsed = time.monotonic() - started
        after_packets, after_sent = _packets(workers), publisher.sent()

        result.janus_percent = 100 * (after_janus - before_janus) / CLOCK_TICKS / elapsed
        result.client_percent = 100 * (after_clients - before_clients) / CLOCK_TICKS / elapsed
        for cpu, (busy, total) in after_cpus.items():
            busy_before, total_before = before_cpus[cpu]
            result.cpu_busy[cpu] = 100 * (busy - busy_before) / max(total - total_before, 1)
        joined = len(result.joins)
        for kind in ("audio", "video"):
            pairs = list(zip(after_packets[kind], before_packets[kind], strict=True))
            received = sum(after[0] - before[0] for after, before in pairs)
            lost = sum(max(after[1] - before[1], 0) for after, before in pairs)
            sent = after_sent[kind] - before_sent[kind]
            # A subscriber whose connection stopped shows no gap: it lost all of it.
            silent = sum(1 for after, before in pairs if after[0] == before[0])
            lost += silent * sent
            result.silent = max(result.silent, silent)
            result.lost_packets += lost
            result.loss[kind] = 100 * lost / max(received + lost, 1)
            result.received_per_second[kind] = received / max(joined, 1) / elapsed
            result.sent_per_second[kind] = sent / elapsed
        result.video = f"{after_sent['frameWidth']}x{after_sent['frameHeight']} at {after_sent['framesPerSecond']} fps"
        result.publisher_starved = after_sent["framesPerSecond"] < PUBLISHER_MIN_FPS
    finally:
        with contextlib.suppress(RuntimeError, OSError, EOFError):
            _ask(workers, "leave")
        for process, _pipe in workers:
            process.join(5)
            if process.is_alive():
                process.kill()
    return result


# -- report ----------------------------------------------------------------------------


def _ratio(value: float, goal: float) -> str:
    return f"{value / goal:.2f}x"


def print_round(result: Round) -> None:
    per_feed = result.janus_percent / max(result.subscribers, 1)
    print(
        f"N={result.subscribers:>3}: {result.tracks} tracks forwarded; Janus {result.janus_percent:.1f} % of one core "
        f"({per_feed:.2f} % per feed, {result.janus_percent / max(result.tracks, 1):.2f} % per track); "
        f"loss video {result.loss['video']:.2f} %, audio {result.loss['audio']:.2f} %; "
        f"join p50 {result.join_percentile(0.5):.2f} s, p95 {result.join_percentile(0.95):.2f} s, "
        f"max {max(result.joins, default=float('nan')):.2f} s; failed joins {len(result.failures)}",
        flush=True,
    )
    print(
        f"       packets/s per subscriber video {result.received_per_second['video']:.0f}, "
        f"audio {result.received_per_second['audio']:.0f} (publisher sent {result.sent_per_second['video']:.0f}, "
        f"{result.sent_per_second['audio']:.0f}; {result.video}); {result.lost_packets} gaps in sequence numbers, "
        f"{result.silent} subscribers received nothing; dropped by the kernel at full receive buffers: "
        f"{result.janus_drops} at Janus, {result.subscriber_drops} at the subscribers; "
        f"subscribers' CPU {result.client_percent:.0f} %; "
        + ", ".join(f"CPU {cpu} busy {busy:.0f} %" for cpu, busy in sorted(result.cpu_busy.items())),
        flush=True,
    )
    if result.publisher_starved:
        print(
            f"       Chromium's encoder was short of CPU (under {PUBLISHER_MIN_FPS} frames/s): "
            "fewer packets to forward than in a quiet run",
            flush=True,
        )
    for failure in result.failures[:3]:
        print(f"       failed join: {failure}", flush=True)


def print_report(results: list[Round], args, load_before, load_after) -> None:
    print()
    print(
        "| N | tracks | Janus % of a core | % per feed | % per track | loss video | loss audio "
        "| join p50 | join p95 | failed | subscribers' CPU | CPU 0 / CPU 1 busy |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print(
            f"| {result.subscribers} | {result.tracks} | {result.janus_percent:.1f} % "
            f"| {result.janus_percent / max(result.subscribers, 1):.2f} % "
            f"| {result.janus_percent / max(result.tracks, 1):.2f} % "
            f"| {result.loss['video']:.2f} % | {result.loss['audio']:.2f} % "
            f"| {result.join_percentile(0.5):.2f} s | {result.join_percentile(0.95):.2f} s | {len(result.failures)} "
            f"| {result.client_percent:.0f} % "
            f"| {result.cpu_busy.get(JANUS_CPU, 0):.0f} % / {result.cpu_busy.get(CLIENT_CPU, 0):.0f} % |"
        )
    print()
    at_goal = next((result for result in results if result.subscribers == GOAL_FEEDS), None)
    if at_goal is not None:
        cpu_at_goal, how = at_goal.janus_percent, f"measured at N={GOAL_FEEDS}"
    else:
        # Linear from the largest round. The publisher's own share (fixed) is spread over
        # that round's feeds: projecting up from fewer feeds overstates the cost.
        largest = max(results, key=lambda result: result.subscribers)
        cpu_at_goal = largest.janus_percent / largest.subscribers * GOAL_FEEDS
        how = f"projected linearly from N={largest.subscribers}"
    worst_loss = max(result.worst_loss for result in results)
    worst_join = max(result.join_percentile(0.95) for result in results)
    print(f"Goal: {GOAL_FEEDS} feeds on one core, loss < {GOAL_LOSS_PERCENT:g} %, join < {GOAL_JOIN_SECONDS:g} s.")
    print(
        f"  Janus CPU for {GOAL_FEEDS} feeds: {cpu_at_goal:.1f} % of one core ({how}); "
        f"goal <= {GOAL_CPU_PERCENT:.0f} %: ratio {_ratio(cpu_at_goal, GOAL_CPU_PERCENT)}"
    )
    print(
        f"  worst loss: {worst_loss:.2f} %; goal < {GOAL_LOSS_PERCENT:g} %: "
        f"ratio {_ratio(worst_loss, GOAL_LOSS_PERCENT)}"
    )
    print(
        f"  worst join p95: {worst_join:.2f} s; goal < {GOAL_JOIN_SECONDS:g} s: "
        f"ratio {_ratio(worst_join, GOAL_JOIN_SECONDS)}"
    )
    for result in results:
        behind = any(
            result.received_per_second[kind] < 0.98 * result.sent_per_second[kind] for kind in ("audio", "video")
        )
        if result.subscriber_drops or behind:
            print(
                f"  N={result.subscribers}: the subscribers fell behind (CPU {CLIENT_CPU} busy "
                f"{result.cpu_busy.get(CLIENT_CPU, 0):.0f} %; {result.subscriber_drops} packets dropped at their "
                f"sockets against {result.janus_drops} at Janus's): loss and join times there are the clients' "
                "as much as Janus's."
            )
    print(
        f"Load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end "
        f"({os.cpu_count()} CPUs; other work on CPU {JANUS_CPU} shows as its busy share above Janus's)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="5,10,20,40", help="subscriber counts, one round each")
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured per round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds after the last join before measuring")
    parser.add_argument("--join-interval", type=float, default=0.1, help="seconds between two subscribers' joins")
    parser.add_argument("--per-worker", type=int, default=10, help="subscribers per worker process")
    parser.add_argument("--quick", action="store_true", help="N=5 only, a 3 s window (a check that it runs)")
    args = parser.parse_args()
    if args.quick:
        args.subscribers, args.window, args.warmup = "5", 3.0, 1.0
    counts = [int(count) for count in args.subscribers.split(",")]

    for tool in ("janus", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (make system-packages)", file=sys.stderr)
            return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    if (os.cpu_count() or 1) > 1:
        # Everything but Janus (this process, Chromium, the subscribers) on CPU 1.
        os.sched_setaffinity(0, {CLIENT_CPU})
    load_before = os.getloadavg()
    print(
        f"Janus on CPU {JANUS_CPU}; publisher (Chromium's fake camera) and subscribers (aiortc, no decoding) "
        f"on CPU {CLIENT_CPU}. Load average {load_before[0]:.2f}. Rounds: N={args.subscribers}, "
        f"{args.window:g} s windows, joins {args.join_interval:g} s apart.",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-media-") as folder:
        janus_process, url = start_janus(Path(folder))
        publisher = None
        results = []
        try:
            room = create_room(url)
            publisher = Publisher(room)
            for count in counts:
                result = run_round(count, room, publisher, janus_process.pid, args)
                print_round(result)
                results.append(result)
        finally:
            if publisher is not None:
                publisher.close()
            from rooms.server.cluster import end_processes

            end_processes(janus_process)
    print_report(results, args, load_before, os.getloadavg())
    return 1 if any(result.failures for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
