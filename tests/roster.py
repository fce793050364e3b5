"""Builders for the roster: organisations, their admins and their mediators.

    org = make_organisation(kind="commercial")
    mediator = make_roster_mediator(org, causes=["租赁合同纠纷"])   # a User with a profile
    admin = make_organisation_admin(org)

Rows are written directly (not through the roster services) so other parts' tests can
build any state, including ones the services refuse (an expired term, a suspended
mediator)."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

from django.utils import timezone

from mediation.models import MediationOrganisation, MediatorProfile, MediatorSpecialty, User
from mediation.roles import Role
from tests.factories import UserFactory

_numbers = itertools.count(1)


def make_organisation(
    *,
    name: str | None = None,
    kind: str = MediationOrganisation.Kind.PEOPLES_COMMITTEE,
    region: str = "北京市朝阳区",
    is_published: bool = True,
    is_active: bool = True,
    admins: list[User] | tuple = (),
    **fields,
) -> MediationOrganisation:
    organisation = MediationOrganisation.objects.create(
        name=name or f"第{next(_numbers)}人民调解委员会",
        kind=kind,
        region=region,
        is_published=is_published,
        is_active=is_active,
        **fields,
    )
    if admins:
        organisation.admins.add(*admins)
    return organisation


def make_organisation_admin(organisation: MediationOrganisation, **user_fields) -> User:
    """A member of the organisation_admin group who administers `organisation`."""
    admin = UserFactory(roles=[Role.ORGANISATION_ADMIN], **user_fields)
    organisation.admins.add(admin)
    return admin


def current_term(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return today - dt.timedelta(days=365), today + dt.timedelta(days=365)


def make_roster_mediator(
    organisation: MediationOrganisation,
    *,
    causes: list[str] | tuple = (),
    term: tuple[dt.date, dt.date] | None = None,
    status: str = MediatorProfile.Status.ACTIVE,
    user: User | None = None,
    is_published: bool = True,
    **profile_fields,
) -> User:
    """A mediator (member of the mediator group) with a roster profile in
    `organisation`. `term` defaults to one covering today; `causes` become specialties.
    Returns the user; the profile is `user.mediator_profile`."""
    user = user or UserFactory(roles=[Role.MEDIATOR])
    starts_on, ends_on = term or current_term()
    profile = MediatorProfile.objects.create(
        user=user,
        organisation=organisation,
        term_starts_on=starts_on,
        term_ends_on=ends_on,
        status=status,
        is_published=is_published,
        **profile_fields,
    )
    for cause in causes:
        MediatorSpecialty.objects.create(profile=profile, cause_of_action=cause)
    return user


def make_roster_world(people: dict) -> SimpleNamespace:
    """For the security world (tests/security/world.py): a people's mediation committee
    administered by `people["organisation_admin"]` (added here) with one mediator, and
    a commercial centre with another; both published. The court's own staff in
    `people` keep no profile."""
    organisation = make_organisation(name="Matrix mediation committee", contact_phone="010-11112222")
    other_organisation = make_organisation(name="Matrix commercial centre", kind=MediationOrganisation.Kind.COMMERCIAL)
    people["organisation_admin"] = make_organisation_admin(organisation, full_name="Organisation Admin")
    return SimpleNamespace(
        organisation=organisation,
        other_organisation=other_organisation,
        profile=make_roster_mediator(organisation, causes=["劳动争议"]).mediator_profile,
        other_profile=make_roster_mediator(other_organisation, fee="2000 yuan a case").mediator_profile,
    )
