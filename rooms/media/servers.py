"""Which Janus server a room's media lives on.

A room's media is placed when first needed (someone asks to join it): on the live
server of JANUS_SERVERS with the fewest media rooms, and recorded (MediaRoom, and
the audit trail). It stays there while that server lives. A server that stops is
skipped for new rooms; a room whose server stopped is placed again on a live one
(its VideoRoom died with the server). Janus keeps rooms in memory only, so a room is
created again on its server if that server restarted meanwhile.
"""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from mediation import audit
from rooms.media import janus
from rooms.models import MediaRoom, Room

logger = logging.getLogger(__name__)

# Browsers' numbers hold integers below 2**53: so must a VideoRoom's id.
_ROOM_ID_LIMIT = 2**53

# The VideoRoom's limits: everyone of a joint room publishing (mediator, judge,
# parties, agents, interpreters) and video at a bitrate a phone on a weak network holds.
PUBLISHERS = 24
BITRATE = 512_000


class MediaUnavailable(Exception):
    """No media server answers: the room says video is unavailable; text goes on."""


def live_servers(skip: str | None = None) -> list[str]:
    """The configured servers (but `skip`, known stopped) that answer now, in the
    settings' order. They are asked all at once: a stopped or hung server costs at
    most JANUS_TIMEOUT_SECONDS in all, not that much per server."""
    urls = [url for url in settings.JANUS_SERVERS if url != skip]
    if not urls:
        return []

    def answers(url: str) -> bool:
        try:
            janus.server_info(url)
        except janus.JanusUnavailable:
            return False
        except janus.JanusError as error:
            # It answers but refuses the platform: its files are not this platform's.
            _refused(url, error)
            return False
        return True

    with ThreadPoolExecutor(max_workers=min(len(urls), 16)) as pool:
        return [url for url, live in zip(urls, pool.map(answers, urls), strict=True) if live]


def _least_loaded(urls: list[str]) -> str:
    counts = dict(MediaRoom.objects.filter(server__in=urls).values_list("server").annotate(n=Count("id")))
    return min(urls, key=lambda url: (counts.get(url, 0), urls.index(url)))


def videoroom_settings(media: MediaRoom) -> dict:
    """The `create` request of a media room's VideoRoom."""
    room = media.room
    return janus.with_admin_key(
        {
            "request": "create",
            "room": media.janus_room,
            "description": f"{room.case_id}/{room.kind}",
            "secret": media.secret,
            "allowed": [media.join_token],
            "is_private": True,
            "publishers": PUBLISHERS,
            "bitrate": BITRATE,
            "fir_freq": 10,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "notify_joining": True,
            "record": False,
            "rec_dir": str(recordings_dir(media)),
            "permanent": False,
        }
    )


def recordings_dir(media: MediaRoom):
    from pathlib import Path

    return Path(settings.JANUS_RECORDINGS_DIR) / f"case-{media.room.case_id}" / f"room-{media.room_id}"


def _ensure_videoroom(media: MediaRoom) -> None:
    """Create the VideoRoom on its server unless it exists there."""
    with janus.videoroom_session(media.server) as session:
        exists = session.videoroom({"request": "exists", "room": media.janus_room})
        if not exists.get("exists"):
            recordings_dir(media).mkdir(parents=True, exist_ok=True)
            try:
                session.videoroom(videoroom_settings(media))
            except janus.JanusError as error:
                if error.code != janus.ROOM_EXISTS:
                    raise


def media_room_for(room: Room) -> MediaRoom:
    """The room's media room, placed on a live server and existing there now. Raises
    MediaUnavailable if no server answers (waiting at most JANUS_TIMEOUT_SECONDS for
    the room's own server, then as long again for all the others, asked at once) or
    a server refuses the platform (logged: its files are not this platform's)."""
    media = MediaRoom.objects.select_related("room").filter(room=room).first()
    if media is not None and media.server in settings.JANUS_SERVERS:
        try:
            _ensure_videoroom(media)
            return media
        except janus.JanusUnavailable:
            pass
        except janus.JanusError as error:
            raise _refused(media.server, error) from error
    live = live_servers(skip=media.server if media is not None else None)
    if not live:
        raise MediaUnavailable
    media = _place(room, _least_loaded(live))
    try:
        _ensure_videoroom(media)
    except janus.JanusUnavailable as error:
        raise MediaUnavailable from error
    except janus.JanusError as error:
        raise _refused(media.server, error) from error
    return media


def _refused(url: str, error: janus.JanusError) -> MediaUnavailable:
    logger.error("Janus %s refuses the platform's requests (%s): run media_config and restart it", url, error)
    return MediaUnavailable()


@transaction.atomic
def _place(room: Room, server: str) -> MediaRoom:
    """Record that the room's media lives on `server` (a new VideoRoom id and secrets)."""
    room = Room.objects.select_for_update().get(pk=room.pk)
    previous = MediaRoom.objects.filter(room=room).first()
    values = {
        "server": server,
        "janus_room": secrets.randbelow(_ROOM_ID_LIMIT - 1) + 1,
        "secret": secrets.token_urlsafe(24),
        "join_token": secrets.token_urlsafe(24),
        "placed_at": timezone.now(),
    }
    media, _created = MediaRoom.objects.update_or_create(room=room, defaults=values)
    audit.record(
        actor=None,
        action="media.placed",
        target=room,
        data={"case": room.case_id, "server": server, "previous": previous.server if previous else None},
    )
    media.room = room
    return media
