"""The mediator's moderation of a room's media: mute and unmute a person's
microphone, remove a person from the media and readmit them.

Each is the case's mediator's only (like muting in the text room,
rooms.services.mute_participant), in one transaction: the moderation row (so that
it holds when the person joins again), a room event in that room only (a caucus's
stays in the caucus), the audit entry; once committed, the person's media sockets in
that room hear it through the hub on every process (rooms.media.socket): a mute cuts
the audio of their feeds on Janus, a removal closes their sockets (4403), which
destroys their Janus session, and the platform also kicks their feeds from the
VideoRoom itself.
"""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import audit
from mediation.errors import TransitionNotAllowed
from mediation.models import User
from rooms.hub import get_hub
from rooms.media import janus
from rooms.membership import member_of
from rooms.models import MediaModeration, MediaRoom, Room
from rooms.services import _lock_room_as_mediator, post_event

logger = logging.getLogger(__name__)


def _moderated_member(room: Room, user: User):
    member = member_of(user, room)
    if member is None or member.role in ("mediator", "judge"):
        raise TransitionNotAllowed(_("Only a party's participant in this room can be moderated in its video."))
    return member


def _tell_sockets_after_commit(room_id: int, user_id: int, message: dict) -> None:
    transaction.on_commit(lambda: get_hub().publish_user_control_threadsafe(user_id, {**message, "room": room_id}))


def _moderate(*, room: Room, actor: User, user: User, kind: str):
    """Record a moderation of `user` in the room; (the locked room, the member,
    the row)."""
    room = _lock_room_as_mediator(room, actor)
    member = _moderated_member(room, user)
    if MediaModeration.objects.filter(room=room, user=user, kind=kind, lifted_at__isnull=True).exists():
        if kind == MediaModeration.Kind.MUTE:
            raise TransitionNotAllowed(_("%(name)s is already muted in this room's video.") % {"name": user})
        raise TransitionNotAllowed(_("%(name)s is already removed from this room's video.") % {"name": user})
    moderation = MediaModeration.objects.create(room=room, user=user, kind=kind, by=actor)
    return room, {"id": member.id, "name": member.name}, moderation


def _lift(*, room: Room, actor: User, user: User, kind: str):
    """Lift the moderation of `user` in the room; (the locked room, the person, the row)."""
    room = _lock_room_as_mediator(room, actor)
    moderation = (
        MediaModeration.objects.select_for_update()
        .filter(room=room, user=user, kind=kind, lifted_at__isnull=True)
        .first()
    )
    if moderation is None:
        if kind == MediaModeration.Kind.MUTE:
            raise TransitionNotAllowed(_("%(name)s is not muted in this room's video.") % {"name": user})
        raise TransitionNotAllowed(_("%(name)s is not removed from this room's video.") % {"name": user})
    moderation.lifted_at = timezone.now()
    moderation.lifted_by = actor
    moderation.save(update_fields=["lifted_at", "lifted_by"])
    return room, {"id": user.pk, "name": str(user)}, moderation


def _audit(action: str, actor: User, room: Room, user: User) -> None:
    audit.record(actor=actor, action=action, target=room, data={"case": room.case_id, "user": user.pk})


@transaction.atomic
def mute_in_media(*, room: Room, actor: User, user: User) -> MediaModeration:
    """Cut `user`'s microphone in the room's video, on every feed they publish now or
    later, until unmuted. The case's mediator only, of a party's participant in the
    room; locks the case, the audit chain, the room."""
    room, person, moderation = _moderate(room=room, actor=actor, user=user, kind=MediaModeration.Kind.MUTE)
    post_event(room=room, kind="media.muted", actor=actor, data={"user": person})
    _audit("media.muted", actor, room, user)
    _tell_sockets_after_commit(room.pk, user.pk, {"op": "media.mute", "muted": True})
    return moderation


@transaction.atomic
def unmute_in_media(*, room: Room, actor: User, user: User) -> MediaModeration:
    room, person, moderation = _lift(room=room, actor=actor, user=user, kind=MediaModeration.Kind.MUTE)
    post_event(room=room, kind="media.unmuted", actor=actor, data={"user": person})
    _audit("media.unmuted", actor, room, user)
    _tell_sockets_after_commit(room.pk, user.pk, {"op": "media.mute", "muted": False})
    return moderation


@transaction.atomic
def remove_from_media(*, room: Room, actor: User, user: User) -> MediaModeration:
    """Take `user` out of the room's video: their media sockets close (4403), their
    feeds are kicked from the VideoRoom, and they may not join again until
    readmitted. Their text room is not concerned. The case's mediator only."""
    room, person, moderation = _moderate(room=room, actor=actor, user=user, kind=MediaModeration.Kind.REMOVAL)
    post_event(room=room, kind="media.removed", actor=actor, data={"user": person})
    _audit("media.removed", actor, room, user)
    _tell_sockets_after_commit(room.pk, user.pk, {"op": "media.remove"})
    room_id, user_id = room.pk, user.pk
    transaction.on_commit(lambda: kick_from_videoroom(room_id, user_id))
    return moderation


@transaction.atomic
def readmit_to_media(*, room: Room, actor: User, user: User) -> MediaModeration:
    room, person, moderation = _lift(room=room, actor=actor, user=user, kind=MediaModeration.Kind.REMOVAL)
    post_event(room=room, kind="media.readmitted", actor=actor, data={"user": person})
    _audit("media.readmitted", actor, room, user)
    return moderation


def kick_from_videoroom(room_id: int, user_id: int) -> int:
    """Kick every participant of the room's VideoRoom whose display names `user_id`
    (a socket on a process the hub could not reach, say); how many were kicked.
    Bounded by JANUS_TIMEOUT_SECONDS; a server that does not answer kicks nobody
    (its sessions end with it)."""
    media = MediaRoom.objects.filter(room_id=room_id).first()
    if media is None:
        return 0
    kicked = 0
    try:
        with janus.videoroom_session(media.server) as session:
            listed = session.videoroom({"request": "listparticipants", "room": media.janus_room})
            for participant in listed.get("participants") or []:
                if _display_user(participant.get("display")) != user_id:
                    continue
                try:
                    session.videoroom(
                        {"request": "kick", "secret": media.secret, "room": media.janus_room, "id": participant["id"]}
                    )
                    kicked += 1
                except janus.JanusError as error:
                    if error.code != janus.NO_SUCH_FEED:
                        raise
    except (janus.JanusUnavailable, janus.JanusError) as error:
        logger.warning("Kicking user %s from the media of room %s failed: %s", user_id, room_id, error)
    return kicked


def _display_user(display) -> int | None:
    try:
        value = json.loads(display)
    except (TypeError, ValueError):
        return None
    return value.get("id") if isinstance(value, dict) else None
