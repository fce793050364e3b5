"""The room socket, `ws/rooms/<id>/` (the room protocol of ARCHITECTURE.md section
5). The notification socket, `ws/notifications/`, is rooms.notification_socket.

A room socket is a plain ASGI application rather than a Channels consumer: room
traffic reaches it from the process's hub directly, so it needs no channel-layer
channel of its own (one Redis subscription per socket) and no per-event thread hop.
Under daphne a client's messages do not go through ASGI either: the socket takes them
straight off the wire (`take_frame`) and hands them to the writer. It still parses,
authorises, calls a service and answers, nothing more.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _

from rooms import conf, selectors
from rooms.auth import SESSION_KEY_SCOPE
from rooms.entry import get_entry_reader
from rooms.hub import get_hub, spawn
from rooms.language import reader_language
from rooms.membership import Member
from rooms.protocol import (
    CLOSE_NO_SUCH_ROOM,
    CLOSE_NOT_MEMBER,
    CLOSE_NOT_SIGNED_IN,
    CLOSE_ROOM_CLOSED,
    CLOSE_TOO_SLOW,
    CLOSE_WRITE_FAILED,
    ProtocolError,
    Read,
    Resume,
    SendMessage,
    Typing,
    encode,
    entry_frame,
    error_frame,
    parse_client_frame,
)
from rooms.ratelimit import TokenBucket
from rooms.runtime import runtime
from rooms.sequence import DeliveredSequence
from rooms.server.daphne import (
    FAST_PATH,
    Burst,
    Outgoing,
    WriteFailed,
    events_waiting,
    pause_reading,
    pending_output,
    read_direct,
    resume_reading,
    write_direct,
    writes_direct,
)
from rooms.services import mark_read
from rooms.store import PostRequest, PostResult
from rooms.writer import get_writer

logger = logging.getLogger(__name__)

_serials = itertools.count(1)


class RoomSocket:
    __slots__ = (
        "_handling_frame",
        "_heard",
        "_hello_sent",
        "_in_hub",
        "_pending",
        "_protocol",
        "_read_limit",
        "_read_wanted",
        "_read_writer",
        "_read_written",
        "_typing_limit",
        "case_id",
        "closed",
        "language",
        "member",
        "muted",
        "presence_member",
        "receive",
        "room_id",
        "scope",
        "send",
        "sequence",
        "user",
        "user_id",
    )

    def __init__(self, scope, receive, send):
        self.scope = scope
        self.receive = receive
        self.send = send
        self.user = scope.get("user")
        self.user_id = 0
        self.room_id = 0
        self.case_id = 0
        self.member: Member | None = None
        self.presence_member = ""
        self.closed = False
        self.sequence = DeliveredSequence(self._fill_gap)
        self.language = settings.LANGUAGE_CODE
        self._hello_sent = False
        self._in_hub = False
        self._handling_frame = False
        # While entering, before the user is known: the control messages heard, as
        # (user id or None for the room's, message).
        self._heard: list[tuple[int | None, dict]] | None = None
        self._pending: list[tuple[Outgoing, int]] = []
        self._protocol = None
        # None until known: a mute or unmute heard while the hello is read wins over it.
        self.muted: bool | None = None
        self._typing_limit: TokenBucket | None = None
        self._read_limit: TokenBucket | None = None
        # The read mark the database holds (as far as this socket knows), the one the
        # client last asked for, and the task writing it.
        self._read_written = 0
        self._read_wanted = 0
        self._read_writer: asyncio.Task | None = None

    @property
    def delivered_seq(self) -> int:
        """Every seq of the room up to this one was delivered to this socket."""
        return self.sequence.delivered

    @delivered_seq.setter
    def delivered_seq(self, seq: int) -> None:
        self.sequence.delivered = seq

    @classmethod
    def as_asgi(cls):
        async def application(scope, receive, send):
            await cls(scope, receive, send).run()

        return application

    async def run(self) -> None:
        try:
            while True:
                event = await self.receive()
                kind = event["type"]
                if kind == "websocket.connect":
                    await self.connect()
                elif kind == "websocket.receive":
                    if not self.closed:
                        self._handling_frame = True
                        try:
                            await self.on_frame(event.get("text"))
                        finally:
                            self._handling_frame = False
                elif kind == "websocket.disconnect":
                    break
        finally:
            await self.disconnect()

    # -- connection ------------------------------------------------------------------

    async def connect(self) -> None:
        # A close code can only be given once the socket is accepted; and accepted
        # before any database work, which in a restart storm queues behind every other
        # socket's and must not run into daphne's handshake timeout.
        await self.send({"type": "websocket.accept"})
        session_key = self.scope.get(SESSION_KEY_SCOPE)
        if (self.user is None and not session_key) or (self.user is not None and not self.user.is_authenticated):
            await self.close(CLOSE_NOT_SIGNED_IN)
            return
        hub = get_hub()
        self.room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        if not 0 < self.room_id < 2**63:
            # No row has an id no database integer holds: no such room (id 0), not a
            # database error (SQLite cannot even bind one).
            self.room_id = 0
        # Enter the hub (its frames and control messages, not its presence) before
        # signing in and reading the access, last_seq and the rest of the hello:
        # anything committed from here on (a removal's revoke, a closing, a message)
        # reaches this socket live, frames held back until the hello is sent, control
        # messages until its user is known (`heard`). Signing in and the hello are
        # read in one thread hop, together with every socket entering meanwhile
        # (rooms.entry).
        self._heard = []
        await hub.enter(self)
        self._in_hub = True
        entry = await get_entry_reader().read(self.user, session_key, self.room_id)
        self.user = entry.user
        if not self.user.is_authenticated:
            await self.close(CLOSE_NOT_SIGNED_IN)
            return
        # Checked once the handshake is done: the fast path's attributes exist then.
        self._protocol = FAST_PATH.engage(self.send)
        if self._protocol is not None:
            read_direct(self._protocol, self.take_frame)
        self.user_id = self.user.pk
        hub.signed_in(self)
        access, hello = entry.access, entry.hello
        if access.room is not None:
            self.case_id = access.room.case_id
        # What was heard while the user was not known, now that they are: a closing,
        # a revoke or a mute wins over the read, as one heard after it would.
        heard, self._heard = self._heard, None
        for user_id, message in heard:
            if user_id is None or user_id == self.user_id:
                await self.control(message)
        if access.refusal:
            await self.close(_close_code(access.refusal))
            return
        if self.closed:
            return
        self.language = reader_language(self.scope, self.user)
        self.member = access.member
        if self.muted is None:
            self.muted = access.muted
        self._read_written = self._read_wanted = access.read_seq
        # Online only once let in: never a refused socket, whose user may not even
        # know the room exists.
        self.presence_member = f"{self.user_id}:{hub.origin}:{next(_serials)}"
        hello["online"] = await hub.announce(self)
        self.delivered_seq = hello["last_seq"]
        await self._send_text(encode(hello))
        self._hello_sent = True
        pending, self._pending = self._pending, []
        for frame, seq in pending:
            await self.deliver(frame, seq)

    async def disconnect(self) -> None:
        self.closed = True
        self.sequence.stop()
        if self._in_hub:
            await get_hub().leave(self)

    async def close(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        await self.send({"type": "websocket.close", "code": code})
        if self._in_hub:
            await get_hub().leave(self)

    async def _send_text(self, text: str) -> None:
        await self._send_frame(Outgoing(text))

    async def _send_frame(self, frame: Outgoing) -> bool:
        """Whether the frame was written (directly or through ASGI)."""
        if self.closed:
            return False
        protocol = self._protocol
        if protocol is not None and pending_output(protocol) > conf.MAX_PENDING_OUTPUT_BYTES:
            logger.info("Closing user %s's socket in room %s: its client stopped reading", self.user_id, self.room_id)
            self.closed = True
            await self.send({"type": "websocket.close", "code": CLOSE_TOO_SLOW})
            if self._in_hub:
                # Not inside the hub's delivery of a frame to every socket: leaving
                # publishes presence, which would reach the others before that frame
                # does (and a stale list after a newer one).
                spawn(get_hub().leave(self))
            return False
        if protocol is not None:
            try:
                if write_direct(protocol, frame):
                    return True
            except WriteFailed:
                await self._close_after_failed_write()
                return False
        try:
            await self.send({"type": "websocket.send", "text": frame.text})
        except Exception:
            # The peer went away between our check and the send.
            self.closed = True
            return False
        return True

    async def _close_after_failed_write(self) -> None:
        self._protocol = None
        await self.close(CLOSE_WRITE_FAILED)

    def write_failed(self, seq_before: int) -> None:
        """A burst's direct write to this socket raised (see rooms.server.daphne.Burst.send): its
        frames count as not delivered, and the socket is closed with 1011 so that the
        client resumes from the last seq it has."""
        self.sequence.undeliver(seq_before)
        spawn(self._close_after_failed_write())

    async def _send_error(self, code: str, detail) -> None:
        """An error frame whose detail is written in the reader's language. `detail` is
        a callable, evaluated in that language: errors are rare, translation is not
        free, and the hot path makes none."""
        with translation.override(self.language):
            await self._send_text(error_frame(code, detail()))

    # -- from the hub ----------------------------------------------------------------

    def deliver_now(self, frame: Outgoing, seq: int, burst: Burst) -> bool:
        """Deliver a frame without waiting, as the hub does almost every frame: for a
        socket that is open, past its hello, and whose client keeps up, the frame joins
        the hub's burst, written directly without a coroutine per delivery. False if
        the frame needs `deliver` (nothing was done)."""
        protocol = self._protocol
        if (
            self.closed
            or not self._hello_sent
            or protocol is None
            or not writes_direct(protocol)
            or pending_output(protocol) > conf.MAX_PENDING_OUTPUT_BYTES
        ):
            return False
        sequence = self.sequence
        seq_before = sequence.delivered
        if sequence.in_sequence(seq):
            burst.add(self, protocol, frame, seq_before)
        return True

    async def deliver(self, frame: Outgoing, seq: int) -> None:
        if self.closed:
            return
        if not self._hello_sent:
            self._pending.append((frame, seq))
            return
        seq_before = self.sequence.delivered
        if self.sequence.in_sequence(seq) and not await self._send_frame(frame):
            # Never counted as delivered: the socket is closed, its client resumes.
            self.sequence.undeliver(seq_before)

    async def _fill_gap(self) -> None:
        """A gap in the live sequence stayed open (see rooms.sequence)."""
        if not self.closed:
            try:
                await self.catch_up()
            except DatabaseError:
                # The frames ahead are kept; the next live frame schedules another try.
                logger.warning("Gap fill in room %s failed: database unavailable", self.room_id)

    async def catch_up(self) -> None:
        """Send from the database whatever this socket missed live."""
        if self.closed or not self._hello_sent:
            return
        while True:
            page = await database_sync_to_async(selectors.resume_page)(self.user, self.room_id, self.delivered_seq)
            if page is None:
                await self.close(CLOSE_NOT_MEMBER)
                return
            # Sequence numbers in the database have no gaps, so delivering in order
            # closes every gap this socket had.
            deadline = asyncio.get_running_loop().time() + conf.RESUME_DRAIN_SECONDS
            for entry in page.entries:
                await self._wait_for_reader(deadline)
                if self.closed:
                    return
                await self.deliver(Outgoing(encode(entry_frame(entry))), entry.seq)
            if not page.has_more:
                return

    def heard(self, user_id: int, message: dict) -> None:
        """A user's control message, heard before this socket's user is known (see
        RoomHub.enter): applied in `connect` if it is theirs."""
        if self._heard is not None:
            self._heard.append((user_id, message))

    async def control(self, message: dict) -> None:
        if self._heard is not None:
            # The user is not known yet: applied in `connect` once they are.
            self._heard.append((None, message))
            return
        op = message.get("op")
        if op == "close":
            await self.close(int(message.get("code", CLOSE_ROOM_CLOSED)))
        elif op == "revoke" and message.get("case") == self.case_id:
            await self.close(CLOSE_NOT_MEMBER)
        elif op == "mute" and message.get("user") == self.user_id:
            self.muted = bool(message.get("muted"))

    def pause_reading(self) -> None:
        """Under daphne, stop reading the client's frames (see RoomHub.pause_reading);
        elsewhere the writer refuses what it cannot queue."""
        if self._protocol is not None:
            pause_reading(self._protocol)

    def resume_reading(self) -> None:
        if self._protocol is not None:
            resume_reading(self._protocol)

    # -- from the client -------------------------------------------------------------

    def take_frame(self, payload: bytes) -> bool:
        """A client's text frame straight off the wire (see rooms.server.daphne.read_direct). A
        message is handed to the writer here and now, without a trip through daphne's
        queue and this socket's task; False leaves the frame to them (`on_frame`).
        Frames are handled in the order the client sent them: none is taken while an
        earlier one waits in daphne's queue or is being handled, or before the hello."""
        if self.closed or not self._hello_sent or self._handling_frame or events_waiting(self._protocol):
            return False
        try:
            request = parse_client_frame(payload.decode("utf-8"))
        except ProtocolError:
            return False
        if not isinstance(request, SendMessage):
            return False
        self.post_message(request)
        return True

    async def on_frame(self, text: str | None) -> None:
        if not self._hello_sent:
            return
        try:
            request = parse_client_frame(text)
        except ProtocolError as error:
            await self._send_error(error.code, lambda: _detail_of(text))
            return
        if isinstance(request, SendMessage):
            self.post_message(request)
        elif isinstance(request, Resume):
            try:
                await self.resume(request.after_seq)
            except DatabaseError:
                logger.warning("Resume in room %s failed: database unavailable", self.room_id, exc_info=True)
                await self._send_error(
                    "resume_unavailable", lambda: _("The history could not be loaded just now; try again shortly.")
                )
        elif isinstance(request, Typing):
            await self.typing(request.active)
        elif isinstance(request, Read):
            self.read(request.seq)

    def post_message(self, request: SendMessage) -> None:
        """Hand a message to the writer. Its sender sees it stored as every member does,
        in the room; only a message not stored now is answered to the sender alone."""
        limiter = runtime.message_limiter
        if not limiter.allow(self.user_id):
            spawn(
                self._send_error(
                    "rate_limited",
                    lambda: (
                        _("Too many messages: at most %(count)s in %(seconds)s seconds.")
                        % {"count": limiter.limit, "seconds": int(limiter.window)}
                    ),
                )
            )
            return
        get_writer().post(
            PostRequest(room_id=self.room_id, author=self.member, client_id=request.client_id, body=request.body),
            self._posted,
        )

    def _posted(self, result: PostResult) -> None:
        if result.outcome != "stored":
            spawn(self._answer_post(result))

    async def _answer_post(self, result: PostResult) -> None:
        if result.outcome == "unavailable":
            await self._send_error(
                "unavailable", lambda: _("Your message could not be stored. Nothing was sent; try again.")
            )
        elif result.outcome == "duplicate":
            await self._send_text(result.text)
        elif result.outcome == "refused":
            await self._send_error(result.code, lambda: str(result.detail))
            if result.code == "muted":
                self.muted = True
            elif result.code == "not_member":
                await self.close(CLOSE_NOT_MEMBER)
            elif result.code == "room_closed":
                await self.close(CLOSE_ROOM_CLOSED)

    async def resume(self, after_seq: int) -> None:
        page = await database_sync_to_async(selectors.resume_page)(self.user, self.room_id, after_seq)
        if page is None:
            await self.close(CLOSE_NOT_MEMBER)
            return
        deadline = asyncio.get_running_loop().time() + conf.RESUME_DRAIN_SECONDS
        for entry in page.entries:
            await self._wait_for_reader(deadline)
            if self.closed:
                return
            await self._send_text(encode(entry_frame(entry)))
        last = page.entries[-1].seq if page.entries else after_seq
        await self._send_text(
            encode({"type": "resume.page", "after_seq": after_seq, "last_seq": last, "more": page.has_more})
        )

    async def _wait_for_reader(self, deadline: float) -> None:
        """Let a client that reads take what waits for it, rather than close it (4429)
        in the middle of a page it asked for; one that does not is closed as usual."""
        protocol = self._protocol
        if protocol is None:
            return
        loop = asyncio.get_running_loop()
        while pending_output(protocol) > conf.MAX_PENDING_OUTPUT_BYTES // 2 and loop.time() < deadline:
            if self.closed or getattr(protocol.transport, "disconnected", False):
                return
            await asyncio.sleep(0.005)

    async def typing(self, active: bool) -> None:
        """Relay a typing indicator, unless its author is muted here (they may not post,
        so they are not about to) or sends them faster than anyone types (dropped: the
        next one says the same)."""
        if self.muted:
            return
        if self._typing_limit is None:
            self._typing_limit = TokenBucket(conf.TYPING_BURST, conf.TYPING_PER_SECOND)
        if not self._typing_limit.take():
            return
        await get_hub().publish_room(
            self.room_id,
            encode({"type": "typing", "user": {"id": self.user_id, "name": self.member.name}, "active": active}),
        )

    def read(self, seq: int) -> None:
        """Move the read mark forward to `seq` (never past what this socket was sent).
        A mark that moves nothing is neither written nor relayed. Marks are written at
        most conf.READ_MARKS_PER_SECOND (after a burst of conf.READ_MARK_BURST); one that comes
        sooner waits, and a later one overtakes it: the latest is written."""
        seq = min(seq, self.delivered_seq)
        if seq <= self._read_wanted:
            return
        self._read_wanted = seq
        if self._read_writer is None:
            self._read_writer = spawn(self._write_read_marks())

    async def _write_read_marks(self) -> None:
        if self._read_limit is None:
            self._read_limit = TokenBucket(conf.READ_MARK_BURST, conf.READ_MARKS_PER_SECOND)
        try:
            while self._read_wanted > self._read_written:
                # A socket that closes writes its last mark at once.
                if not self.closed:
                    await asyncio.sleep(self._read_limit.wait())
                self._read_limit.take()
                seq = self._read_wanted
                marked = await database_sync_to_async(mark_read)(room_id=self.room_id, user=self.user, seq=seq)
                if marked is None:
                    await self.close(CLOSE_NOT_MEMBER)
                    return
                # Another of the user's sockets may have marked further.
                self._read_written = max(marked, seq)
                self._read_wanted = max(self._read_wanted, marked)
                await get_hub().publish_room(
                    self.room_id,
                    encode({"type": "read", "user": {"id": self.user_id, "name": self.member.name}, "seq": marked}),
                )
        except DatabaseError:
            # A read mark is advisory: the next one, once the database is back, records
            # it.
            logger.warning("Read mark in room %s not recorded: database unavailable", self.room_id)
            self._read_wanted = self._read_written
        finally:
            self._read_writer = None


def _close_code(refusal: str) -> int:
    """How a socket refused entry to its room is closed (see selectors._access)."""
    return {"no_such_room": CLOSE_NO_SUCH_ROOM, "not_member": CLOSE_NOT_MEMBER}.get(refusal, CLOSE_ROOM_CLOSED)


def _detail_of(text: str | None) -> str:
    """Parse a frame already known to be bad again, for its error in the current
    language."""
    try:
        parse_client_frame(text)
    except ProtocolError as error:
        return error.detail
    return ""
