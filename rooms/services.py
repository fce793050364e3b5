"""Room state changes other than messages (rooms.store): system events (with the
room's next sequence number, in the transaction that records them), closing and
reopening rooms, muting, read marks. Frames go out only after the change is
committed."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, RoomKind, User
from mediation.participation import CAUCUS_OF_SIDE
from mediation.services.cases import lock_case, lock_work_order_of
from rooms.events import check_event
from rooms.hub import get_hub
from rooms.membership import member_of
from rooms.models import ReadMark, Room, RoomEntry, RoomMute
from rooms.protocol import CLOSE_ROOM_CLOSED, encode, entry_frame
from rooms.store import allocate_seq, author_snapshot


@transaction.atomic
def create_rooms_for_case(case: MediationCase) -> list[Room]:
    return [Room.objects.get_or_create(case=case, kind=kind)[0] for kind in RoomKind.values]


def _actor_snapshot(user: User | None, room: Room) -> dict | None:
    if user is None:
        return None
    member = member_of(user, room)
    if member is not None:
        return author_snapshot(member)
    return {"id": user.pk, "name": str(user), "role": "staff", "side": None}


def publish_after_commit(room_id: int, entry: RoomEntry) -> None:
    frame = encode(entry_frame(entry))
    seq = entry.seq
    transaction.on_commit(lambda: get_hub().publish_room_threadsafe(room_id, frame, seq))


def post_event(*, room: Room, kind: str, actor: User | None = None, data: dict | None = None) -> RoomEntry:
    """Persist a system event in the room's sequence and broadcast it after commit.
    Other apps (documents: served, signed, sealed) call this inside their own
    transaction. `kind` and `data` are one of rooms.events.EVENTS (UnknownEvent
    otherwise)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Room events are posted inside the transaction of the change they record.")
    # Only the kinds of the catalogue, each with its params (rooms.events).
    check_event(kind, data or {})
    seq = allocate_seq(room.pk)
    entry = RoomEntry.objects.create(
        room=room,
        seq=seq,
        kind=kind,
        author=actor,
        data={"actor": _actor_snapshot(actor, room), **(data or {})},
        created_at=timezone.now(),
    )
    publish_after_commit(room.pk, entry)
    return entry


def post_case_event(
    *,
    case: MediationCase,
    kind: str,
    actor: User | None = None,
    data: dict | None = None,
    side: str | None = None,
    side_only: bool = False,
) -> list[RoomEntry]:
    """Post an event of the case in the rooms of those it is for.

    A fact for the whole case goes to the joint room, and to `side`'s caucus as well
    when it concerns that side. A side-only fact (`side_only`: it names something only
    that side and the mediator may see, such as a side-only document) goes to that
    side's caucus alone: the joint room is read by the other side too, live, on resume
    and in its history, and its sequence numbers would count the entry."""
    if side_only and side not in CAUCUS_OF_SIDE:
        # No side's caucus to tell (the person has left the case): told nobody rather
        # than everyone.
        return []
    kinds = [] if side_only else [RoomKind.JOINT]
    if side in CAUCUS_OF_SIDE:
        kinds.append(CAUCUS_OF_SIDE[side])
    return [
        post_event(room=room, kind=kind, actor=actor, data=data)
        for room in Room.objects.filter(case=case, kind__in=kinds)
    ]


def _lock_room_as_mediator(room: Room, actor: User) -> Room:
    # In the order every audited change takes its locks: the case, the audit chain,
    # then rooms (a case's change records, then posts its room events). In another
    # order two changes can each hold what the other waits for, and PostgreSQL fails
    # one of them.
    case = MediationCase.objects.select_for_update().get(pk=room.case_id)
    audit.hold_chain()
    room = Room.objects.select_for_update().get(pk=room.pk)
    room.case = case
    if case.mediator_id != actor.pk:
        raise ActionForbidden(_("Only the case's mediator can do this."))
    return room


