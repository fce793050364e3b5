"""Working-time arithmetic on the Chinese working-day calendar.

A working day counts whole (24 hours of clock time); holidays and weekends count
nothing, and swapped working weekends (调休) count as working days. The calendar table
holds only the days that differ from Monday to Friday, so a year with no official
schedule loaded falls back to that rule.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

DAY_SECONDS = 24 * 60 * 60
# No deadline reaches this far; stopping here turns a corrupt calendar (no working day
# at all) into an error instead of an endless loop.
MAX_SEARCH_DAYS = 3 * 366


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class WorkingCalendar:
    def __init__(self, exceptions: dict[dt.date, bool], loaded_years: set[int] | None = None):
        self._exceptions = exceptions
        self.loaded_years = loaded_years or set()
        self.zone = local_zone()

    @classmethod
    def load(cls) -> WorkingCalendar:
        from mediation.models import CalendarDay, CalendarYear

        exceptions = dict(CalendarDay.objects.values_list("date", "is_working_day"))
        years = set(CalendarYear.objects.values_list("year", flat=True))
        return cls(exceptions, years)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._exceptions:
            return self._exceptions[day]
        return day.weekday() < 5

    def is_year_loaded(self, year: int) -> bool:
        return year in self.loaded_years

    def _midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)

    def end_of_day(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.max, tzinfo=self.zone)

    def next_day_start(self, moment: dt.datetime) -> dt.datetime:
        """Midnight after `moment`, local time: working-day clocks start the day after
        receipt (自受理次日起算)."""
        return self._midnight(moment.astimezone(self.zone).date() + dt.timedelta(days=1))

    def add_working_time(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The moment at which `seconds` of working time have passed since `start`.
        A clock that runs out exactly at the end of a working day ends at 23:59:59.999999
        of that day, not at midnight of the next."""
        if seconds <= 0:
            return start
        local = start.astimezone(self.zone)
        day = local.date()
        offset = (local - self._midnight(day)).total_seconds()
        remaining = float(seconds)
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                available = DAY_SECONDS - offset
                if remaining < available:
                    return self._midnight(day) + dt.timedelta(seconds=offset + remaining)
                if remaining == available:
                    return self.end_of_day(day)
                remaining -= available
            day += dt.timedelta(days=1)
            offset = 0.0
        raise ValueError("The calendar has no working day in the next three years.")

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> int:
        if end <= start:
            return 0
        start_local = start.astimezone(self.zone)
        end_local = end.astimezone(self.zone)
        total = 0.0
        day = start_local.date()
        while day <= end_local.date():
            if self.is_working_day(day):
                day_start = max(self._midnight(day), start_local)
                day_end = min(self._midnight(day + dt.timedelta(days=1)), end_local)
                total += max(0.0, (day_end - day_start).total_seconds())
            day += dt.timedelta(days=1)
        return round(total)

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        return self.add_working_time(start, days * DAY_SECONDS)
