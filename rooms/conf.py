"""The rooms' tunables, in one place: every limit and delay of the room server, with
its default and why.

A deployment overrides any of them with a `ROOMS` dictionary in its settings, e.g.
`ROOMS = {"PAUSE_READING_AT": 4_000}`; a name that is not one of these is refused at
start-up rather than ignored. Code reads them as attributes of this module
(`conf.MAX_BATCH`), which stay current when a test changes `ROOMS` with
`override_settings`. docs/rooms-internals.md ("Back-pressure and other thresholds")
explains what each does under load.

The daphne flags (message and frame size, ping) are the server's command line:
`rooms.server.cluster.DAPHNE_FLAGS` and the Makefile.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

# -- the writer (rooms.writer) -----------------------------------------------------

# Most messages stored in one transaction.
MAX_BATCH = 500
# How long the event loop's thread may hold the GIL while the writer's thread waits
# for it (Python's default is 5 ms; the setting is the process's, so Channels'
# database thread gets it back as soon). The writer's thread runs in short bursts
# between round trips to the database, and takes the GIL back after each one; on a
# busy server, the default stretched every batch by several of those waits, and with
# it the time each message waits to be stored and delivered.
GIL_SWITCH_INTERVAL = 0.0005
# Messages waiting for the database. Beyond this the writer refuses new ones at once
# (the client keeps them and sends again) instead of queueing without bound.
MAX_QUEUED = 10_000
# From this many messages waiting, the process stops reading its room sockets (see
# RoomHub.pause_reading) until the writer is down to RESUME_READING_AT: what clients
# send meanwhile waits in the network, and the core goes to storing and delivering
# what was read. Reading on, the server spent the core on taking in and refusing
# messages the database could not keep up with, and stored ever fewer: past its limit
# it delivered half of what it did at it. Half a second of messages or less at the
# server's limit, several batches: well before MAX_QUEUED, well after an ordinary
# burst.
PAUSE_READING_AT = 2_000
RESUME_READING_AT = 500

# -- a room socket (rooms.consumers) -----------------------------------------------

# A socket whose peer stopped reading is closed once this much output waits for it
# (4429): the server's memory for it stays bounded, and the client resumes later.
MAX_PENDING_OUTPUT_BYTES = 1024 * 1024
# How long a gap in the live sequence may stay open before the socket fills it from
# the database (a frame published while Redis was unreachable, say), and how many
# frames beyond a gap a socket holds before it fills the gap at once.
GAP_FILL_DELAY = 1.0
MAX_FRAMES_AHEAD = 1000
# A resume page (500 entries of up to 4,000 characters) can be larger than the cap
# above: it is sent as fast as the client takes it, taking at most this long.
RESUME_DRAIN_SECONDS = 10.0

# -- the protocol (rooms.protocol) -------------------------------------------------

MAX_BODY_CHARS = 4000
# A frame longer than this cannot be a valid client frame: a body of 4,000
# characters, each written as a six-character \uXXXX escape, plus its envelope.
MAX_FRAME_CHARS = 32_768
RESUME_PAGE_SIZE = 500

# -- rate limits (rooms.ratelimit) -------------------------------------------------

# At most RATE_LIMIT_MESSAGES messages per RATE_LIMIT_WINDOW seconds from one user,
# per process.
RATE_LIMIT_MESSAGES = 20
RATE_LIMIT_WINDOW = 10.0
# Users who stopped posting are dropped from the limiter's memory every so many checks.
RATE_LIMIT_SWEEP_EVERY = 1000
# Typing indicators and read marks: limits of one socket, kept on it. A client sends
# "typing" at most every 3 seconds while its user types (room.js), and "read" when it
# has shown new entries, at most every 0.8 seconds: a socket that sends more does it
# on purpose, and each typing frame is relayed to every member while each read mark
# is a database write.
TYPING_BURST = 3
TYPING_PER_SECOND = 0.5
READ_MARK_BURST = 2
READ_MARKS_PER_SECOND = 1.0

# -- between processes (rooms.broker) ----------------------------------------------

# Entries (a frame, or a stored batch's frames) waiting to be published; beyond this
# the oldest are dropped (the sockets that miss them fill the gap from the database).
MAX_PUBLISH_BACKLOG = 50_000
# Characters of records in one published batch.
MAX_BATCH_CHARS = 1_000_000
# Concurrent Redis commands of one process (presence, publishing); callers beyond it
# wait for a connection instead of failing.
REDIS_POOL_SIZE = 32
# Seconds a publish from synchronous code (after a commit, in the thread that committed)
# may wait for Redis: a Redis that accepts and never answers must not hold up that
# thread, which under daphne serves the process's page loads and database calls.
SYNC_PUBLISH_TIMEOUT = 2
# The longest wait between two attempts to reach Redis again.
RECONNECT_BACKOFF_CAP = 2.0

# -- notifications (rooms.activity) ------------------------------------------------

# "New message in your case" is announced at most once per room this often, per
# process, to members not in the room.
ACTIVITY_INTERVAL = 30.0

# -- presence (rooms.presence) -----------------------------------------------------

# The hub refreshes its connections' presence this often; a process that dies leaves
# no ghosts beyond EXPIRY_SECONDS.
HEARTBEAT_SECONDS = 15
EXPIRY_SECONDS = 40


DEFAULTS = {name: value for name, value in globals().items() if name.isupper() and name != "DEFAULTS"}


def load() -> None:
    """Set every tunable from its default and the `ROOMS` setting's overrides."""
    overrides = getattr(settings, "ROOMS", None) or {}
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(f"ROOMS has unknown names: {', '.join(unknown)} (see rooms/conf.py)")
    globals().update({**DEFAULTS, **overrides})


def _reload(*, setting, **kwargs) -> None:
    if setting == "ROOMS":
        load()


load()
setting_changed.connect(_reload, dispatch_uid="rooms.conf")
