"""The media socket, `ws/media/<room id>/?credential=...`: the browser's janus.js
speaks the Janus protocol (subprotocol `janus-protocol`) to the platform, which
relays it to the room's Janus server and back (docs/media.md, "The media socket").

The browser never reaches Janus itself: the socket is let in with the short-lived
credential issued to this signed-in user for this room and the media rule
(rooms.media.rules.media_refusal), and relays only what rooms.media.relay lets
pass, with the room, its token, the person's display and the API secret forced.

The socket is in the room's hub (rooms.hub) like a room socket, without presence and
without the room's frames: a participant removed from the case, a mediator replaced
(`revoke`), the room closed (`close`) or the mediator's removal from the media
(`media.remove`) closes it on every process, and closing destroys its Janus session,
so that the person's media stops at once. The mediator's mute (`media.mute`) cuts
the audio of every feed it publishes, and again of every feed it publishes later.

What a stranger can cost is bounded: one Janus session, MAX_HANDLES handles and
MAX_PENDING requests waiting for an answer per socket, frames of at most
relay.MAX_FRAME_CHARS, FRAMES_PER_SECOND (after a burst of FRAME_BURST), and
MAX_SOCKETS_PER_PERSON sockets per person and room.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from websockets.asyncio.client import connect as janus_connect
from websockets.exceptions import WebSocketException

from rooms.auth import SESSION_KEY_SCOPE, user_of_session
from rooms.hub import get_hub, spawn
from rooms.media import credentials, janus, presence, relay
from rooms.media.secrets import janus_api_secret
from rooms.protocol import (
    CLOSE_NO_SUCH_ROOM,
    CLOSE_NOT_MEMBER,
    CLOSE_NOT_SIGNED_IN,
    CLOSE_ROOM_CLOSED,
)
from rooms.ratelimit import TokenBucket

logger = logging.getLogger(__name__)

# The room's media is unavailable (no Janus server answers, or the one it is on went away).
CLOSE_MEDIA_UNAVAILABLE = 4503
# The person has MAX_SOCKETS_PER_PERSON media sockets open in this room already.
CLOSE_TOO_MANY_SOCKETS = 4409

MAX_HANDLES = 8
MAX_PENDING = 32
MAX_SOCKETS_PER_PERSON = 3
FRAME_BURST = 60
FRAMES_PER_SECOND = 30
# Janus's frames to the browser: an SDP answer is a few KiB.
MAX_JANUS_FRAME_BYTES = 1024 * 1024

_serial = iter(range(1, 2**63))


def close_code(refusal: str) -> int:
    """How a socket the media rule refuses is closed."""
    return {
        "no_such_room": CLOSE_NO_SUCH_ROOM,
        "room_closed": CLOSE_ROOM_CLOSED,
        "media_unavailable": CLOSE_MEDIA_UNAVAILABLE,
    }.get(refusal, CLOSE_NOT_MEMBER)


def _signed_in(user, session_key, room_id: int):
    """The socket's user and its room's case (None: no such room), in one thread hop."""
    from rooms.models import Room

    if user is None:
        user = user_of_session(session_key) if session_key else AnonymousUser()
    case_id = Room.objects.filter(pk=room_id).values_list("case_id", flat=True).first() if room_id else None
    return user, case_id


def _admit(user, room_id: int):
    """(refusal code, forced values, media room, muted) for this user and room now."""
    from django.conf import settings

    from rooms.media.moderation import is_muted
    from rooms.media.rules import media_refusal
    from rooms.membership import member_of
    from rooms.models import MediaRoom, Room

    refusal = media_refusal(user, room_id)
    if refusal:
        return refusal, None, None, False
    room = Room.objects.select_related("case", "case__mediator", "case__judge").get(pk=room_id)
    member = member_of(user, room)
    # Placed when the credential was issued (rooms.media.views.credential), a minute
    # ago at most. Not placed again here: that waits for Janus servers, and this
    # thread is the one every socket's database work queues for.
    media = MediaRoom.objects.filter(room=room).first()
    if media is None or media.server not in settings.JANUS_SERVERS:
        return "media_unavailable", None, None, False
    forced = relay.Forced(
        apisecret=janus_api_secret(),
        room=media.janus_room,
        token=media.join_token,
        display=relay.display_of(member),
    )
    return "", forced, media, is_muted(room_id, user.pk)


def _enters_media(body: dict, request: dict) -> bool:
    """Whether a VideoRoom request takes the person further into the room's media: a
    join, or sending their media (a publish or configure with an offer). A join let
    in just before a recording was committed is caught when it publishes."""
    verb = body.get("request")
    return verb == "join" or (verb in ("publish", "configure") and "jsep" in request)


def _closes_at(room_id: int):
    from rooms.models import Room

    return Room.objects.filter(pk=room_id).values_list("closes_at", flat=True).first()


def _rule_and_closing(user, room_id: int):
    """The media rule's refusal now, and when the room closes by the clock (or None)."""
    from rooms.media.rules import media_refusal

    return media_refusal(user, room_id), _closes_at(room_id)


