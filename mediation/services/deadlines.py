"""The two clocks of a work order and their pauses."""

from __future__ import annotations

import datetime as dt

from mediation.models import DeadlinePolicy, WorkOrder
from mediation.working_calendar import DAY_SECONDS, WorkingCalendar

WARNING_SHARE = 0.75

# Used when an administrator has deleted a category's policy.
FALLBACK_POLICY = {"first_contact_hours": 24, "completion_working_days": 5}


def policy_for(category: str) -> dict:
    policy = DeadlinePolicy.objects.filter(category=category).first()
    if policy is None:
        return dict(FALLBACK_POLICY)
    return {
        "first_contact_hours": policy.first_contact_hours,
        "completion_working_days": policy.completion_working_days,
    }


def first_contact_clock(received_at: dt.datetime, hours: int) -> dict:
    return {
        "first_contact_due": received_at + dt.timedelta(hours=hours),
        "first_contact_warn_at": received_at + dt.timedelta(hours=hours * WARNING_SHARE),
    }


def completion_clock(
    *, calendar: WorkingCalendar, clock_start: dt.datetime, working_days: int, paused_seconds: int
) -> dict:
    """Due at the end of the Nth working day after the clock starts, pushed back by the
    working time spent waiting for the requester."""
    allowed = working_days * DAY_SECONDS
    return {
        "completion_clock_start": clock_start,
        "completion_due": calendar.add_working_time(clock_start, allowed + paused_seconds),
        "completion_warn_at": calendar.add_working_time(clock_start, allowed * WARNING_SHARE + paused_seconds),
    }


def initial_deadlines(*, calendar: WorkingCalendar, received_at: dt.datetime, category: str) -> dict:
    policy = policy_for(category)
    return {
        **policy,
        **first_contact_clock(received_at, policy["first_contact_hours"]),
        **completion_clock(
            calendar=calendar,
            clock_start=calendar.next_day_start(received_at),
            working_days=policy["completion_working_days"],
            paused_seconds=0,
        ),
    }


def resumed_deadlines(*, calendar: WorkingCalendar, order: WorkOrder, resumed_at: dt.datetime) -> dict:
    """The completion clock after a pause: the working time of the pause (counted only
    from when the clock had started) is added to the allowance."""
    paused_from = max(order.paused_at, order.completion_clock_start)
    paused_seconds = order.paused_working_seconds + calendar.working_seconds_between(paused_from, resumed_at)
    return {
        "paused_working_seconds": paused_seconds,
        **completion_clock(
            calendar=calendar,
            clock_start=order.completion_clock_start,
            working_days=order.completion_working_days,
            paused_seconds=paused_seconds,
        ),
    }


def restarted_completion_clock(*, calendar: WorkingCalendar, order: WorkOrder, moment: dt.datetime) -> dict:
    """A reopened order gets a fresh completion allowance from the day after reopening."""
    return {
        "paused_working_seconds": 0,
        **completion_clock(
            calendar=calendar,
            clock_start=calendar.next_day_start(moment),
            working_days=order.completion_working_days,
            paused_seconds=0,
        ),
    }
