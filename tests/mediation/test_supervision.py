"""Two-track supervision: the automatic deadline check and the liaison's notice."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import DeadlineAlert, Notification, WorkOrder
from mediation.services import supervision
from mediation.services import work_orders as services
from tests.factories import refresh
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Status = WorkOrder.Status


def at(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def kinds_for(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def run_check(moment):
    with time_machine.travel(moment, tick=False):
        return supervision.check_deadlines()


@pytest.fixture
def running_order(people):
    """Received Monday 2 November 2026 09:00, in progress, 3 working days: due at the
    end of Thursday 5 November; first contact due Tuesday 09:00."""
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = order_in_state(Status.IN_PROGRESS, people, received_at=at(2026, 11, 2, 9, 0))
    Notification.objects.all().delete()
    mail.outbox.clear()
    return order


def test_nothing_is_sent_before_three_quarters_of_a_clock(running_order, people):
    report = run_check(at(2026, 11, 2, 20, 0))
    assert (report.warnings, report.overdue) == (0, 0)
    assert not Notification.objects.exists()


def test_assignee_is_warned_at_three_quarters_of_the_first_contact_clock(
    running_order, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = run_check(at(2026, 11, 3, 3, 0))
    assert (report.warnings, report.overdue) == (1, 0)
    assert kinds_for(people["judge"]) == ["deadline.first_contact.warning"]
    assert kinds_for(people["head"]) == []
    assert [message.to for message in mail.outbox] == [[people["judge"].email]]


def test_overdue_order_is_flagged_and_assignee_department_liaison_and_head_are_told(running_order, people):
    services.record_contact(order=running_order, actor=people["judge"], note="Called back")
    report = run_check(at(2026, 11, 6, 8, 0))
    assert report.overdue == 1
    for who in ("judge", "dept_liaison", "head"):
        assert "deadline.completion.overdue" in kinds_for(people[who])
    order = refresh(running_order)
    assert order.is_overdue(at(2026, 11, 6, 8, 0))
    assert order.events.filter(action="deadline_overdue").count() == 1
    assert DeadlineAlert.objects.filter(order=order, level="overdue", clock="completion").count() == 1


def test_running_the_check_twice_sends_nothing_twice(running_order, people, django_capture_on_commit_callbacks):
    moments = [at(2026, 11, 3, 3, 0), at(2026, 11, 3, 3, 0), at(2026, 11, 5, 7, 0), at(2026, 11, 6, 8, 0)]
    with django_capture_on_commit_callbacks(execute=True):
        for moment in moments:
            run_check(moment)
    sent = Notification.objects.count()
    emails = len(mail.outbox)
    alerts = DeadlineAlert.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        for moment in moments:
            report = run_check(moment)
            assert (report.warnings, report.overdue) == (0, 0)
    assert (Notification.objects.count(), len(mail.outbox), DeadlineAlert.objects.count()) == (sent, emails, alerts)
    assert emails > 0
    # First contact: warning then overdue; completion: warning then overdue.
    assert alerts == 4


def test_the_command_is_idempotent(running_order, people, capsys):
    with time_machine.travel(at(2026, 11, 6, 8, 0), tick=False):
        call_command("check_deadlines")
        first = capsys.readouterr().out
        call_command("check_deadlines")
        second = capsys.readouterr().out
    assert "overdue flagged: 2" in first
    assert "warnings sent: 0; overdue flagged: 0" in second


def test_a_paused_order_is_neither_warned_nor_flagged(running_order, people):
    services.record_contact(order=running_order, actor=people["judge"], note="Called back")
    with time_machine.travel(at(2026, 11, 3, 10, 0), tick=False):
        services.pause_work_order(order=refresh(running_order), actor=people["judge"], reason="Waiting for papers")
    report = run_check(at(2026, 11, 20, 8, 0))
    assert (report.warnings, report.overdue) == (0, 0)


def test_an_answered_order_is_not_flagged(running_order, people):
    with time_machine.travel(at(2026, 11, 3, 8, 0), tick=False):
        services.reply_to_requester(order=running_order, actor=people["judge"], content="Done", channel="phone")
    report = run_check(at(2026, 11, 20, 8, 0))
    assert (report.warnings, report.overdue) == (0, 0)


def test_an_undispatched_order_alerts_the_general_liaisons(people):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order_in_state(Status.RECEIVED, people, received_at=at(2026, 11, 2, 9, 0))
    run_check(at(2026, 11, 3, 10, 0))
    assert kinds_for(people["liaison"]) == ["deadline.first_contact.overdue"]


def test_liaison_issues_a_supervision_notice_and_the_assignee_answers_it(running_order, people):
    notice = supervision.issue_supervision_notice(
        order=running_order,
        actor=people["liaison"],
        content="Call the requester today.",
        due_at=dt.datetime.now(tz=SHANGHAI) + dt.timedelta(hours=4),
    )
    assert "work_order.supervised" in kinds_for(people["judge"])
    assert "work_order.supervised" in kinds_for(people["head"])
    assert notice.is_open
    supervision.answer_supervision_notice(notice=notice, actor=people["judge"], response="Called at 15:00.")
    notice.refresh_from_db()
    assert (notice.is_open, notice.response, notice.responded_by) == (False, "Called at 15:00.", people["judge"])
    assert "work_order.supervision_answered" in kinds_for(people["liaison"])
    actions = list(refresh(running_order).events.values_list("action", flat=True))
    assert actions[-2:] == ["supervise", "answer_supervision"]


def test_a_supervision_notice_is_answered_once(running_order, people):
    notice = supervision.issue_supervision_notice(
        order=running_order,
        actor=people["liaison"],
        content="Hurry",
        due_at=dt.datetime.now(tz=SHANGHAI) + dt.timedelta(hours=1),
    )
    supervision.answer_supervision_notice(notice=notice, actor=people["judge"], response="Done")
    with pytest.raises(TransitionNotAllowed):
        supervision.answer_supervision_notice(notice=notice, actor=people["judge"], response="Again")


def test_who_may_issue_and_answer_supervision_notices(running_order, people):
    due = dt.datetime.now(tz=SHANGHAI) + dt.timedelta(hours=1)
    for who in ("judge", "head", "mediator", "nobody"):
        with pytest.raises(ActionForbidden):
            supervision.issue_supervision_notice(order=running_order, actor=people[who], content="x", due_at=due)
    notice = supervision.issue_supervision_notice(
        order=running_order, actor=people["dept_liaison"], content="x", due_at=due
    )
    for who in ("other_judge", "outside_judge", "mediator"):
        with pytest.raises(ActionForbidden):
            supervision.answer_supervision_notice(notice=notice, actor=people[who], response="y")


def test_a_supervision_notice_needs_content_and_a_future_deadline(running_order, people):
    with pytest.raises(ValidationError) as error:
        supervision.issue_supervision_notice(
            order=running_order,
            actor=people["liaison"],
            content=" ",
            due_at=dt.datetime.now(tz=SHANGHAI) - dt.timedelta(hours=1),
        )
    assert set(error.value.message_dict) == {"content", "due_at"}
    assert not running_order.supervision_notices.exists()


def test_no_supervision_notice_on_a_closed_order(people):
    order = order_in_state(Status.CLOSED, people)
    with pytest.raises(TransitionNotAllowed):
        supervision.issue_supervision_notice(
            order=order,
            actor=people["liaison"],
            content="x",
            due_at=dt.datetime.now(tz=SHANGHAI) + dt.timedelta(hours=1),
        )
