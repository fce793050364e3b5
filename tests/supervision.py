"""Builders for the supervision part: roster mediators and organisations, days off on
the desk's calendar, and reading notices."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from mediation.models import CalendarDay, MediationOrganisation, MediatorProfile, Notification, User
from mediation.roles import Role
from tests.factories import staff

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def organisation(name: str = "Chaoyang People's Mediation Committee", **fields) -> MediationOrganisation:
    values = {"kind": MediationOrganisation.Kind.PEOPLES_COMMITTEE, "region": "Chaoyang", **fields}
    return MediationOrganisation.objects.create(name=name, **values)


def roster_mediator(
    org: MediationOrganisation, *, full_name: str, status: str = MediatorProfile.Status.ACTIVE, **fields
) -> User:
    """A mediator of `org` on the roster, appointed for this year and the next."""
    user = staff(Role.MEDIATOR, None, full_name=full_name, **fields)
    today = timezone.localdate()
    MediatorProfile.objects.create(
        user=user,
        organisation=org,
        term_starts_on=today - dt.timedelta(days=365),
        term_ends_on=today + dt.timedelta(days=365),
        status=status,
    )
    return user


def organisation_admin(org: MediationOrganisation, *, full_name: str = "Org Admin") -> User:
    user = staff(Role.ORGANISATION_ADMIN, None, full_name=full_name)
    org.admins.add(user)
    return user


def days_off(*days: dt.date, working: tuple[dt.date, ...] = ()) -> None:
    """Mark days as holidays, and weekend days as swapped working days (调休)."""
    for day in days:
        CalendarDay.objects.update_or_create(date=day, defaults={"is_working_day": False, "name": "holiday"})
    for day in working:
        CalendarDay.objects.update_or_create(date=day, defaults={"is_working_day": True, "name": "调休"})


def kinds_for(user: User) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))
