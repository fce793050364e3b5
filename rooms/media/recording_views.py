"""The room page's recording endpoints (JSON, POST, CSRF, signed in):
`/rooms/<id>/media/recording/consent/`, `.../start/`, `.../stop/`. Each answers the
room's recording state for the caller, or `{"error": code, "message": text}`: 404 for
someone not in the room, 403 for who may not do it (start and stop: the room's
mediator only), 409 when it is not possible now (start: who has not consented, as
`missing`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_POST

from mediation.errors import ActionForbidden, DomainError
from rooms.media import recording
from rooms.membership import member_of
from rooms.models import Room


def _state(user, room) -> dict:
    return {"recording": recording.recording_state(user, room)}


@login_required
@require_POST
def recording_action(request, room_id, action):
    room = Room.objects.select_related("case").filter(pk=room_id).first()
    if room is None or member_of(request.user, room) is None:
        raise Http404
    try:
        if action == "consent":
            recording.consent_to_recording(room=room, user=request.user)
        elif action == "start":
            recording.start_recording(room=room, actor=request.user)
        elif action == "stop":
            recording.stop_recording(room=room, actor=request.user)
        else:
            raise Http404
    except ActionForbidden as error:
        return JsonResponse({"error": "forbidden", "message": str(error)}, status=403)
    except recording.RecordingRefused as error:
        return JsonResponse({"error": error.code, "message": error.message, "missing": error.missing}, status=409)
    except DomainError as error:
        return JsonResponse({"error": error.code, "message": error.message}, status=409)
    return JsonResponse(_state(request.user, room))