@transaction.atomic
def close_room(*, room: Room, actor: User) -> Room:
    """Close the room to new messages; everyone in it is disconnected (4408)."""
    room = _lock_room_as_mediator(room, actor)
    if room.is_closed:
        raise TransitionNotAllowed(_("This room is already closed."))
    room.closed_at = timezone.now()
    room.closed_by = actor
    room.save(update_fields=["closed_at", "closed_by"])
    post_event(room=room, kind="room.closed", actor=actor)
    # A closed room is no longer recorded.
    from rooms.media.recording import stop_for_platform
    from rooms.models import MediaRecording

    stop_for_platform(room, MediaRecording.StopReason.ROOM_CLOSED)
    audit.record(actor=actor, action="room.close", target=room, data={"case": room.case_id})
    room_id = room.pk
    transaction.on_commit(
        lambda: get_hub().publish_room_control_threadsafe(room_id, {"op": "close", "code": CLOSE_ROOM_CLOSED})
    )
    return room


@transaction.atomic
def reopen_room(*, room: Room, actor: User) -> Room:
    room = _lock_room_as_mediator(room, actor)
    # Reopening also lifts a closing still pending (`closes_at` ahead).
    if room.closed_at is None and room.closes_at is None:
        raise TransitionNotAllowed(_("This room is open."))
    if not room.case.is_open:
        raise TransitionNotAllowed(_("The case has ended; its rooms stay closed."))
    room.closed_at = None
    room.closed_by = None
    room.closes_at = None
    room.save(update_fields=["closed_at", "closed_by", "closes_at"])
    post_event(room=room, kind="room.reopened", actor=actor, data={"reason": None})
    audit.record(actor=actor, action="room.reopen", target=room, data={"case": room.case_id})
    return room


# Why a settled case's joint room is opened again: codes stored in the room's event and
# the audit trail. To talk about performing the agreed terms (履行), or for the judge
# reviewing the parties' application for judicial confirmation (司法确认) to question them.
FOLLOW_UP_REASONS = ("performance", "judicial_review")


def may_reopen_for_follow_up(user: User, case: MediationCase, reason: str) -> bool:
    """Whether `user` may reopen the joint room of `case` after its settlement for
    `reason` (one of FOLLOW_UP_REASONS): the case is settled, and the user is its
    mediator, or for a judicial review its mediator or its judge. The room page asks
    this to offer the button; `reopen_for_follow_up` checks it."""
    if user is None or not user.is_authenticated or case.status != MediationCase.Status.SETTLED:
        return False
    if reason == "performance":
        return case.mediator_id == user.pk
    if reason == "judicial_review":
        return user.pk in {case.mediator_id, case.judge_id}
    return False


@transaction.atomic
def reopen_for_follow_up(*, room: Room, actor: User, reason: str) -> Room:
    """Open the joint room of a settled case to new messages again (closed after the
    agreement's seal, or closing at the end of its grace period), for `reason`, one of
    FOLLOW_UP_REASONS; the pending closing is lifted, so the room stays open until the
    mediator closes it (`close_room`). Caucus rooms stay closed. Who may: see
    `may_reopen_for_follow_up`. Locks the case, the audit chain, then the room.

    Open cases' rooms are reopened by `reopen_room`."""
    if reason not in FOLLOW_UP_REASONS:
        raise ValueError(f"Unknown reason for reopening a room: {reason!r}")
    case = MediationCase.objects.select_for_update().get(pk=room.case_id)
    audit.hold_chain()
    room = Room.objects.select_for_update().get(pk=room.pk)
    room.case = case
    if actor.pk not in {case.mediator_id, case.judge_id}:
        raise ActionForbidden(_("Only the case's mediator or judge can do this."))
    if case.status != MediationCase.Status.SETTLED:
        raise TransitionNotAllowed(_("Only a settled case's joint room can be reopened to follow up on the agreement."))
    if not may_reopen_for_follow_up(actor, case, reason):
        raise ActionForbidden(_("Only the case's mediator can reopen the room to talk about performance."))
    if room.kind != RoomKind.JOINT:
        raise TransitionNotAllowed(
            _("A caucus room stays closed once the case is settled; reopen the joint room instead.")
        )
    if room.closed_at is None and room.closes_at is None:
        raise TransitionNotAllowed(_("This room is open."))
    room.closed_at = None
    room.closed_by = None
    room.closes_at = None
    room.save(update_fields=["closed_at", "closed_by", "closes_at"])
    post_event(room=room, kind="room.reopened", actor=actor, data={"reason": reason})
    audit.record(actor=actor, action="room.reopen", target=room, data={"case": case.pk, "reason": reason})
    return room


