"""Deadlines on the Chinese working-day calendar: the 2026 National Day holiday
(1–7 October), its swapped working days (Sunday 20 September, Saturday 10 October),
pauses while waiting for the requester, and the fallback outside loaded years."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mediation.models import CalendarDay, CalendarYear, WorkOrder
from mediation.services import work_orders as services
from mediation.working_calendar import WorkingCalendar
from tests.factories import WorkOrderFactory, refresh
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=SHANGHAI)


def test_the_official_schedule_is_loaded_for_2026():
    calendar = WorkingCalendar.load()
    assert calendar.is_year_loaded(2026)
    assert not calendar.is_working_day(dt.date(2026, 10, 1))  # National Day, a Thursday
    assert not calendar.is_working_day(dt.date(2026, 10, 5))  # a Monday inside the holiday
    assert calendar.is_working_day(dt.date(2026, 10, 10))  # swapped working Saturday
    assert calendar.is_working_day(dt.date(2026, 9, 20))  # swapped working Sunday
    assert not calendar.is_working_day(dt.date(2026, 10, 11))  # an ordinary Sunday


@time_machine.travel(at(2026, 10, 12, 12, 0))
def test_completion_clock_skips_the_national_day_holiday():
    # Received Wednesday 30 September; 3 working days counted from the next day:
    # 1–7 October are holidays, so Thursday 8, Friday 9 and Saturday 10 (a swapped
    # working day) count, and the order is due at the end of Saturday 10 October.
    order = WorkOrderFactory(category="contact_judge", received_at=at(2026, 9, 30, 16, 0))
    assert order.completion_working_days == 3
    assert order.completion_due == end_of(dt.date(2026, 10, 10))


@time_machine.travel(at(2026, 10, 12, 12, 0))
def test_completion_clock_counts_the_swapped_working_saturday():
    # Received Thursday 8 October; 2 working days (case query): Friday 9 and the
    # swapped working Saturday 10 October.
    order = WorkOrderFactory(category="case_query", received_at=at(2026, 10, 8, 9, 0))
    assert order.completion_working_days == 2
    assert order.completion_due == end_of(dt.date(2026, 10, 10))


@time_machine.travel(at(2026, 9, 25, 12, 0))
def test_completion_clock_counts_the_swapped_working_sunday():
    # Received Saturday 19 September; Sunday 20 is a working day, then Monday 21 and
    # Tuesday 22.
    order = WorkOrderFactory(category="contact_judge", received_at=at(2026, 9, 19, 10, 0))
    assert order.completion_due == end_of(dt.date(2026, 9, 22))


@time_machine.travel(at(2026, 10, 20, 12, 0))
def test_first_contact_clock_runs_in_natural_hours_through_the_holiday():
    order = WorkOrderFactory(category="contact_judge", received_at=at(2026, 10, 1, 9, 30))
    assert order.first_contact_hours == 24
    assert order.first_contact_due == at(2026, 10, 2, 9, 30)
    assert order.first_contact_warn_at == at(2026, 10, 2, 3, 30)


@time_machine.travel(at(2026, 10, 12, 12, 0))
def test_warning_point_is_three_quarters_of_the_working_time():
    order = WorkOrderFactory(category="contact_judge", received_at=at(2026, 9, 30, 16, 0))
    # 75 % of 3 working days is 2¼ days: all of 8 and 9 October and 6 hours of the 10th.
    assert order.completion_warn_at == at(2026, 10, 10, 6, 0)


def test_pause_over_the_holiday_extends_the_deadline_only_by_the_working_days_paused(people):
    with time_machine.travel(at(2026, 9, 29, 9, 0), tick=False):
        order = order_in_state(WorkOrder.Status.IN_PROGRESS, people, category="mediation_request")
        # 5 working days from Wednesday 30 September: 30 Sep, 8, 9, 10 (Saturday), 12 Oct.
        assert order.completion_due == end_of(dt.date(2026, 10, 12))
    with time_machine.travel(at(2026, 9, 30, 12, 0), tick=False):
        services.record_contact(order=order, actor=people["judge"], note="Asked for the contract copy")
        services.pause_work_order(order=order, actor=people["judge"], reason="Waiting for the contract copy")
    with time_machine.travel(at(2026, 10, 9, 12, 0), tick=False):
        order = refresh(order)
        assert not order.is_overdue()
        services.resume_work_order(order=order, actor=people["judge"])
    order = refresh(order)
    # Paused from noon 30 September to noon 9 October: the working time in between is
    # half of 30 Sep + 8 Oct + half of 9 Oct = 2 working days; the holiday costs nothing.
    assert order.paused_working_seconds == 2 * 24 * 3600
    assert order.completion_due == end_of(dt.date(2026, 10, 14))
    assert order.paused_at is None
    resume = order.events.get(action="resume")
    assert dt.datetime.fromisoformat(resume.data["previous_due"]) == end_of(dt.date(2026, 10, 12))


def test_a_paused_order_is_not_overdue_and_its_clock_is_stopped(people):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
        services.record_contact(order=order, actor=people["judge"], note="Called")
        services.pause_work_order(order=order, actor=people["judge"], reason="Waiting for the requester")
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        order = refresh(order)
        assert order.completion_due < at(2026, 11, 30, 9, 0)
        assert not order.completion_clock_running
        assert not order.is_overdue()


def test_replying_while_paused_ends_the_pause_and_counts_it(people):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
        services.pause_work_order(order=order, actor=people["judge"], reason="Waiting")
    with time_machine.travel(at(2026, 11, 4, 9, 0), tick=False):
        services.reply_to_requester(order=refresh(order), actor=people["judge"], content="Done", channel="phone")
    order = refresh(order)
    assert order.paused_at is None
    # The clock only started at midnight after receipt: 3 November 00:00 to 4 November
    # 09:00 is what the pause cost.
    assert order.paused_working_seconds == 33 * 3600


def test_pausing_twice_or_resuming_a_running_clock_is_refused(people):
    from mediation.errors import TransitionNotAllowed

    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
    with pytest.raises(TransitionNotAllowed):
        services.resume_work_order(order=order, actor=people["judge"])
    services.pause_work_order(order=order, actor=people["judge"], reason="Waiting")
    with pytest.raises(TransitionNotAllowed):
        services.pause_work_order(order=refresh(order), actor=people["judge"], reason="Again")


def test_a_year_without_an_official_schedule_falls_back_to_monday_to_friday():
    CalendarYear.objects.filter(year__gte=2027).delete()
    CalendarDay.objects.filter(date__year__gte=2027).delete()
    calendar = WorkingCalendar.load()
    assert not calendar.is_year_loaded(2031)
    # Friday 1 August 2031 + 1 working day is Monday 4 August.
    due = calendar.add_working_days(at(2031, 8, 1, 0, 0), 2)
    assert due == end_of(dt.date(2031, 8, 4))


def test_a_court_closure_entered_by_the_admin_moves_deadlines():
    CalendarDay.objects.create(date=dt.date(2026, 12, 2), is_working_day=False, name="Court closed for moving")
    calendar = WorkingCalendar.load()
    # Monday 30 November + 3 working days: 30 Nov, 1 Dec, (2 Dec closed), 3 Dec.
    assert calendar.add_working_days(at(2026, 11, 30, 0, 0), 3) == end_of(dt.date(2026, 12, 3))


def test_working_time_between_two_moments_ignores_holidays_and_weekends():
    calendar = WorkingCalendar.load()
    assert calendar.working_seconds_between(at(2026, 10, 1, 0, 0), at(2026, 10, 8, 0, 0)) == 0
    assert calendar.working_seconds_between(at(2026, 10, 9, 12, 0), at(2026, 10, 12, 12, 0)) == (2 * 24 * 3600)
