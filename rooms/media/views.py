"""The room's media endpoints, under `/rooms/<room id>/media/` (docs/media.md): JSON,
POST with the CSRF token (the people list is a GET), signed in. They parse,
authorise, call a service or a selector, and answer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mediation.errors import ActionForbidden, DomainError
from mediation.models import User
from rooms.media import credentials, presence, services
from rooms.media.rules import media_refusal, recording_state, refusal_text
from rooms.media.servers import MediaUnavailable, media_room_for
from rooms.ratelimit import SlidingWindowLimiter
from rooms.selectors import room_access

# Credentials one person may ask for per minute, per process: each may place the
# room's media and asks its Janus server whether the VideoRoom exists. A page asks
# for one when it joins the video and when it reconnects.
CREDENTIALS_PER_MINUTE = 20
_credential_limiter = SlidingWindowLimiter(limit=CREDENTIALS_PER_MINUTE, window=60)


def _refused(code: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "message": refusal_text(code)}, status=status)


def _room_refusal(refusal: str) -> JsonResponse:
    """How a room the person may not enter is refused: 404 only when there is no such
    room, the same 403 whether or not it exists for others."""
    return _refused(refusal, 404 if refusal == "no_such_room" else 403)


@login_required
@require_POST
def credential(request, room_id):
    """A short-lived credential for this person and room's media, with the socket to
    use it on and the ICE servers; or why not (403), or that video is unavailable
    now (503: no Janus server answered within JANUS_TIMEOUT_SECONDS)."""
    if not _credential_limiter.allow(request.user.pk):
        return JsonResponse(
            {"error": "rate_limited", "message": _("Too many requests for video; wait a minute and try again.")},
            status=429,
        )
    access = room_access(request.user, room_id)
    if access.refusal:
        return _room_refusal(access.refusal)
    refusal = media_refusal(request.user, access.room)
    if refusal:
        return _room_refusal(refusal)
    try:
        media_room_for(access.room)
    except MediaUnavailable:
        return _refused("media_unavailable", 503)
    issued = credentials.issue(request.user.pk, access.room.pk)
    return JsonResponse(
        {
            "credential": issued,
            "socket": f"/ws/media/{access.room.pk}/?credential={issued}",
            "iceServers": credentials.ice_servers(request.user.pk),
            "expiresIn": credentials.lifetime(),
            "me": request.user.pk,
            "recording": recording_state(request.user, access.room),
        }
    )


@login_required
@require_GET
def people(request, room_id):
    """Who is in the room's video now (the frame `{"type": "media"}` says the same
    when it changes)."""
    access = room_access(request.user, room_id)
    if access.refusal and access.refusal != "room_closed":
        return _room_refusal(access.refusal)
    return JsonResponse({"people": presence.people(access.room.pk)})


MODERATIONS = {
    "mute": services.mute_in_media,
    "unmute": services.unmute_in_media,
    "remove": services.remove_from_media,
    "readmit": services.readmit_to_media,
}


@login_required
@require_POST
def moderate(request, room_id, action):
    """The mediator mutes, unmutes, removes or readmits the person named by the
    form field `user`."""
    access = room_access(request.user, room_id)
    if access.refusal and access.refusal != "room_closed":
        return _room_refusal(access.refusal)
    room = access.room
    if room.case.mediator_id != request.user.pk:
        return JsonResponse(
            {"error": "not_mediator", "message": _("Only the case's mediator can do this.")}, status=403
        )
    given = request.POST.get("user", "")
    # An id is at most 19 digits (a 64-bit key): a longer number is no one, and int()
    # refuses one of more than 4300 digits.
    is_id = given.isascii() and given.isdigit() and len(given) <= 19
    user = User.objects.filter(pk=int(given)).first() if is_id else None
    if user is None:
        return JsonResponse({"error": "no_such_user", "message": _("Name a person of this room.")}, status=400)
    try:
        MODERATIONS[action](room=room, actor=request.user, user=user)
    except ActionForbidden as error:
        return JsonResponse({"error": "forbidden", "message": str(error)}, status=403)
    except DomainError as error:
        return JsonResponse({"error": error.code, "message": str(error.message)}, status=409)
    return JsonResponse({"ok": True, "people": presence.people(room.pk)})


def endpoints(room_id: int) -> dict:
    """The media endpoints of a room, for the room page's client configuration."""
    return {
        "credential": reverse("media_credential", args=[room_id]),
        "people": reverse("media_people", args=[room_id]),
        **{action: reverse(f"media_{action}", args=[room_id]) for action in MODERATIONS},
    }
