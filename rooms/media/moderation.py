"""The mediator's moderation of a room's media, as read: who is muted or removed
there now (rooms.models.MediaModeration; rooms.media.services changes it). A person
removed from a room's media may not join it again until readmitted: a check of the
media rule (rooms.media.rules)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rooms.media.rules import register_check
from rooms.models import MediaModeration


def _active(room_id: int, user_id: int, kind: str) -> bool:
    return MediaModeration.objects.filter(room_id=room_id, user_id=user_id, kind=kind, lifted_at__isnull=True).exists()


def is_muted(room_id: int, user_id: int) -> bool:
    return _active(room_id, user_id, MediaModeration.Kind.MUTE)


def is_removed(room_id: int, user_id: int) -> bool:
    return _active(room_id, user_id, MediaModeration.Kind.REMOVAL)


def moderated_in(room_id: int) -> dict[int, set[str]]:
    """user id -> the kinds of moderation on them in the room now."""
    found: dict[int, set[str]] = {}
    for user_id, kind in MediaModeration.objects.filter(room_id=room_id, lifted_at__isnull=True).values_list(
        "user_id", "kind"
    ):
        found.setdefault(user_id, set()).add(kind)
    return found


def removed_from_media(user, room) -> str:
    return "removed_from_media" if is_removed(room.pk, user.pk) else ""


register_check(
    "removed_from_media",
    removed_from_media,
    refusals={"removed_from_media": _("The mediator removed you from this room's video.")},
)
