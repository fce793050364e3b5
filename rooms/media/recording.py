"""Recording a room's audio and video (录音录像), only with consent (docs/media.md).

- `consent_to_recording`: a person agrees to the room being recorded. Given while it
  records, the consent is for that recording; given before, it waits for the next one
  (RecordingConsent). Each recording needs everyone's consent afresh.
- `start_recording`: the room's mediator starts it, and only if every person in the
  media room now (as Janus lists them) has consented; the refusal names who has not.
  Janus then writes the room's streams into a folder of this recording's own.
- `stop_recording`: the mediator stops it; the platform stops it too when the room
  closes or the case ends (`stop_for_platform`). Its files are then processed into
  one case document (documents.services.recordings), after the commit.
- A person without consent cannot join the media room while it records (the media
  rule's check `consent_required`), so everyone in it has consented throughout.
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from mediation import audit
from mediation.errors import DomainError, TransitionNotAllowed
from mediation.models import MediationCase, User
from rooms.media import janus
from rooms.media.rules import register_check, register_recording_state
from rooms.models import MediaRecording, MediaRoom, RecordingConsent, Room

CONSENT_REQUIRED = "consent_required"


class RecordingRefused(DomainError):
    """Recording cannot start: someone in the media room has not consented (`missing`:
    who, as {"id", "name"}; "id" None for someone the platform cannot name)."""

    def __init__(self, message, *, missing: list[dict]):
        super().__init__(message, code="consent_missing")
        self.missing = missing


@dataclass(frozen=True)
class Present:
    """Someone in the media room, as Janus lists them."""

    publisher_id: int
    # The platform's person, from the display the media socket sets; None if the
    # display is not the platform's (then nobody can say who it is).
    user_id: int | None
    name: str


def active_recording(room: Room | int) -> MediaRecording | None:
    room_id = room if isinstance(room, int) else room.pk
    return MediaRecording.objects.filter(room_id=room_id, status=MediaRecording.Status.RECORDING).first()


def has_consented(user: User, room: Room, recording: MediaRecording | None) -> bool:
    """Whether `user` consented to `recording` (or, with None, to the room's next one)."""
    if recording is None:
        return RecordingConsent.objects.filter(room=room, user=user, recording__isnull=True).exists()
    return RecordingConsent.objects.filter(recording=recording, user=user).exists()


def recording_state(user: User, room: Room) -> dict:
    """What the room page and the credential answer tell `user`: whether the room is
    being recorded now, and whether they consented (to it, or else to the next one)."""
    recording = active_recording(room)
    return {"active": recording is not None, "consented": has_consented(user, room, recording)}


def consent_refusal(user: User, room: Room) -> str:
    """The media rule's check: while the room records, only those who consented to
    this recording may join its media."""
    recording = active_recording(room)
    if recording is None or has_consented(user, room, recording):
        return ""
    return CONSENT_REQUIRED


register_check(
    "recording_consent",
    consent_refusal,
    refusals={CONSENT_REQUIRED: gettext_lazy("This room is being recorded. Agree to the recording to join.")},
)
register_recording_state(recording_state)


def present_in_media_room(media: MediaRoom) -> list[Present]:
    """Who is in the media room now, as its Janus server lists them. Raises
    janus.JanusUnavailable / JanusError."""
    answer = janus.videoroom_request(media.server, {"request": "listparticipants", "room": media.janus_room})
    return [_present(participant) for participant in answer.get("participants") or []]


def _present(participant: dict) -> Present:
    publisher_id = int(participant.get("id") or 0)
    try:
        display = json.loads(participant.get("display") or "")
        user_id = int(display["id"])
        name = str(display.get("name") or "")
    except (ValueError, TypeError, KeyError):
        return Present(publisher_id=publisher_id, user_id=None, name="")
    return Present(publisher_id=publisher_id, user_id=user_id, name=name)


def _lock(room: Room) -> Room:
    # In the order every audited change takes its locks: the case, the audit chain,
    # then the room (see mediation.audit.hold_chain).
    case = MediationCase.objects.select_for_update().get(pk=room.case_id)
    audit.hold_chain()
    room = Room.objects.select_for_update().get(pk=room.pk)
    room.case = case
    return room


def _lock_as_mediator(room: Room, actor: User) -> Room:
    from rooms.services import _lock_room_as_mediator

    return _lock_room_as_mediator(room, actor)


@transaction.atomic
def consent_to_recording(*, room: Room, user: User) -> RecordingConsent:
    """Record that `user`, who may be in the room, agrees to it being recorded: to the
    recording going on, or else to the next one. Giving it again changes nothing."""
    from rooms.selectors import room_access
    from rooms.services import post_event

    access = room_access(user, room.pk)
    if access.refusal == "room_closed":
        raise TransitionNotAllowed(_("This room is closed."))
    if access.refusal:
        raise DomainError(_("You are not in this room."), code="not_member")
    room = _lock(room)
    recording = active_recording(room)
    existing = RecordingConsent.objects.filter(room=room, user=user, recording=recording).first()
    if existing is not None:
        return existing
    consent = RecordingConsent.objects.create(room=room, user=user, recording=recording, consented_at=timezone.now())
    audit.record(
        actor=user,
        action="recording.consent",
        target=consent,
        data={"case": room.case_id, "room": room.pk, "recording": recording.pk if recording else None},
    )
    post_event(room=room, kind="recording.consented", actor=user, data={"recording": consent.recording_id})
    return consent


def _names(people: list[dict]) -> str:
    return ", ".join(person["name"] or _("someone the platform cannot identify") for person in people)


def _refuse_unless_consented(present: list[Present], consented: set[int]) -> None:
    """RecordingRefused naming who of those `present` is not among `consented`."""
    missing = [
        {"id": each.user_id, "name": each.name}
        for each in present
        if each.user_id is None or each.user_id not in consented
    ]
    if missing:
        raise RecordingRefused(
            ngettext(
                "Recording cannot start: %(names)s has not agreed to the recording yet.",
                "Recording cannot start: %(names)s have not agreed to the recording yet.",
                len(missing),
            )
            % {"names": _names(missing)},
            missing=missing,
        )


@transaction.atomic
def start_recording(*, room: Room, actor: User) -> MediaRecording:
    """Start recording the room's media. Only its mediator may, only while the room is
    open and not recording, and only if everyone in the media room now has consented
    (RecordingRefused names who has not). Asks Janus (at most JANUS_TIMEOUT_SECONDS
    each): who is in the room, then to record into this recording's folder."""
    from rooms.media.servers import MediaUnavailable, media_room_for, recordings_dir
    from rooms.services import post_event

    room = _lock_as_mediator(room, actor)
    if room.is_closed:
        raise TransitionNotAllowed(_("This room is closed."))
    if active_recording(room) is not None:
        raise TransitionNotAllowed(_("This room is already being recorded."), code="already_recording")
    unavailable = _("Video is unavailable at the moment. The text conversation goes on.")
    try:
        media = media_room_for(room)
        present = present_in_media_room(media)
    except (MediaUnavailable, janus.JanusUnavailable, janus.JanusError) as error:
        raise DomainError(unavailable, code="media_unavailable") from error
    consented = set(
        RecordingConsent.objects.filter(room=room, recording__isnull=True).values_list("user_id", flat=True)
    )
    _refuse_unless_consented(present, consented)
    recording = MediaRecording.objects.create(
        room=room,
        started_by=actor,
        started_at=timezone.now(),
        server=media.server,
        janus_room=media.janus_room,
        folder="",
        publishers={str(each.publisher_id): {"id": each.user_id, "name": each.name} for each in present},
    )
    # A folder of this recording's own, never one that exists (a restored database
    # numbers recordings again): its files are this recording's and no other's.
    folder = Path(recordings_dir(media)) / f"recording-{recording.pk}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    recording.folder = str(folder)
    recording.save(update_fields=["folder"])
    try:
        with janus.videoroom_session(media.server) as session:
            session.videoroom(
                {"request": "edit", "room": media.janus_room, "secret": media.secret, "new_rec_dir": str(folder)}
            )
            session.videoroom(
                {"request": "enable_recording", "room": media.janus_room, "secret": media.secret, "record": True}
            )
            # Someone may have joined between the listing and the switch (their join
            # was let in before this recording is committed): asked again, now that
            # Janus records whoever is there, and switched off if one did not consent.
            listed = session.videoroom({"request": "listparticipants", "room": media.janus_room})
            present = [_present(participant) for participant in listed.get("participants") or []]
            try:
                _refuse_unless_consented(present, consented)
            except RecordingRefused:
                session.videoroom(
                    {"request": "enable_recording", "room": media.janus_room, "secret": media.secret, "record": False}
                )
                shutil.rmtree(folder, ignore_errors=True)
                raise
    except (janus.JanusUnavailable, janus.JanusError) as error:
        # Nothing recorded: the transaction (the recording's row) is undone.
        raise DomainError(unavailable, code="media_unavailable") from error
    for each in present:
        recording.publishers.setdefault(str(each.publisher_id), {"id": each.user_id, "name": each.name})
    recording.save(update_fields=["publishers"])
    RecordingConsent.objects.filter(room=room, recording__isnull=True).update(recording=recording)
    people = [{"id": each.user_id, "name": each.name} for each in present]
    audit.record(
        actor=actor,
        action="recording.start",
        target=recording,
        data={"case": room.case_id, "room": room.pk, "present": [person["id"] for person in people]},
    )
    post_event(
        room=room,
        kind="recording.started",
        actor=actor,
        data={"recording": recording.pk, "consented": [person["name"] for person in people]},
    )
    return recording


@transaction.atomic
def stop_recording(*, room: Room, actor: User) -> MediaRecording:
    """The mediator stops the room's recording; its files are processed after the commit."""
    room = _lock_as_mediator(room, actor)
    recording = _locked_active(room)
    if recording is None:
        raise TransitionNotAllowed(_("This room is not being recorded."), code="not_recording")
    return _stop(room, recording, actor=actor, reason=MediaRecording.StopReason.MEDIATOR)


def stop_for_platform(room: Room, reason: str) -> MediaRecording | None:
    """Stop the room's recording because the room closed, the case ended or its media
    server was lost (no one's act: the platform's). Inside the caller's transaction;
    None if the room was not recording."""
    room = _lock(room)
    recording = _locked_active(room)
    if recording is None:
        return None
    return _stop(room, recording, actor=None, reason=reason)


def _locked_active(room: Room) -> MediaRecording | None:
    return MediaRecording.objects.select_for_update().filter(room=room, status=MediaRecording.Status.RECORDING).first()


def _stop(room: Room, recording: MediaRecording, *, actor: User | None, reason: str) -> MediaRecording:
    from rooms.services import post_event

    stopped_on_server = _stop_on_server(recording)
    recording.status = MediaRecording.Status.PROCESSING
    recording.stopped_at = timezone.now()
    recording.stopped_by = actor
    recording.stop_reason = reason
    recording.save(update_fields=["status", "stopped_at", "stopped_by", "stop_reason", "publishers"])
    audit.record(
        actor=actor,
        action="recording.stop",
        target=recording,
        data={"case": room.case_id, "room": room.pk, "reason": reason, "stopped_on_server": stopped_on_server},
    )
    post_event(room=room, kind="recording.stopped", actor=actor, data={"recording": recording.pk, "reason": reason})
    recording_id = recording.pk
    transaction.on_commit(lambda: _recording_stopped(recording_id))
    return recording


def _stop_on_server(recording: MediaRecording) -> bool:
    """Tell Janus to stop recording (and note who is in the room by then, for naming
    their files). False if the server or its room is gone: its recording ended with it."""
    media = MediaRoom.objects.filter(room_id=recording.room_id).first()
    if media is None or (media.server, media.janus_room) != (recording.server, recording.janus_room):
        return False
    try:
        with janus.videoroom_session(media.server) as session:
            listed = session.videoroom({"request": "listparticipants", "room": media.janus_room})
            for participant in listed.get("participants") or []:
                each = _present(participant)
                recording.publishers.setdefault(str(each.publisher_id), {"id": each.user_id, "name": each.name})
            session.videoroom(
                {"request": "enable_recording", "room": media.janus_room, "secret": media.secret, "record": False}
            )
    except (janus.JanusUnavailable, janus.JanusError):
        return False
    return True


def _recording_stopped(recording_id: int) -> None:
    from rooms.signals import recording_stopped

    recording_stopped.send(sender=MediaRecording, recording_id=recording_id)


def stop_recordings_of_case(case: MediationCase, reason: str) -> list[MediaRecording]:
    """Stop every recording of the case's rooms (the case ended). Inside the caller's
    transaction."""
    stopped = []
    for room in Room.objects.filter(case=case, recordings__status=MediaRecording.Status.RECORDING).distinct():
        recording = stop_for_platform(room, reason)
        if recording is not None:
            stopped.append(recording)
    return stopped


def stop_stale_recordings() -> list[MediaRecording]:
    """Stop the recordings that should have stopped with nobody to say so: their room
    closed by the clock (a settled case's grace period), their case ended, or their
    media moved to another server. What `process_recordings` does first."""
    stopped = []
    for recording in MediaRecording.objects.filter(status=MediaRecording.Status.RECORDING).select_related(
        "room", "room__case", "room__media"
    ):
        room = recording.room
        media = getattr(room, "media", None)
        if not room.case.is_open:
            reason = MediaRecording.StopReason.CASE_ENDED
        elif room.is_closed:
            reason = MediaRecording.StopReason.ROOM_CLOSED
        elif media is None or (media.server, media.janus_room) != (recording.server, recording.janus_room):
            reason = MediaRecording.StopReason.SERVER_LOST
        else:
            continue
        with transaction.atomic():
            result = stop_for_platform(room, reason)
        if result is not None:
            stopped.append(result)
    return stopped
