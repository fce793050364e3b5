"""What rooms do when something happens in a case (mediation.signals). Each receiver
runs inside the transaction of the case change, so the room event is stored exactly
when the change is."""

from django.db import transaction
from django.dispatch import receiver

from mediation import signals
from mediation.models import RoomKind
from rooms.hub import get_hub
from rooms.models import Room
from rooms.services import create_rooms_for_case, post_case_event, post_event


def _participant_data(participant) -> dict:
    return {
        "user": {"id": participant.user_id, "name": str(participant.user)},
        "role": participant.role,
        "side": participant.party.side,
        "party": participant.party.name,
    }


@receiver(signals.case_opened)
def open_rooms(sender, case, **kwargs):
    create_rooms_for_case(case)


@receiver(signals.participant_joined)
def announce_joining(sender, participant, **kwargs):
    post_case_event(
        case=participant.case,
        kind="participant.joined",
        actor=participant.user,
        data=_participant_data(participant),
        side=participant.party.side,
    )


@receiver(signals.participant_removed)
def revoke_removed_participant(sender, participant, **kwargs):
    post_case_event(
        case=participant.case,
        kind="participant.left",
        actor=participant.removed_by,
        data=_participant_data(participant),
        side=participant.party.side,
    )
    user_id, case_id = participant.user_id, participant.case_id
    # Their sockets close as soon as the removal is committed, on every process.
    transaction.on_commit(lambda: get_hub().publish_user_control_threadsafe(user_id, {"op": "revoke", "case": case_id}))


def _session_room(session) -> Room | None:
    return Room.objects.filter(case=session.case, kind=session.room_kind).first()


@receiver(signals.session_started)
def announce_session_start(sender, session, **kwargs):
    room = _session_room(session)
    if room is not None:
        post_event(room=room, kind="session.started", actor=session.case.mediator, data={"session": session.pk})


@receiver(signals.session_ended)
def announce_session_end(sender, session, **kwargs):
    room = _session_room(session)
    if room is not None:
        post_event(room=room, kind="session.ended", actor=session.case.mediator, data={"session": session.pk})


@receiver(signals.case_status_changed)
def announce_case_status(sender, case, from_status, **kwargs):
    room = Room.objects.filter(case=case, kind=RoomKind.JOINT).first()
    if room is not None:
        post_event(room=room, kind="case.status", data={"from": from_status, "to": case.status})


@receiver(signals.case_status_changed)
def stop_recording_when_case_ends(sender, case, from_status, **kwargs):
    """A case that ended (settled, failed, withdrawn) is no longer recorded."""
    if not case.is_open:
        from rooms.media.recording import stop_recordings_of_case
        from rooms.models import MediaRecording

        stop_recordings_of_case(case, MediaRecording.StopReason.CASE_ENDED)


@receiver(signals.case_mediator_changed)
def revoke_previous_mediator(sender, case, previous, mediator, **kwargs):
    """A replaced mediator (a granted recusal) leaves the case's rooms at once: their
    sockets close as soon as the change is committed, on every process, and the
    membership rule (the case's mediator) keeps them out from then on."""
    if previous is None or previous.pk == mediator.pk:
        return
    user_id, case_id = previous.pk, case.pk
    transaction.on_commit(lambda: get_hub().publish_user_control_threadsafe(user_id, {"op": "revoke", "case": case_id}))