@transaction.atomic
def mute_participant(*, room: Room, actor: User, user: User) -> RoomMute:
    room = _lock_room_as_mediator(room, actor)
    member = member_of(user, room)
    if member is None or member.role in ("mediator", "judge"):
        raise TransitionNotAllowed(_("Only a party's participant in this room can be muted."))
    if RoomMute.objects.filter(room=room, user=user, lifted_at__isnull=True).exists():
        raise TransitionNotAllowed(_("%(name)s is already muted here.") % {"name": user})
    mute = RoomMute.objects.create(room=room, user=user, muted_by=actor)
    # Before the event: a client that sees the event knows its socket heard the mute.
    _tell_sockets_after_commit(room.pk, user.pk, muted=True)
    post_event(room=room, kind="participant.muted", actor=actor, data={"user": member.as_dict()})
    audit.record(actor=actor, action="room.mute", target=room, data={"user": user.pk})
    return mute


@transaction.atomic
def unmute_participant(*, room: Room, actor: User, user: User) -> RoomMute:
    room = _lock_room_as_mediator(room, actor)
    mute = RoomMute.objects.select_for_update().filter(room=room, user=user, lifted_at__isnull=True).first()
    if mute is None:
        raise TransitionNotAllowed(_("%(name)s is not muted here.") % {"name": user})
    mute.lifted_at = timezone.now()
    mute.save(update_fields=["lifted_at"])
    _tell_sockets_after_commit(room.pk, user.pk, muted=False)
    post_event(room=room, kind="participant.unmuted", actor=actor, data={"user": {"id": user.pk, "name": str(user)}})
    audit.record(actor=actor, action="room.unmute", target=room, data={"user": user.pk})
    return mute


def _tell_sockets_after_commit(room_id: int, user_id: int, *, muted: bool) -> None:
    """The user's sockets in the room stop (or start again) relaying their typing
    indicators, on every process (their messages the store refuses or takes by itself).
    Published in the order committed callbacks were added, on the hub's one channel."""
    transaction.on_commit(
        lambda: get_hub().publish_room_control_threadsafe(room_id, {"op": "mute", "user": user_id, "muted": muted})
    )


def mark_read(*, room_id: int, user: User, seq: int) -> int | None:
    """Move the user's read mark forward (never back). Returns the new mark, or None
    if the user may not read this room."""
    room = Room.objects.select_related("case").filter(pk=room_id).first()
    if room is None or member_of(user, room) is None:
        return None
    seq = min(seq, room.last_seq)
    # One write per mark moved: an update of the user's mark if it is behind, else
    # their first mark, created at `seq`.
    behind = ReadMark.objects.filter(room=room, user=user, seq__lt=seq)
    if behind.update(seq=seq, updated_at=timezone.now()):
        return seq
    mark, created = ReadMark.objects.get_or_create(room=room, user=user, defaults={"seq": seq})
    if created or mark.seq >= seq:
        return mark.seq
    # Another of the user's sockets created it meanwhile, behind this mark.
    behind.update(seq=seq, updated_at=timezone.now())
    return seq


# Why a case's rooms are set to close: codes stored in the event and the audit trail,
# rendered for each reader in their language.
CLOSING_REASONS = ("agreement_sealed",)


@transaction.atomic
def schedule_rooms_closing(
    *, case: MediationCase, at: dt.datetime, reason: str, actor: User | None = None
) -> list[Room]:
    """Set every room of the case to close to new messages at `at` (a grace period for
    last words), record it in each room still open and in the audit trail.

    Takes its locks in the order every audited change does: the case, its work order,
    the audit chain, then the rooms (by id). A caller that already holds them, as
    sealing an agreement does, keeps them; taking them again here changes nothing."""
    if reason not in CLOSING_REASONS:
        raise ValueError(f"Unknown reason for closing rooms: {reason!r}")
    lock_work_order_of(lock_case(case))
    audit.hold_chain()
    rooms = list(Room.objects.select_for_update().filter(case=case).order_by("pk"))
    for room in rooms:
        room.closes_at = at
        room.save(update_fields=["closes_at"])
        audit.record(
            actor=actor,
            action="room.schedule_close",
            target=room,
            data={"case": case.pk, "closes_at": at.isoformat(), "reason": reason},
        )
        if not room.is_closed:
            # A room the mediator closed already hears nothing more.
            post_event(
                room=room, kind="room.closing", actor=actor, data={"closes_at": at.isoformat(), "reason": reason}
            )
    return rooms
