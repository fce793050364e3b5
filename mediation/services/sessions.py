"""Mediation sessions: scheduled by the mediator, announced and reminded to everyone
in the case, started and ended in a room."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import signals
from mediation.errors import TransitionNotAllowed
from mediation.models import MediationCase, MediationSession, SessionReminder, User
from mediation.models.cases import RoomKind
from mediation.notifications import notify
from mediation.participation import people_in_room
from mediation.services.cases import (
    case_url,
    check_case_action,
    localtime_label,
    lock_case,
    record_case_event,
    start_mediation,
)

MAX_SESSION_MINUTES = 8 * 60


def people_of_session(session: MediationSession) -> list[User]:
    """Everyone who may be in the session's room (`participation.people_in_room`)."""
    return people_in_room(session.case, session.room_kind)


@transaction.atomic
def schedule_session(
    *,
    case: MediationCase,
    actor: User | None,
    starts_at: dt.datetime,
    duration_minutes: int = 60,
    room_kind: str = RoomKind.JOINT,
    note: str = "",
) -> MediationSession:
    case = lock_case(case)
    check_case_action(actor, case.scheduling_action(), case)
    errors = {}
    if starts_at <= timezone.now():
        errors["starts_at"] = _("A session is scheduled in the future.")
    if not 10 <= duration_minutes <= MAX_SESSION_MINUTES:
        errors["duration_minutes"] = _("A session lasts between 10 minutes and 8 hours.")
    if room_kind not in RoomKind.values:
        errors["room_kind"] = _("Choose the room.")
    if errors:
        raise ValidationError(errors)
    session = MediationSession.objects.create(
        case=case,
        room_kind=room_kind,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        note=note.strip(),
        created_by=actor or case.mediator,
    )
    record_case_event(
        case,
        actor=actor,
        action="schedule",
        data={"session": session.pk, "starts_at": starts_at.isoformat(), "room": room_kind},
    )
    notify(
        recipients=[user for user in people_of_session(session) if user != actor],
        kind="session.scheduled",
        params={"number": case.number, "starts": localtime_label(starts_at)},
        url=case_url(case),
    )
    return session


def _lock_session(session: MediationSession, actor: User | None, action: str) -> MediationSession:
    case = lock_case(session.case)
    check_case_action(actor, case.scheduling_action(), case)
    locked = MediationSession.objects.select_for_update().select_related("case").get(pk=session.pk)
    if locked.cancelled_at:
        raise TransitionNotAllowed(_("This session was cancelled."))
    if action in ("start", "cancel") and locked.started_at:
        raise TransitionNotAllowed(_("This session has already started."))
    if action == "end" and (not locked.started_at or locked.ended_at):
        raise TransitionNotAllowed(_("Only a session in progress can be ended."))
    return locked


@transaction.atomic
def cancel_session(*, session: MediationSession, actor: User | None) -> MediationSession:
    session = _lock_session(session, actor, "cancel")
    session.cancelled_at = timezone.now()
    session.save(update_fields=["cancelled_at"])
    record_case_event(session.case, actor=actor, action="cancel_session", data={"session": session.pk})
    notify(
        recipients=[user for user in people_of_session(session) if user != actor],
        kind="session.cancelled",
        params={"number": session.case.number, "starts": localtime_label(session.starts_at)},
        url=case_url(session.case),
    )
    return session


@transaction.atomic
def start_session(*, session: MediationSession, actor: User | None) -> MediationSession:
    """The mediator opens the session; a pending case is then in mediation."""
    session = _lock_session(session, actor, "start")
    session.started_at = timezone.now()
    session.save(update_fields=["started_at"])
    case = session.case
    if case.status == MediationCase.Status.PENDING:
        start_mediation(case=case, actor=actor)
    record_case_event(case, actor=actor, action="start_session", data={"session": session.pk})
    signals.session_started.send(sender=MediationSession, session=session)
    return session


@transaction.atomic
def end_session(*, session: MediationSession, actor: User | None) -> MediationSession:
    session = _lock_session(session, actor, "end")
    session.ended_at = timezone.now()
    session.save(update_fields=["ended_at"])
    record_case_event(session.case, actor=actor, action="end_session", data={"session": session.pk})
    signals.session_ended.send(sender=MediationSession, session=session)
    return session


@dataclass
class ReminderReport:
    sessions: int = 0
    people: int = 0


def reminder_windows() -> list[int]:
    """Minutes before a session's start at which it is reminded, the earliest first
    (by default a day and an hour)."""
    return sorted({int(minutes) for minutes in settings.SESSION_REMINDER_MINUTES if int(minutes) > 0}, reverse=True)


def remind_upcoming_sessions(*, now: dt.datetime | None = None) -> ReminderReport:
    """Remind everyone of a session a day and an hour before it starts (each window
    of SESSION_REMINDER_MINUTES), each person once per window: a SessionReminder row
    per person, under the session's row lock, so running this twice, or on two
    machines at once, reminds nobody twice, while someone who joins the case later
    is still reminded. A session closer than the next window gets only that one (a
    session scheduled 30 minutes ahead is reminded once, not twice)."""
    now = now or timezone.now()
    report = ReminderReport()
    windows = reminder_windows()
    for index, minutes in enumerate(windows):
        closer = windows[index + 1] if index + 1 < len(windows) else 0
        due = MediationSession.objects.filter(
            cancelled_at__isnull=True,
            started_at__isnull=True,
            starts_at__gt=now + dt.timedelta(minutes=closer),
            starts_at__lte=now + dt.timedelta(minutes=minutes),
            case__status__in=MediationCase.OPEN_STATUSES,
        ).values_list("pk", flat=True)
        for session_id in list(due):
            reminded = _remind(session_id, minutes, now)
            if reminded:
                report.sessions += 1
                report.people += reminded
    return report


@transaction.atomic
def _remind(session_id: int, minutes: int, now: dt.datetime) -> int:
    session = MediationSession.objects.select_for_update().select_related("case").get(pk=session_id)
    if session.cancelled_at or session.started_at:
        return 0
    already = set(
        SessionReminder.objects.filter(session=session, minutes_before=minutes).values_list("recipient_id", flat=True)
    )
    people = [user for user in people_of_session(session) if user.pk not in already and user.is_active]
    if not people:
        return 0
    SessionReminder.objects.bulk_create(
        [SessionReminder(session=session, recipient=user, minutes_before=minutes, sent_at=now) for user in people]
    )
    session.reminded_at = now
    session.save(update_fields=["reminded_at"])
    notify(
        recipients=people,
        kind="session.starting",
        params={"number": session.case.number, "starts": localtime_label(session.starts_at)},
        url=case_url(session.case),
    )
    return len(people)
