"""A case's mediation period on the working-day calendar, the automatic warning and
overdue flag (track one of supervision), and how the case page and list show it."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from mediation.models import CaseDeadlineAlert, MediationCase, Notification, SmsMessage
from mediation.notifications import render
from mediation.selectors.case_deadlines import deadline_flag, overdue_cases_q, with_overdue
from mediation.services import case_deadlines, cases
from mediation.services.case_supervision import check_case_deadlines
from mediation.services.notifications import set_notification_channels
from mediation.working_calendar import WorkingCalendar
from tests.cases import make_case
from tests.supervision import at, days_off, kinds_for, organisation, organisation_admin

pytestmark = pytest.mark.django_db

# National Day 2026: 1-7 October off, Saturday 10 October worked instead (调休).
NATIONAL_DAY = {dt.date(2026, 10, day): False for day in range(1, 8)} | {dt.date(2026, 10, 10): True}


def calendar() -> WorkingCalendar:
    return WorkingCalendar(dict(NATIONAL_DAY))


# The period --------------------------------------------------------------------------------


def test_a_period_ending_on_a_working_day_ends_that_day():
    # 1 June 2026 + 30 days = Wednesday 1 July.
    assert case_deadlines.mediation_deadline(dt.date(2026, 6, 1), calendar=calendar()) == dt.date(2026, 7, 1)


def test_a_period_ending_in_a_holiday_moves_to_the_next_working_day():
    # 1 September + 30 days = 1 October, National Day: the period ends on Thursday 8 October.
    assert case_deadlines.mediation_deadline(dt.date(2026, 9, 1), calendar=calendar()) == dt.date(2026, 10, 8)


def test_a_period_ending_on_a_weekend_moves_to_monday():
    # 1 May 2026 + 30 days = Sunday 31 May.
    assert case_deadlines.mediation_deadline(dt.date(2026, 5, 1), calendar=calendar()) == dt.date(2026, 6, 1)


def test_a_period_ending_on_a_swapped_working_saturday_ends_that_saturday():
    assert case_deadlines.mediation_deadline(dt.date(2026, 9, 10), calendar=calendar()) == dt.date(2026, 10, 10)


def test_the_period_length_follows_the_setting(settings):
    settings.MEDIATION_DEADLINE_DAYS = 10
    assert case_deadlines.mediation_deadline(dt.date(2026, 6, 1), calendar=calendar()) == dt.date(2026, 6, 11)


def test_the_warning_comes_at_75_percent_of_the_period():
    assert case_deadlines.warning_date(dt.date(2026, 6, 1), dt.date(2026, 7, 1)) == dt.date(2026, 6, 24)


def test_opening_a_case_uses_the_desks_calendar(mediator, judge):
    days_off(*[dt.date(2026, 10, day) for day in range(1, 8)], working=(dt.date(2026, 10, 10),))
    with time_machine.travel(at(2026, 9, 1, 10, 0), tick=False):
        case = cases.open_mediation_case(actor=mediator, cause_of_action="合同纠纷", judge=judge)
    assert (case.started_on, case.deadline) == (dt.date(2026, 9, 1), dt.date(2026, 10, 8))


def test_an_extension_to_a_holiday_moves_to_the_next_working_day(mediator, judge):
    days_off(*[dt.date(2026, 10, day) for day in range(1, 8)])
    with time_machine.travel(at(2026, 9, 1, 10, 0), tick=False):
        case = cases.open_mediation_case(actor=mediator, cause_of_action="合同纠纷", judge=judge)
        case = MediationCase.objects.get(pk=case.pk)
        MediationCase.objects.filter(pk=case.pk).update(deadline=dt.date(2026, 9, 30))
        case.refresh_from_db()
        cases.extend_case_deadline(case=case, actor=judge, new_deadline=dt.date(2026, 10, 3), reason="Expert opinion")
    case.refresh_from_db()
    assert case.deadline == dt.date(2026, 10, 8)
    assert case.extensions.get().new_deadline == dt.date(2026, 10, 8)


# The automatic check ------------------------------------------------------------------------


@pytest.fixture
def world(mediator, judge):
    """A case opened on Monday 1 June 2026: deadline Wednesday 1 July, warning 24 June."""
    with time_machine.travel(at(2026, 6, 1, 9, 0), tick=False):
        return make_case(mediator, judge)


def run(day: dt.date):
    with time_machine.travel(at(day.year, day.month, day.day, 8, 0), tick=False):
        return check_case_deadlines()


def test_nothing_is_sent_before_75_percent(world):
    report = run(dt.date(2026, 6, 23))
    assert (report.warnings, report.overdue) == (0, 0)
    assert not CaseDeadlineAlert.objects.exists()


def test_the_mediator_and_the_judge_are_warned_once_at_75_percent(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = run(dt.date(2026, 6, 24))
        again = run(dt.date(2026, 6, 25))
    assert (first.warnings, again.warnings) == (1, 0)
    assert kinds_for(world.mediator).count("case_deadline.warning") == 1
    assert kinds_for(world.judge).count("case_deadline.warning") == 1
    notice = Notification.objects.get(recipient=world.judge, kind="case_deadline.warning")
    assert notice.params == {"number": world.case.number, "due": "2026-07-01", "days": 7}
    assert render(notice.kind, notice.params) == (
        f"Mediation case {world.case.number} must be concluded by 2026-07-01 (7 days left)."
    )
    # The parties are not told of the court's internal supervision.
    assert not Notification.objects.filter(
        recipient__in=[world.plaintiff, world.defendant], kind__startswith="case_deadline"
    )


def test_an_overdue_case_is_flagged_once_and_its_timeline_says_so(world):
    first = run(dt.date(2026, 7, 2))
    again = run(dt.date(2026, 7, 3))
    assert (first.overdue, again.overdue) == (1, 0)
    assert list(CaseDeadlineAlert.objects.values_list("level", "deadline")) == [("overdue", dt.date(2026, 7, 1))]
    assert world.case.events.filter(action="deadline_overdue", actor=None).count() == 1
    assert kinds_for(world.judge).count("case_deadline.overdue") == 1
    assert kinds_for(world.mediator).count("case_deadline.overdue") == 1


def test_the_last_day_is_not_yet_overdue(world):
    report = run(dt.date(2026, 7, 1))
    assert report.overdue == 0


def test_an_extension_gives_new_alerts_for_the_new_deadline(world, judge):
    run(dt.date(2026, 7, 2))
    with time_machine.travel(at(2026, 7, 2, 10, 0), tick=False):
        cases.extend_case_deadline(
            case=world.case, actor=judge, new_deadline=dt.date(2026, 7, 15), reason="Parties need time"
        )
    # 44 days from 1 June to 15 July: the warning is due on 4 July.
    assert run(dt.date(2026, 7, 3)).warnings == 0
    assert run(dt.date(2026, 7, 4)).warnings == 1
    assert run(dt.date(2026, 7, 16)).overdue == 1
    assert CaseDeadlineAlert.objects.filter(deadline=dt.date(2026, 7, 15)).count() == 2


def test_a_concluded_case_is_not_supervised(world, mediator):
    cases.withdraw_case(case=world.case, actor=mediator, reason="Applicant withdrew")
    report = run(dt.date(2026, 7, 10))
    assert (report.warnings, report.overdue) == (0, 0)


def test_a_delegated_case_without_mediator_warns_the_organisations_admins_and_the_judge(world, judge):
    org = organisation()
    admin = organisation_admin(org)
    stranger_admin = organisation_admin(organisation("Other committee"), full_name="Other admin")
    MediationCase.objects.filter(pk=world.case.pk).update(
        status=MediationCase.Status.DELEGATED, mediator=None, organisation=org
    )
    report = run(dt.date(2026, 6, 24))
    assert report.warnings == 1
    assert kinds_for(admin) == ["case_deadline.unassigned"]
    assert "case_deadline.unassigned" in kinds_for(judge)
    assert kinds_for(stranger_admin) == []


def test_staff_who_opted_in_get_the_warning_by_text(world, judge):
    judge.phone = "+8613800138000"
    judge.phone_verified_at = at(2026, 1, 1, 9, 0)
    judge.save(update_fields=["phone", "phone_verified_at"])
    set_notification_channels(user=judge, choices={"deadlines": {"sms": True, "email": False}})
    run(dt.date(2026, 6, 24))
    [text] = SmsMessage.objects.filter(to="+8613800138000")
    assert text.template == "notice_case_deadline"
    assert world.case.number in text.body


def test_the_command_runs_the_case_pass_and_is_idempotent(world, capsys):
    with time_machine.travel(at(2026, 7, 2, 8, 0), tick=False):
        call_command("check_deadlines")
        first = capsys.readouterr().out
        call_command("check_deadlines")
        second = capsys.readouterr().out
    assert "cases flagged overdue: 1" in first
    assert "case warnings sent: 0; cases flagged overdue: 0" in second


# The flag on the page and the list's filter ---------------------------------------------------


def test_the_overdue_rule_is_the_same_in_sql_and_python(world, mediator, judge):
    with time_machine.travel(at(2026, 6, 1, 9, 0), tick=False):
        closed = make_case(mediator, judge, label="B").case
    cases.withdraw_case(case=closed, actor=mediator, reason="Withdrawn")
    today = dt.date(2026, 7, 2)
    overdue = set(MediationCase.objects.filter(overdue_cases_q(today)).values_list("pk", flat=True))
    assert overdue == {world.case.pk}
    annotated = {case.pk: case.is_overdue for case in with_overdue(MediationCase.objects.all(), today)}
    assert annotated == {world.case.pk: True, closed.pk: False}
    assert deadline_flag(MediationCase.objects.get(pk=closed.pk), today) is None


@pytest.mark.parametrize(
    "day, level, days_left",
    [(dt.date(2026, 6, 10), "running", 21), (dt.date(2026, 6, 24), "warning", 7), (dt.date(2026, 7, 3), "overdue", -2)],
)
def test_the_case_page_shows_staff_the_flag_and_days_left(client, world, day, level, days_left):
    client.force_login(world.mediator)
    with time_machine.travel(at(day.year, day.month, day.day, 9, 0), tick=False):
        page = client.get(reverse("case_detail", args=[world.case.pk]))
    assert page.context["deadline_flag"].level == level
    assert page.context["deadline_flag"].days_left == days_left
    assert f'data-deadline-flag="{level}"' in page.content.decode()


def test_a_party_does_not_see_the_supervision_flag(client, world):
    client.force_login(world.plaintiff)
    with time_machine.travel(at(2026, 6, 24, 9, 0), tick=False):
        page = client.get(reverse("case_detail", args=[world.case.pk]))
    assert page.status_code == 200
    assert "data-deadline-flag" not in page.content.decode()
