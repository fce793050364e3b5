"""Mediation sessions: scheduled by the mediator and announced to the people of that
room, cancelled, started (which starts the mediation and is announced in the room),
ended, and reminded a day and an hour before, once per person, by `remind_sessions`."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import CaseEvent, MediationCase, MediationSession, Notification, RoomKind
from mediation.services import cases, sessions
from rooms.models import Room, RoomEntry
from tests.cases import make_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


def in_hours(hours: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=hours)


def schedule(world, *, starts_at=None, room_kind=RoomKind.JOINT, duration_minutes=60, actor=None):
    return sessions.schedule_session(
        case=world.case,
        actor=actor or world.mediator,
        starts_at=starts_at or in_hours(24),
        duration_minutes=duration_minutes,
        room_kind=room_kind,
    )


def told(kind: str) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def ids(*users) -> set[int]:
    return {user.pk for user in users}


def remind(now=None) -> str:
    out = io.StringIO()
    if now is None:
        call_command("remind_sessions", stdout=out)
    else:
        with time_machine.travel(now, tick=False):
            call_command("remind_sessions", stdout=out)
    return out.getvalue()


# Scheduling ------------------------------------------------------------------------


def test_a_joint_session_is_announced_to_everyone_in_the_joint_room(world, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    starts_at = in_hours(24)
    with django_capture_on_commit_callbacks(execute=True):
        session = schedule(world, starts_at=starts_at, duration_minutes=90)

    assert (session.case, session.room_kind, session.starts_at, session.duration_minutes) == (
        world.case,
        RoomKind.JOINT,
        starts_at,
        90,
    )
    assert told("session.scheduled") == ids(world.plaintiff, world.defendant, world.judge)
    event = CaseEvent.objects.get(case=world.case, action="schedule")
    assert event.data["session"] == session.pk
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        user.email for user in (world.plaintiff, world.defendant, world.judge)
    )


@pytest.mark.parametrize(
    ("room_kind", "side"),
    [(RoomKind.CAUCUS_PLAINTIFF, "plaintiff"), (RoomKind.CAUCUS_DEFENDANT, "defendant")],
)
def test_a_caucus_session_is_announced_only_to_that_side(world, room_kind, side):
    schedule(world, room_kind=room_kind)
    assert told("session.scheduled") == ids(getattr(world, side))


def test_a_session_scheduled_by_the_mediator_is_not_announced_to_the_mediator(world):
    schedule(world)
    assert world.mediator.pk not in told("session.scheduled")


@pytest.mark.parametrize("minutes", [10, 480])
def test_a_session_lasts_between_10_minutes_and_8_hours(world, minutes):
    assert schedule(world, duration_minutes=minutes).duration_minutes == minutes


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"duration_minutes": 9}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"starts_at": "past"}, "starts_at"),
        ({"room_kind": "lobby"}, "room_kind"),
    ],
)
def test_a_bad_session_is_refused_and_nobody_is_told(world, fields, field):
    if fields.get("starts_at") == "past":
        fields = {"starts_at": in_hours(-1)}
    events = CaseEvent.objects.count()

    with pytest.raises(ValidationError) as error:
        schedule(world, **fields)

    assert field in error.value.message_dict
    assert not MediationSession.objects.exists()
    assert not told("session.scheduled")
    assert CaseEvent.objects.count() == events


@pytest.mark.parametrize("who", ["judge", "plaintiff", "defendant"])
def test_only_the_mediator_schedules(world, who):
    with pytest.raises(ActionForbidden):
        schedule(world, actor=getattr(world, who))
    assert not MediationSession.objects.exists()


def test_an_ended_case_gets_no_new_session(world):
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="Withdrawn.")
    with pytest.raises(TransitionNotAllowed):
        schedule(world)
    assert not MediationSession.objects.exists()


def test_the_mediator_schedules_from_the_case_page_in_court_time(client, world):
    client.force_login(world.mediator)
    starts = (timezone.localtime(timezone.now(), SHANGHAI) + dt.timedelta(days=2)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )

    response = client.post(
        reverse("case_action", args=[world.case.pk, "schedule"]),
        {
            "schedule-starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "schedule-duration_minutes": "45",
            "schedule-room_kind": RoomKind.CAUCUS_DEFENDANT,
            "schedule-note": "Bring the invoices",
        },
    )

    assert response.status_code == 302
    session = MediationSession.objects.get()
    assert session.starts_at == starts
    assert (session.duration_minutes, session.room_kind, session.note) == (45, "caucus_defendant", "Bring the invoices")


def test_the_session_page_form_refuses_a_session_in_the_past(client, world):
    client.force_login(world.mediator)
    past = timezone.localtime(in_hours(-2), SHANGHAI)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "schedule"]),
        {
            "schedule-starts_at": past.strftime("%Y-%m-%dT%H:%M"),
            "schedule-duration_minutes": "60",
            "schedule-room_kind": RoomKind.JOINT,
        },
    )
    assert response.status_code == 400
    assert "starts_at" in response.context["action_forms"]["schedule"].errors
    assert not MediationSession.objects.exists()


# Cancelling, starting, ending ---------------------------------------------------------


def test_a_cancelled_session_is_announced_and_cannot_start(world):
    session = schedule(world, room_kind=RoomKind.CAUCUS_PLAINTIFF)

    sessions.cancel_session(session=session, actor=world.mediator)

    session.refresh_from_db()
    assert session.cancelled_at is not None
    assert told("session.cancelled") == ids(world.plaintiff)
    for refused in (sessions.cancel_session, sessions.start_session, sessions.end_session):
        with pytest.raises(TransitionNotAllowed):
            refused(session=session, actor=world.mediator)
    session.refresh_from_db()
    assert session.started_at is None
    assert MediationCase.objects.get(pk=world.case.pk).status == MediationCase.Status.PENDING


def test_starting_a_session_starts_the_mediation_and_is_announced_in_its_room(world):
    session = schedule(world, room_kind=RoomKind.CAUCUS_DEFENDANT)
    entries_before = {room.pk: room.last_seq for room in Room.objects.filter(case=world.case)}

    sessions.start_session(session=session, actor=world.mediator)

    session.refresh_from_db()
    assert session.started_at is not None
    case = MediationCase.objects.get(pk=world.case.pk)
    assert case.status == MediationCase.Status.IN_MEDIATION
    assert list(case.events.filter(action__in=["start", "start_session"]).values_list("action", flat=True)) == [
        "start",
        "start_session",
    ]
    started = RoomEntry.objects.get(kind="session.started")
    assert started.room_id == world.defendant_caucus.pk
    assert started.data["session"] == session.pk
    assert started.seq == entries_before[world.defendant_caucus.pk] + 1
    assert Room.objects.get(pk=world.defendant_caucus.pk).last_seq == started.seq
    # The plaintiff's side learns nothing of the defendant's caucus session.
    assert not RoomEntry.objects.filter(room=world.plaintiff_caucus, kind__startswith="session.").exists()
    # The case's change of state is announced in the joint room.
    status_change = RoomEntry.objects.get(room=world.joint, kind="case.status")
    assert status_change.data == {"actor": None, "from": "pending", "to": "in_mediation"}


def test_a_second_session_of_a_case_in_mediation_leaves_it_in_mediation(world):
    first, second = schedule(world), schedule(world, starts_at=in_hours(48))
    sessions.start_session(session=first, actor=world.mediator)
    sessions.end_session(session=first, actor=world.mediator)

    sessions.start_session(session=second, actor=world.mediator)

    case = MediationCase.objects.get(pk=world.case.pk)
    assert case.status == MediationCase.Status.IN_MEDIATION
    assert case.events.filter(action="start").count() == 1
    assert RoomEntry.objects.filter(room=world.joint, kind="session.started").count() == 2


def test_ending_a_session_is_announced_in_its_room(world):
    session = schedule(world)
    with pytest.raises(TransitionNotAllowed):
        sessions.end_session(session=session, actor=world.mediator)
    sessions.start_session(session=session, actor=world.mediator)

    sessions.end_session(session=session, actor=world.mediator)

    session.refresh_from_db()
    assert session.ended_at is not None
    ended = RoomEntry.objects.get(kind="session.ended")
    assert (ended.room_id, ended.data["session"]) == (world.joint.pk, session.pk)
    for refused in (sessions.end_session, sessions.start_session, sessions.cancel_session):
        with pytest.raises(TransitionNotAllowed):
            refused(session=session, actor=world.mediator)


@pytest.mark.parametrize("who", ["judge", "plaintiff"])
def test_only_the_mediator_starts_or_cancels_a_session(world, who):
    session = schedule(world)
    for refused in (sessions.start_session, sessions.cancel_session):
        with pytest.raises(ActionForbidden):
            refused(session=session, actor=getattr(world, who))
    session.refresh_from_db()
    assert (session.started_at, session.cancelled_at) == (None, None)
    assert not RoomEntry.objects.filter(kind="session.started").exists()


def test_the_mediator_starts_and_ends_a_session_from_the_case_page(client, world):
    session = schedule(world)
    client.force_login(world.mediator)

    started = client.post(
        reverse("case_action", args=[world.case.pk, "start_session"]), {"start_session-session": session.pk}
    )
    again = client.post(
        reverse("case_action", args=[world.case.pk, "start_session"]), {"start_session-session": session.pk}
    )
    ended = client.post(
        reverse("case_action", args=[world.case.pk, "end_session"]), {"end_session-session": session.pk}
    )

    assert (started.status_code, again.status_code, ended.status_code) == (302, 409, 302)
    session.refresh_from_db()
    assert session.started_at is not None and session.ended_at is not None


# Reminders -------------------------------------------------------------------------


def test_remind_sessions_reminds_everyone_once(world, django_capture_on_commit_callbacks):
    session = schedule(world, starts_at=in_hours(0.5))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = remind()
    emails = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        second = remind()

    assert first.strip() == "sessions reminded: 1; people reminded: 4"
    assert second.strip() == "sessions reminded: 0; people reminded: 0"
    assert told("session.starting") == ids(world.mediator, world.judge, world.plaintiff, world.defendant)
    assert Notification.objects.filter(kind="session.starting").count() == 4
    assert emails == 4
    assert len(mail.outbox) == emails
    session.refresh_from_db()
    assert session.reminded_at is not None


def test_a_session_is_reminded_a_day_before_and_an_hour_before_once_each(world):
    now = timezone.now()
    schedule(world, starts_at=now + dt.timedelta(hours=30))

    runs = {
        "now": remind(now),
        "25 h before": remind(now + dt.timedelta(hours=5)),
        "23 h 50 before": remind(now + dt.timedelta(hours=6, minutes=10)),
        "23 h 40 before": remind(now + dt.timedelta(hours=6, minutes=20)),
        "2 h before": remind(now + dt.timedelta(hours=28)),
        "50 min before": remind(now + dt.timedelta(hours=29, minutes=10)),
        "40 min before": remind(now + dt.timedelta(hours=29, minutes=20)),
    }

    reminded = {when: out.strip() for when, out in runs.items()}
    assert reminded == {
        "now": "sessions reminded: 0; people reminded: 0",
        "25 h before": "sessions reminded: 0; people reminded: 0",
        "23 h 50 before": "sessions reminded: 1; people reminded: 4",
        "23 h 40 before": "sessions reminded: 0; people reminded: 0",
        "2 h before": "sessions reminded: 0; people reminded: 0",
        "50 min before": "sessions reminded: 1; people reminded: 4",
        "40 min before": "sessions reminded: 0; people reminded: 0",
    }
    assert Notification.objects.filter(kind="session.starting", recipient=world.plaintiff).count() == 2


def test_a_session_scheduled_within_the_hour_is_reminded_once_not_twice(world):
    schedule(world, starts_at=in_hours(0.5))
    remind()
    remind()
    assert Notification.objects.filter(kind="session.starting", recipient=world.plaintiff).count() == 1


def test_someone_who_joins_after_a_reminder_is_reminded_and_nobody_twice(world, people):
    now = timezone.now()
    schedule(world, starts_at=now + dt.timedelta(hours=20))
    remind(now)
    newcomer = UserFactory(full_name="Second agent")
    cases.attach_participant(
        case=world.case, party=world.plaintiff_participant.party, user=newcomer, role="agent", actor=world.mediator
    )

    assert remind(now + dt.timedelta(minutes=1)).strip() == "sessions reminded: 1; people reminded: 1"
    assert Notification.objects.filter(kind="session.starting").count() == 5
    assert told("session.starting") == ids(world.mediator, world.judge, world.plaintiff, world.defendant, newcomer)


def test_a_caucus_session_is_reminded_to_the_mediator_and_that_side_only(world):
    schedule(world, starts_at=in_hours(0.5), room_kind=RoomKind.CAUCUS_PLAINTIFF)
    remind()
    assert told("session.starting") == ids(world.mediator, world.plaintiff)


def test_a_session_already_past_is_not_reminded(world):
    now = timezone.now()
    schedule(world, starts_at=now + dt.timedelta(minutes=30))
    assert remind(now + dt.timedelta(minutes=40)).strip() == "sessions reminded: 0; people reminded: 0"
    assert not told("session.starting")


@pytest.mark.parametrize("change", ["cancelled", "started"])
def test_cancelled_or_started_sessions_are_not_reminded(world, change):
    session = schedule(world, starts_at=in_hours(0.5))
    if change == "cancelled":
        sessions.cancel_session(session=session, actor=world.mediator)
    else:
        sessions.start_session(session=session, actor=world.mediator)

    assert remind().strip() == "sessions reminded: 0; people reminded: 0"
    assert not told("session.starting")


def test_sessions_of_an_ended_case_are_not_reminded(world):
    schedule(world, starts_at=in_hours(0.5))
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="Withdrawn.")
    assert remind().strip() == "sessions reminded: 0; people reminded: 0"


def test_a_removed_participant_is_not_reminded(world):
    schedule(world, starts_at=in_hours(0.5))
    cases.remove_participant(participant=world.defendant_participant, actor=world.mediator, reason="Replaced")
    remind()
    assert told("session.starting") == ids(world.mediator, world.judge, world.plaintiff)


def test_each_case_is_reminded_of_its_own_sessions(world, people):
    other = make_case(people["mediator"], None, label="B")
    schedule(world, starts_at=in_hours(0.5))
    schedule(other, starts_at=in_hours(0.75))

    assert remind().strip() == "sessions reminded: 2; people reminded: 7"
    numbers = {
        notification.recipient_id: notification.params["number"]
        for notification in Notification.objects.filter(kind="session.starting").exclude(recipient=world.mediator)
    }
    assert numbers == {
        world.judge.pk: world.case.number,
        world.plaintiff.pk: world.case.number,
        world.defendant.pk: world.case.number,
        other.plaintiff.pk: other.case.number,
        other.defendant.pk: other.case.number,
    }
