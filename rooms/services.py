"""Room state changes: storing messages and events (each with the room's next
sequence number, in the transaction that inserts it), closing and reopening rooms,
muting, read marks. Frames go out only after the change is committed."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, Participant, RoomKind, User
from rooms.hub import get_hub
from rooms.membership import Member, member_of
from rooms.models import ReadMark, Room, RoomEntry, RoomMute
from rooms.protocol import CLOSE_ROOM_CLOSED, encode, entry_frame


@dataclass(frozen=True)
class PostRequest:
    room_id: int
    author: Member
    client_id: uuid.UUID
    body: str


@dataclass
class PostResult:
    """`stored` (new), `duplicate` (this client_id was stored before: `entry` is
    that one) or `refused` (`code` says why; nothing stored)."""

    outcome: str
    entry: RoomEntry | None = None
    code: str = ""
    detail: object = ""


def _refused(code: str, detail: str) -> PostResult:
    return PostResult("refused", code=code, detail=detail)


@transaction.atomic
def create_rooms_for_case(case: MediationCase) -> list[Room]:
    return [Room.objects.get_or_create(case=case, kind=kind)[0] for kind in RoomKind.values]


def _allocate_seqs(room_id: int, count: int) -> int:
    """Reserve `count` sequence numbers; returns the last. The UPDATE holds the room
    row's lock until commit, so concurrent writers to a room queue up here and a
    rolled-back transaction gives its numbers back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rooms_room SET last_seq = last_seq + %s WHERE id = %s RETURNING last_seq", [count, room_id]
        )
        return cursor.fetchone()[0]


def _allocate_seqs_for_rooms(counts: dict[int, int]) -> dict[int, int]:
    """Reserve sequence numbers in several rooms at once; returns each room's last.
    The rows are locked in id order first, so two batches cannot deadlock."""
    room_ids = sorted(counts)
    if connection.vendor != "postgresql" or len(room_ids) <= 1:
        return {room_id: _allocate_seqs(room_id, counts[room_id]) for room_id in room_ids}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM rooms_room WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [room_ids])
        rows = ", ".join(["(%s, %s)"] * len(room_ids))
        cursor.execute(
            f"UPDATE rooms_room AS room SET last_seq = room.last_seq + batch.n "
            f"FROM (VALUES {rows}) AS batch(id, n) WHERE room.id = batch.id RETURNING room.id, room.last_seq",
            [value for room_id in room_ids for value in (room_id, counts[room_id])],
        )
        return dict(cursor.fetchall())


def _authorised_senders(requests: list[PostRequest], rooms: dict[int, Room]) -> dict[tuple[int, int], str | None]:
    """For each (room, author): None if they may post now, else the refusal code.
    Membership, the room being open and mutes are checked again for every message."""
    case_ids = {room.case_id for room in rooms.values()}
    author_ids = {request.author.id for request in requests}
    sides = defaultdict(set)
    for case_id, user_id, side in Participant.active.filter(case_id__in=case_ids, user_id__in=author_ids).values_list(
        "case_id", "user_id", "party__side"
    ):
        sides[(case_id, user_id)].add(side)
    muted = set(
        RoomMute.objects.filter(room_id__in=rooms, user_id__in=author_ids, lifted_at__isnull=True).values_list(
            "room_id", "user_id"
        )
    )
    now = timezone.now()
    verdicts = {}
    for request in requests:
        key = (request.room_id, request.author.id)
        if key in verdicts:
            continue
        room = rooms.get(request.room_id)
        if room is None:
            verdicts[key] = "no_such_room"
            continue
        case = room.case
        user_id = request.author.id
        participant_sides = sides.get((case.pk, user_id), set())
        is_member = (
            case.mediator_id == user_id
            or (room.kind == RoomKind.JOINT and case.judge_id == user_id)
            or (bool(participant_sides) if room.side is None else room.side in participant_sides)
        )
        if not is_member:
            verdicts[key] = "not_member"
        elif room.closed_at is not None or (room.closes_at is not None and room.closes_at <= now):
            verdicts[key] = "room_closed"
        elif key in muted:
            verdicts[key] = "muted"
        else:
            verdicts[key] = None
    return verdicts


REFUSAL_DETAILS = {
    "no_such_room": gettext_lazy("This room does not exist."),
    "not_member": gettext_lazy("You are not a member of this room."),
    "room_closed": gettext_lazy("This room is closed to new messages."),
    "muted": gettext_lazy("The mediator has muted you in this room."),
}


