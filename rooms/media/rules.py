"""May this person join this room's media now? One rule, asked where a credential is
issued and again by the media socket when the credential is used.

The room's own rule first (rooms.selectors.room_access: the membership rule of the
room's socket, and the room not closed), then each registered check in turn (removed
from the media room by the mediator; recording without this person's consent ...).
A check answers a refusal code, or "" to let the person in.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from mediation.models import User
from rooms.models import Room
from rooms.selectors import room_access

Check = Callable[[User, Room], str]
_checks: list[tuple[str, Check]] = []

# What each refusal tells the person (shown by the room page; the media socket closes
# with the code of rooms.protocol for the first three).
REFUSALS = {
    "no_such_room": _("This room does not exist."),
    "not_member": _("You are not in this room."),
    "room_closed": _("This room is closed."),
    "media_unavailable": _("Video is unavailable at the moment. The text conversation goes on."),
}


def register_check(name: str, check: Check, *, refusals: dict | None = None) -> None:
    """Add a check to the rule (once per name), with what its refusal codes say."""
    if any(existing == name for existing, _check in _checks):
        return
    _checks.append((name, check))
    REFUSALS.update(refusals or {})


def media_refusal(user: User, room: Room | int) -> str:
    """Why `user` may not join the room's media now, as a code; "" if they may."""
    access = room_access(user, room if isinstance(room, int) else room.pk)
    if access.refusal:
        return access.refusal
    for _name, check in _checks:
        refusal = check(user, access.room)
        if refusal:
            return refusal
    return ""


def refusal_text(code: str) -> str:
    return str(REFUSALS.get(code, REFUSALS["not_member"]))


# -- recording's state, as the credential endpoint tells it ---------------------------

RecordingState = Callable[[User, Room], dict]
_recording_state: list[RecordingState] = []


def register_recording_state(provider: RecordingState) -> None:
    """Who answers `recording_state` (the recording's own module); the last one
    registered."""
    _recording_state[:] = [provider]


def recording_state(user: User, room: Room) -> dict:
    """Whether the room's media is being recorded, and whether `user` consented:
    `{"active": bool, "consented": bool}`. Not recording unless a provider says so."""
    if _recording_state:
        return _recording_state[0](user, room)
    return {"active": False, "consented": False}