def _next_check_in(closes_at) -> float:
    """Seconds until the rule is asked again: REFRESH_SECONDS, or less when the room
    closes by the clock before then (just after that moment)."""
    from django.utils import timezone

    if closes_at is None:
        return presence.REFRESH_SECONDS
    until = (closes_at - timezone.now()).total_seconds() + 0.05
    return max(0.05, min(presence.REFRESH_SECONDS, until))


class Feed:
    """One of the socket's publisher handles: its id on Janus and its streams."""

    __slots__ = ("id", "screen", "sending", "types")

    def __init__(self, feed_id: int):
        self.id = feed_id
        # mid -> "audio" | "video" (| "data")
        self.types: dict[str, str] = {}
        # mid -> whether the browser sends it (a configure's `send`)
        self.sending: dict[str, bool] = {}
        self.screen = False

    def has(self, kind: str) -> bool:
        return any(t == kind and self.sending.get(mid, True) for mid, t in self.types.items())

    def audio_mids(self) -> list[str]:
        return [mid for mid, t in self.types.items() if t == "audio"]


class MediaSocket:
    def __init__(self, scope, receive, send):
        self.scope = scope
        self.receive = receive
        self.send = send
        self.user = scope.get("user")
        # The hub's Connection (rooms.hub): no presence, no seq.
        self.user_id = 0
        self.room_id = 0
        self.case_id = 0
        self.presence_member = ""
        self.delivered_seq = 0
        self.closed = False
        self._in_hub = False
        self.member_key = ""
        self.media = None
        self.forced: relay.Forced | None = None
        self.muted = False
        self.upstream = None
        self.session_id: int | None = None
        self.handles: set[int] = set()
        # transaction -> (request kind, VideoRoom verb or "", handle, publisher id or None, body)
        self.pending: dict[str, tuple] = {}
        self.feeds: dict[int, Feed] = {}  # handle -> its publisher feed
        self.screen_handles: set[int] = set()
        self.limit = TokenBucket(FRAME_BURST, FRAMES_PER_SECOND)
        self._tasks: list[asyncio.Task] = []
        self._published_state = None

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
                    if not self.closed and self.upstream is not None:
                        await self.on_frame(event.get("text"))
                elif kind == "websocket.disconnect":
                    break
        finally:
            await self.shut_down()

    # -- connection ----------------------------------------------------------------

    async def connect(self) -> None:
        accept = {"type": "websocket.accept"}
        if janus.PROTOCOL in (self.scope.get("subprotocols") or []):
            accept["subprotocol"] = janus.PROTOCOL
        await self.send(accept)
        room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        room_id = room_id if 0 < room_id < 2**63 else 0
        user, case_id = await database_sync_to_async(_signed_in)(self.user, self.scope.get(SESSION_KEY_SCOPE), room_id)
        if not user.is_authenticated:
            await self.close(CLOSE_NOT_SIGNED_IN)
            return
        self.user, self.user_id = user, user.pk
        if case_id is None:
            await self.close(CLOSE_NO_SUCH_ROOM)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        credential = (query.get("credential") or [""])[0]
        if not credentials.is_valid_for(credential, self.user_id, room_id):
            await self.close(CLOSE_NOT_MEMBER)
            return
        self.room_id, self.case_id = room_id, case_id
        # In the hub before the rule is read: a removal or a closing committed from
        # here on reaches this socket (`control`), one committed before shows in the read.
        await get_hub().enter(self)
        self._in_hub = True
        refusal, forced, media, muted = await database_sync_to_async(_admit)(self.user, room_id)
        if self.closed:
            return
        if refusal:
            await self.close(close_code(refusal))
            return
        self.forced, self.media, self.muted = forced, media, muted
        member_key = f"{self.user_id}:{get_hub().origin}:{next(_serial)}"
        # Counted and entered in one call on the one thread sync code runs on: sockets
        # opened at the same moment are each counted with the others.
        claim = sync_to_async(presence.claim)
        if not await claim(room_id, member_key, self.state(), limit=MAX_SOCKETS_PER_PERSON):
            await self.close(CLOSE_TOO_MANY_SOCKETS)
            return
        self.member_key = member_key
        try:
            upstream = await janus_connect(
                media.server,
                subprotocols=[janus.PROTOCOL],
                open_timeout=janus.timeout(),
                close_timeout=0.5,
                max_size=MAX_JANUS_FRAME_BYTES,
            )
        except (WebSocketException, OSError, TimeoutError):
            logger.warning("Media of room %s: its Janus server %s does not answer", room_id, media.server)
            await self.close(CLOSE_MEDIA_UNAVAILABLE)
            return
        if self.closed:
            await upstream.close()
            return
        self.upstream = upstream
        self._tasks = [spawn(self._relay_from_janus()), spawn(self._refresh())]

    async def close(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        await self._closed_with(code)

    def cut(self, code: int) -> None:
        """Close in the background: the hub hands a closing to every socket of the
        room in turn, and must not wait for each one's Janus session to end."""
        if self.closed:
            return
        self.closed = True
        spawn(self._closed_with(code))

    async def _closed_with(self, code: int) -> None:
        with contextlib.suppress(Exception):
            await self.send({"type": "websocket.close", "code": code})
        await self.shut_down()

    async def shut_down(self) -> None:
        """Let go of everything: the Janus session (destroyed, so that the person's
        media stops now), the hub, the person's entry in the media presence."""
        self.closed = True
        current = asyncio.current_task()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            if task is not current:
                task.cancel()
        upstream, self.upstream = self.upstream, None
        if upstream is not None:
            if self.session_id is not None:
                with contextlib.suppress(Exception):
                    destroy = {"janus": "destroy", "session_id": self.session_id, "transaction": "platform-destroy"}
                    await asyncio.wait_for(upstream.send(json.dumps({**destroy, "apisecret": janus_api_secret()})), 1)
            with contextlib.suppress(Exception):
                await upstream.close()
        if self._in_hub:
            self._in_hub = False
            await get_hub().leave(self)
        if self.member_key:
            key, self.member_key = self.member_key, ""
            with contextlib.suppress(Exception):
                await sync_to_async(presence.put)(self.room_id, key, None)
                if self._published_state is not None and self._published_state.get("joined"):
                    await self._publish_people()

    # -- from the browser ------------------------------------------------------------

    async def on_frame(self, text) -> None:
        if not self.limit.take():
            # Beyond the rate a frame is not even parsed (parsing is what a flood of
            # frames, well formed or not, costs): refused without its transaction.
            await self._to_browser(relay.error_frame(None, relay.TOO_MANY, "Too many requests; slow down."))
            return
        try:
            frame = relay.parse_browser_frame(text)
            if len(self.pending) >= MAX_PENDING:
                raise relay.Refused(frame["transaction"], relay.TOO_MANY, "Too many requests waiting for an answer.")
            if frame["janus"] == "attach" and len(self.handles) + self._attaching() >= MAX_HANDLES:
                raise relay.Refused(frame["transaction"], relay.TOO_MANY, "Too many handles on this socket.")
            request, publisher_id = relay.rewrite(frame, self.forced, session_id=self.session_id, handles=self.handles)
        except relay.Refused as refused:
            await self._to_browser(relay.error_frame(refused.transaction, refused.code, refused.reason))
            return
        body = request.get("body") or {}
        if request["janus"] == "message" and _enters_media(body, request) and not await self._may_still_join():
            return
        if request["janus"] in ("create", "attach", "message", "detach"):
            self.pending[request["transaction"]] = (
                request["janus"],
                body.get("request", ""),
                request.get("handle_id"),
                publisher_id,
                body,
            )
        if request["janus"] == "attach" and str(frame.get("opaque_id", "")).endswith("screen"):
            # The handle that shares a screen (docs/media.md): what it publishes is a screen.
            self.pending[request["transaction"]] += ("screen",)
        try:
            await self.upstream.send(json.dumps(request))
        except (WebSocketException, OSError):
            await self.close(CLOSE_MEDIA_UNAVAILABLE)

    async def _may_still_join(self) -> bool:
        """The media rule asked again at each join and publish: what changed since the socket was
        let in (a recording started, which a person joins only with their consent)
        holds for every feed they publish or receive. Refused: the socket closes."""
        from rooms.media.rules import media_refusal

        refusal = await database_sync_to_async(media_refusal)(self.user, self.room_id)
        if refusal:
            await self.close(close_code(refusal))
            return False
        return True

    def _attaching(self) -> int:
        return sum(1 for pending in self.pending.values() if pending[0] == "attach")

    # -- from Janus --------------------------------------------------------------------

    async def _relay_from_janus(self) -> None:
        try:
            async for message in self.upstream:
                if isinstance(message, bytes):
                    continue
                try:
                    frame = json.loads(message)
                except ValueError:
                    continue
                if not isinstance(frame, dict):
                    continue
                changed = self._observe(frame)
                await self._to_browser(json.dumps(relay.without_secrets(frame)))
                if changed:
                    await self._state_changed()
        except (WebSocketException, OSError):
            pass
        except asyncio.CancelledError:
            return
        if not self.closed:
            logger.info("Media of room %s: its Janus server went away", self.room_id)
            await self.close(CLOSE_MEDIA_UNAVAILABLE)

    def _observe(self, frame: dict) -> bool:
        """Learn from Janus's answers and events: the session, the handles, the
        publisher feeds and their streams. Whether the person's media state changed."""
        kind = frame.get("janus")
        transaction = frame.get("transaction")
        pending = self.pending.get(transaction) if isinstance(transaction, str) else None
        if kind == "ack":
            return False
        if pending is not None:
            del self.pending[transaction]
        if kind == "success" and pending is not None:
            data = frame.get("data") or {}
            if pending[0] == "create" and self.session_id is None:
                self.session_id = data.get("id")
            elif pending[0] == "attach" and isinstance(data.get("id"), int):
                self.handles.add(data["id"])
                if pending[-1] == "screen":
                    self.screen_handles.add(data["id"])
            elif pending[0] == "detach":
                return self._forget_handle(pending[2])
            return False
        sender = frame.get("sender")
        if kind == "detached" and sender in self.handles:
            self.handles.discard(sender)
            return self._forget_handle(sender)
        if kind == "hangup" and sender in self.feeds:
            # Its PeerConnection ended: still in the room, sending nothing.
            self.feeds[sender].types.clear()
            return True
        if kind != "event" or sender not in self.handles:
            return False
        data = (frame.get("plugindata") or {}).get("data") or {}
        if data.get("videoroom") == "joined" and pending is not None and pending[3] is not None:
            feed = Feed(pending[3])
            feed.screen = sender in self.screen_handles
            self.feeds[sender] = feed
            return True
        feed = self.feeds.get(sender)
        if feed is None:
            return False
        if data.get("unpublished") == "ok" or data.get("leaving") == "ok":
            feed.types.clear()
            feed.sending.clear()
            if data.get("leaving") == "ok":
                del self.feeds[sender]
            return True
        if data.get("configured") == "ok":
            streams = data.get("streams")
            if isinstance(streams, list):
                feed.types = {
                    str(s.get("mid")): str(s.get("type"))
                    for s in streams
                    if isinstance(s, dict) and not s.get("disabled")
                }
                if any(isinstance(s, dict) and "screen" in str(s.get("description", "")).lower() for s in streams):
                    feed.screen = True
            if pending is not None:
                body = pending[4]
                for stream in body.get("streams") or []:
                    if isinstance(stream, dict) and "send" in stream:
                        feed.sending[str(stream.get("mid"))] = bool(stream["send"])
                for kind_name in ("audio", "video"):
                    if kind_name in body:
                        for mid, t in feed.types.items():
                            if t == kind_name:
                                feed.sending[mid] = bool(body[kind_name])
                if self.muted and isinstance(streams, list):
                    spawn(self._moderate(feed, True))
            return True
        return False

    def _forget_handle(self, handle) -> bool:
        self.screen_handles.discard(handle)
        return self.feeds.pop(handle, None) is not None

    async def _to_browser(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self.send({"type": "websocket.send", "text": text})
        except Exception:
            self.closed = True

    # -- the person's state in the room's media ----------------------------------------

    def state(self) -> dict:
        camera = [feed for feed in self.feeds.values() if not feed.screen]
        return {
            "user": self.user_id,
            "joined": bool(self.feeds),
            "audio": any(feed.has("audio") for feed in camera) and not self.muted,
            "video": any(feed.has("video") for feed in camera),
            "screen": any(feed.has("video") for feed in self.feeds.values() if feed.screen),
            "muted_by_mediator": self.muted,
        }

    async def _save_state(self) -> None:
        if self.member_key:
            await sync_to_async(presence.put)(self.room_id, self.member_key, self.state())

    async def _state_changed(self) -> None:
        state = self.state()
        if state == self._published_state:
            return
        was_joined = bool(self._published_state and self._published_state.get("joined"))
        self._published_state = state
        await self._save_state()
        if state["joined"] or was_joined:
            await self._publish_people()

    async def _publish_people(self) -> None:
        text = await sync_to_async(presence.frame)(self.room_id)
        await get_hub().publish_room(self.room_id, text)

    async def _refresh(self) -> None:
        """Every REFRESH_SECONDS, and when the room's closing time (`closes_at`) comes:
        the person's entry in the media presence written again, and the media rule
        asked again. The hub tells the socket of a removal or a closing at once; this
        catches what no message announces (a room whose closing time has come, cut
        then and not up to REFRESH_SECONDS later) and a message lost with Redis."""
        with contextlib.suppress(asyncio.CancelledError):
            closes_at = await database_sync_to_async(_closes_at)(self.room_id)
            while not self.closed:
                await asyncio.sleep(_next_check_in(closes_at))
                try:
                    refusal, closes_at = await database_sync_to_async(_rule_and_closing)(self.user, self.room_id)
                except Exception:
                    logger.warning("Media of room %s: the rule could not be read again", self.room_id, exc_info=True)
                    # Tried again in REFRESH_SECONDS, not at once.
                    refusal, closes_at = "", None
                if refusal:
                    await self.close(close_code(refusal))
                    return
                with contextlib.suppress(Exception):
                    await self._save_state()

    # -- the mediator's moderation -------------------------------------------------------

    async def _moderate(self, feed: Feed, mute: bool) -> None:
        """Cut (or give back) the audio of one of the person's feeds on Janus."""
        media = self.media
        for mid in feed.audio_mids():
            body = {"request": "moderate", "secret": media.secret, "room": media.janus_room, "id": feed.id}
            body |= {"mid": mid, "mute": mute}
            try:
                await asyncio.to_thread(janus.videoroom_request, media.server, body)
            except (janus.JanusUnavailable, janus.JanusError) as error:
                logger.warning("Media of room %s: (un)muting feed %s failed: %s", self.room_id, feed.id, error)

    async def set_muted(self, muted: bool) -> None:
        self.muted = muted
        for feed in list(self.feeds.values()):
            await self._moderate(feed, muted)
        await self._state_changed()

    # -- the hub's Connection: control messages only ----------------------------------------

    async def control(self, message: dict) -> None:
        op = message.get("op")
        if op == "close":
            self.cut(int(message.get("code", CLOSE_ROOM_CLOSED)))
        elif (op == "revoke" and message.get("case") == self.case_id) or (
            op == "media.remove" and message.get("room") == self.room_id
        ):
            # Out of the case (or the room), or out of its media by the mediator.
            self.cut(CLOSE_NOT_MEMBER)
        elif op == "media.mute" and message.get("room") == self.room_id and not self.closed:
            if self.upstream is None:
                self.muted = bool(message.get("muted"))
            else:
                spawn(self.set_muted(bool(message.get("muted"))))

    def heard(self, user_id: int, message: dict) -> None:
        """Never called: the socket enters the hub signed in already."""

    def deliver_now(self, frame, seq, burst) -> bool:
        # The room's frames are for its text sockets: taken, and dropped.
        return True

    async def deliver(self, frame, seq) -> None:
        return None

    def write_failed(self, seq_before: int) -> None:
        return None

    async def catch_up(self) -> None:
        return None

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None