@transaction.atomic
def store_messages(requests: list[PostRequest]) -> list[PostResult]:
    """Store a batch of messages in one transaction (group commit) and return one
    result per request, in order. A client_id already stored for its author and
    room is not stored again: the stored message is returned as a duplicate."""
    rooms = {room.pk: room for room in Room.objects.filter(pk__in={r.room_id for r in requests}).select_related("case")}
    verdicts = _authorised_senders(requests, rooms)
    results: list[PostResult | None] = [None] * len(requests)
    candidates = []
    for index, request in enumerate(requests):
        refusal = verdicts[(request.room_id, request.author.id)]
        if refusal:
            results[index] = _refused(refusal, REFUSAL_DETAILS[refusal])
        else:
            candidates.append(index)
    existing = {
        (entry.room_id, entry.author_id, entry.client_id): entry
        for entry in RoomEntry.objects.filter(
            room_id__in={requests[i].room_id for i in candidates},
            client_id__in={requests[i].client_id for i in candidates},
        )
    }
    new_by_room: dict[int, list[int]] = defaultdict(list)
    claimed: dict[tuple, int] = {}
    retries_in_batch: list[tuple[int, int]] = []
    for index in candidates:
        request = requests[index]
        key = (request.room_id, request.author.id, request.client_id)
        if key in existing:
            results[index] = PostResult("duplicate", entry=existing[key])
        elif key in claimed:
            # The same message twice in one batch: the second is the retry.
            retries_in_batch.append((index, claimed[key]))
        else:
            claimed[key] = index
            new_by_room[request.room_id].append(index)
    now = timezone.now()
    entries = []
    last_seqs = _allocate_seqs_for_rooms({room_id: len(indexes) for room_id, indexes in new_by_room.items()})
    for room_id in sorted(new_by_room):
        indexes = new_by_room[room_id]
        last = last_seqs[room_id]
        first = last - len(indexes) + 1
        for offset, index in enumerate(indexes):
            request = requests[index]
            entry = RoomEntry(
                room_id=room_id,
                seq=first + offset,
                author_id=request.author.id,
                client_id=request.client_id,
                body=request.body,
                data={"author": _author_snapshot(request.author)},
                created_at=now,
            )
            entries.append(entry)
            results[index] = PostResult("stored", entry=entry)
    RoomEntry.objects.bulk_create(entries)
    for index, first in retries_in_batch:
        results[index] = PostResult("duplicate", entry=results[first].entry)
    return results


def _author_snapshot(member: Member) -> dict:
    """The author as they were when they wrote, kept with the message."""
    return {"id": member.id, "name": member.name, "role": member.role, "side": member.side}


def _actor_snapshot(user: User | None, room: Room) -> dict | None:
    if user is None:
        return None
    member = member_of(user, room)
    if member is not None:
        return _author_snapshot(member)
    return {"id": user.pk, "name": str(user), "role": "staff", "side": None}


def publish_after_commit(room_id: int, entry: RoomEntry) -> None:
    frame = encode(entry_frame(entry))
    seq = entry.seq
    transaction.on_commit(lambda: get_hub().publish_room_threadsafe(room_id, frame, seq))


def post_event(*, room: Room, kind: str, actor: User | None = None, data: dict | None = None) -> RoomEntry:
    """Persist a system event in the room's sequence and broadcast it after commit.
    Other apps (documents: served, signed, sealed) call this inside their own
    transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Room events are posted inside the transaction of the change they record.")
    seq = _allocate_seqs(room.pk, 1)
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
    *, case: MediationCase, kind: str, actor: User | None = None, data: dict | None = None, side: str | None = None
) -> list[RoomEntry]:
    """Post an event in the case's joint room, and in one side's caucus if `side`."""
    kinds = [RoomKind.JOINT]
    if side == "plaintiff":
        kinds.append(RoomKind.CAUCUS_PLAINTIFF)
    elif side == "defendant":
        kinds.append(RoomKind.CAUCUS_DEFENDANT)
    return [
        post_event(room=room, kind=kind, actor=actor, data=data)
        for room in Room.objects.filter(case=case, kind__in=kinds)
    ]


def _lock_room_as_mediator(room: Room, actor: User) -> Room:
    room = Room.objects.select_for_update().select_related("case").get(pk=room.pk)
    if room.case.mediator_id != actor.pk:
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
    audit.record(actor=actor, action="room.close", target=room, data={"case": room.case_id})
    room_id = room.pk
    transaction.on_commit(
        lambda: get_hub().publish_room_control_threadsafe(room_id, {"op": "close", "code": CLOSE_ROOM_CLOSED})
    )
    return room


@transaction.atomic
def reopen_room(*, room: Room, actor: User) -> Room:
    room = _lock_room_as_mediator(room, actor)
    if not room.is_closed and room.closes_at is None:
        raise TransitionNotAllowed(_("This room is open."))
    if not room.case.is_open:
        raise TransitionNotAllowed(_("The case has ended; its rooms stay closed."))
    room.closed_at = None
    room.closed_by = None
    room.closes_at = None
    room.save(update_fields=["closed_at", "closed_by", "closes_at"])
    post_event(room=room, kind="room.reopened", actor=actor)
    audit.record(actor=actor, action="room.reopen", target=room, data={"case": room.case_id})
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
    post_event(room=room, kind="participant.unmuted", actor=actor, data={"user": {"id": user.pk, "name": str(user)}})
    audit.record(actor=actor, action="room.unmute", target=room, data={"user": user.pk})
    return mute


def mark_read(*, room_id: int, user: User, seq: int) -> int | None:
    """Move the user's read mark forward (never back). Returns the new mark, or None
    if the user may not read this room."""
    room = Room.objects.select_related("case").filter(pk=room_id).first()
    if room is None or member_of(user, room) is None:
        return None
    seq = min(seq, room.last_seq)
    mark, _created = ReadMark.objects.get_or_create(room=room, user=user)
    if seq > mark.seq:
        ReadMark.objects.filter(pk=mark.pk, seq__lt=seq).update(seq=seq, updated_at=timezone.now())
        return seq
    return mark.seq
