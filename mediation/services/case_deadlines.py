"""A mediation case's period (调解期限) on the desk's working-day calendar.

The period is MEDIATION_DEADLINE_DAYS calendar days from the day the case started;
a last day that is not a working day (a weekend, a public holiday; a swapped working
weekend 调休 is one) moves to the next working day (期间届满日遇节假日顺延). The one
rule for opening a case, delegating it and extending its period.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings

from mediation.working_calendar import MAX_SEARCH_DAYS, WorkingCalendar

# The automatic warning comes when this share of the period has passed, as for work
# orders (mediation.services.deadlines.WARNING_SHARE).
WARNING_SHARE = 0.75


def next_working_day(day: dt.date, *, calendar: WorkingCalendar | None = None) -> dt.date:
    """`day` itself if it is a working day, else the first working day after it."""
    calendar = calendar or WorkingCalendar.load()
    for _ in range(MAX_SEARCH_DAYS):
        if calendar.is_working_day(day):
            return day
        day += dt.timedelta(days=1)
    raise ValueError("The calendar has no working day in the next three years.")


def mediation_deadline(
    started_on: dt.date, *, days: int | None = None, calendar: WorkingCalendar | None = None
) -> dt.date:
    """The last day of a period of `days` (MEDIATION_DEADLINE_DAYS by default) from
    `started_on`, moved to the next working day where it falls on a day off."""
    days = settings.MEDIATION_DEADLINE_DAYS if days is None else days
    return next_working_day(started_on + dt.timedelta(days=days), calendar=calendar)


def extended_deadline(new_deadline: dt.date, *, calendar: WorkingCalendar | None = None) -> dt.date:
    """The deadline a judge's extension gives: the day they chose, moved to the next
    working day where it is a day off."""
    return next_working_day(new_deadline, calendar=calendar)


def warning_date(started_on: dt.date, deadline: dt.date) -> dt.date:
    """The day the warning is due: when 75 % of the period has passed."""
    period = max((deadline - started_on).days, 0)
    return started_on + dt.timedelta(days=math.ceil(period * WARNING_SHARE))
