"""Loading the State Council's holiday schedule into the calendar table."""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def official_exceptions() -> dict[dt.date, tuple[bool, str]]:
    """Days of the `chinesecalendar` package that differ from Monday to Friday:
    holidays on weekdays and swapped working weekends."""
    exceptions = {}
    for day, name in chinese_calendar.holidays.items():
        if day.weekday() < 5:
            exceptions[day] = (False, name or "")
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5:
            exceptions[day] = (True, name or "")
    return exceptions


def official_years() -> set[int]:
    return {day.year for day in chinese_calendar.holidays}


def load_official_calendar(calendar_day_model, calendar_year_model) -> int:
    """Insert the official exceptions; a court's own decision for a day wins over the
    schedule. Takes the model classes so that a data migration can call it too.
    Returns how many days were added."""
    existing = set(calendar_day_model.objects.values_list("date", flat=True))
    new_days = [
        calendar_day_model(date=day, is_working_day=working, name=name[:100], source="state_council")
        for day, (working, name) in sorted(official_exceptions().items())
        if day not in existing
    ]
    calendar_day_model.objects.bulk_create(new_days, batch_size=500)
    for year in sorted(official_years()):
        calendar_year_model.objects.update_or_create(year=year)
    return len(new_days)
