"""Who may be in which room, and post there: one table of rows, and every
implementation of the rule held to it.

The rule lives once, in mediation.participation. Rooms (membership, lists, pages, the
socket), sessions (who is told) and documents (who sees what) call it; the store
states it again in SQL on PostgreSQL, and in Python where the database is SQLite, for
speed. Each of them is checked here against the same rows: a new implementation of
the rule gets a line in IMPLEMENTATIONS, a new kind of person a row in MAY_BE_IN."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from documents.access import side_of, visible_documents
from documents.models import Blob, Document
from frontend.templatetags.case_tags import sessions_of_case
from mediation import participation
from mediation.models import MediationSession, RoomKind, User
from mediation.roles import Role
from mediation.services.cases import attach_participant, remove_participant
from mediation.services.sessions import people_of_session
from rooms.entry import read_entries
from rooms.membership import Member, member_of, room_member_ids, room_members, rooms_for_user
from rooms.models import Room
from rooms.selectors import hello, resume_page
from rooms.store import PostRequest, store_messages
from tests.cases import make_case
from tests.factories import UserFactory, staff
from tests.participants import add_person_party, add_third_party, join
from tests.servers import session_cookie

pytestmark = pytest.mark.django_db

JOINT, PLAINTIFF_CAUCUS, DEFENDANT_CAUCUS = RoomKind.JOINT, RoomKind.CAUCUS_PLAINTIFF, RoomKind.CAUCUS_DEFENDANT
ROOM_KINDS = [JOINT, PLAINTIFF_CAUCUS, DEFENDANT_CAUCUS]

# Who may be in which room of case A (whatever the room's state): the table.
#                              joint  plaintiff caucus  defendant caucus
MAY_BE_IN = {
    "mediator of the case": (True, True, True),
    "judge of the case": (True, False, False),
    "plaintiff-side participant": (True, True, False),
    "defendant-side participant": (True, False, True),
    # A third party (第三人) is on neither side: the joint room only, no caucus.
    "third-party participant": (True, False, False),
    # An interpreter or a helper is where their party is; a guardian too.
    "plaintiff's interpreter": (True, True, False),
    "defendant's helper": (True, False, True),
    "plaintiff's guardian": (True, True, False),
    "removed participant": (False, False, False),
    "participant of another case": (False, False, False),
    "mediator of another case": (False, False, False),
    "judge of another case": (False, False, False),
    "general liaison": (False, False, False),
    "stranger": (False, False, False),
}

# Whether a member may post (and their socket enter), by the room's state.
#                     (closed_at, closes_at relative to now) -> open
ROOM_STATES = {
    "open": (None, None, True),
    "closed": (timedelta(0), None, False),
    "closes_at past": (None, -timedelta(seconds=1), False),
    "closes_at future": (None, timedelta(minutes=90), True),
}


def expected_outcome(who: str, room_kind: str, state: str) -> str:
    """What posting (or the socket's entry) comes to: "ok", "not_member", "room_closed"."""
    if not MAY_BE_IN[who][ROOM_KINDS.index(room_kind)]:
        return "not_member"
    return "ok" if ROOM_STATES[state][2] else "room_closed"


@dataclass
class World:
    case: object
    rooms: dict[str, Room]
    people: dict[str, User]


@pytest.fixture
def world(mediator, judge, liaison, civil):
    a = make_case(mediator, judge)
    b = make_case(staff(Role.MEDIATOR, civil, full_name="Other mediator"), staff(Role.JUDGE, civil), label="B")
    removed = UserFactory(full_name="Removed agent")
    removed_participant = attach_participant(
        case=a.case, party=a.plaintiff_participant.party, user=removed, role="agent", actor=mediator
    )
    remove_participant(participant=removed_participant, actor=mediator, reason="Replaced")
    third_party = add_third_party(a)
    elder = add_person_party(a, side="plaintiff")
    people = {
        "mediator of the case": mediator,
        "judge of the case": judge,
        "plaintiff-side participant": a.plaintiff,
        "defendant-side participant": a.defendant,
        "third-party participant": join(a, third_party, "legal_representative", "Third party's representative").user,
        "plaintiff's interpreter": join(a, a.plaintiff_participant.party, "interpreter", "Interpreter").user,
        "defendant's helper": join(a, a.defendant_participant.party, "helper", "Helper").user,
        "plaintiff's guardian": join(a, elder, "guardian", "Guardian").user,
        "removed participant": removed,
        "participant of another case": b.plaintiff,
        "mediator of another case": b.mediator,
        "judge of another case": b.judge,
        "general liaison": liaison,
        "stranger": UserFactory(full_name="Stranger"),
    }
    assert set(people) == set(MAY_BE_IN)
    rooms = {room.kind: room for room in Room.objects.filter(case=a.case).select_related("case")}
    return World(case=a.case, rooms=rooms, people=people)


def put_rooms_in(world: World, state: str) -> None:
    closed_after, closes_after, _open = ROOM_STATES[state]
    now = timezone.now()
    Room.objects.filter(case=world.case).update(
        closed_at=None if closed_after is None else now + closed_after,
        closes_at=None if closes_after is None else now + closes_after,
    )
    for kind, room in world.rooms.items():
        world.rooms[kind] = Room.objects.select_related("case").get(pk=room.pk)


# Membership: who may be in the room, whatever its state ------------------------------


def _by_standing(world, user, room):
    standing, _participant = participation.standing_in_case(user, world.case)
    return participation.may_be_in_room(standing, room.kind)


def _people_in_room(world, user, room):
    return user in participation.people_in_room(world.case, room.kind)


def _member_of(world, user, room):
    return member_of(user, room) is not None


def _room_members(world, user, room):
    return user.pk in {member.id for member in room_members(room)}


def _room_member_ids(world, user, room):
    return user.pk in room_member_ids([room.pk])[room.pk][0]


def _rooms_for_user(world, user, room):
    return rooms_for_user(user).filter(pk=room.pk).exists()


def _resume(world, user, room):
    return resume_page(user, room.pk, 0) is not None


def _people_of_session(world, user, room):
    return user in people_of_session(MediationSession(case=world.case, room_kind=room.kind))


def _sessions_a_party_may_know_of(world, user, room):
    session = MediationSession.objects.get(case=world.case, room_kind=room.kind)
    return sessions_of_case(world.case, user).filter(pk=session.pk).exists()


def _documents_side(world, user, room):
    return participation.may_be_in_room(side_of(user, world.case), room.kind)


def _documents_visible(world, user, room):
    # A case-wide document is for those in the joint room; a side's own document for
    # those in that side's caucus.
    visibility = participation.side_of_room(room.kind) or Document.Visibility.CASE
    return visible_documents(user, world.case).filter(visibility=visibility).exists()


MEMBERSHIP = [
    _by_standing,
    _people_in_room,
    _member_of,
    _room_members,
    _room_member_ids,
    _rooms_for_user,
    _resume,
    _people_of_session,
    _sessions_a_party_may_know_of,
    _documents_side,
    _documents_visible,
]


def _with_a_session_and_a_document_per_room(world: World) -> None:
    for kind in ROOM_KINDS:
        MediationSession.objects.create(
            case=world.case,
            room_kind=kind,
            starts_at=timezone.now() + timedelta(days=1),
            created_by=world.case.mediator,
        )
        visibility = participation.side_of_room(kind) or Document.Visibility.CASE
        blob = Blob.objects.create(
            sha256=uuid.uuid4().hex * 2, size=1, content_type="application/pdf", storage_name=uuid.uuid4().hex
        )
        Document.objects.create(
            case=world.case,
            kind=Document.Kind.EVIDENCE,
            title=f"For {visibility}",
            original_name="evidence.pdf",
            blob=blob,
            visibility=visibility,
            uploaded_by=world.case.mediator,
        )


@pytest.mark.parametrize("state", ROOM_STATES)
def test_every_implementation_of_membership_follows_the_table(world, state):
    put_rooms_in(world, state)
    _with_a_session_and_a_document_per_room(world)

    wrong = [
        (implementation.__name__, who, kind)
        for implementation in MEMBERSHIP
        for who, user in world.people.items()
        for kind, room in world.rooms.items()
        if implementation(world, user, room) != MAY_BE_IN[who][ROOM_KINDS.index(kind)]
    ]

    assert wrong == []


# Posting and the socket's entry: membership and the room's state ----------------------


def _socket_entry(world, requests):
    """What a socket is told on entering: `hello` reads its access after it joined the
    room's hub (rooms.consumers.RoomSocket.connect)."""
    return [hello(user, room.pk)[0].refusal or "ok" for user, room in requests]


def _sockets_entering_together(world, requests):
    """What sockets entering together are told (a restart storm: rooms.entry reads
    them in one batch, signed in from their sessions)."""
    keys = {user.pk: session_cookie(user).split("=", 1)[1] for user, _room in requests}
    entries = read_entries([(None, keys[user.pk], room.pk) for user, room in requests])
    return [entry.access.refusal or "ok" for entry in entries]


def _pages(world, requests):
    """What the room page and the rooms API show: the room's closed flag, for a member."""
    return [
        "not_member" if member_of(user, room) is None else ("room_closed" if room.is_closed else "ok")
        for user, room in requests
    ]


def _store(world, requests):
    results = store_messages(
        [
            PostRequest(room.pk, Member(id=user.pk, name=str(user), role="agent"), uuid.uuid4(), "Hello")
            for user, room in requests
        ]
    )
    return [result.code or ("ok" if result.outcome == "stored" else result.outcome) for result in results]


def _store_sql(world, requests):
    if connection.vendor != "postgresql":
        pytest.skip("the store's SQL runs on PostgreSQL only")
    return _store(world, requests)


def _store_python(world, requests):
    # The store decides in Python wherever the database is not PostgreSQL: the same
    # decisions, from the same rows.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "vendor", "sqlite")
        return _store(world, requests)


POSTING = [_socket_entry, _sockets_entering_together, _pages, _store_sql, _store_python]


@pytest.mark.parametrize("implementation", POSTING, ids=lambda implementation: implementation.__name__)
@pytest.mark.parametrize("state", ROOM_STATES)
def test_every_implementation_of_posting_follows_the_table(world, state, implementation):
    put_rooms_in(world, state)
    rows = [(who, kind) for who in MAY_BE_IN for kind in ROOM_KINDS]

    outcomes = implementation(world, [(world.people[who], world.rooms[kind]) for who, kind in rows])

    wrong = [
        (who, kind, outcome, expected_outcome(who, kind, state))
        for (who, kind), outcome in zip(rows, outcomes, strict=True)
        if outcome != expected_outcome(who, kind, state)
    ]
    assert wrong == []
