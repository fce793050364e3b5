"""Builders for delegation tests: organisations of the roster, their admins and
mediators, and a work order referred to an organisation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from mediation.models import MediationOrganisation, MediatorProfile, MediatorSpecialty, User
from mediation.roles import Role
from mediation.services import delegation
from tests.factories import UserFactory, staff


def organisation(name: str = "朝阳区物业纠纷人民调解委员会", kind: str = "peoples_committee", **fields):
    return MediationOrganisation.objects.create(name=name, kind=kind, region="北京市朝阳区", **fields)


def organisation_admin(of: MediationOrganisation, **fields) -> User:
    admin = UserFactory(roles=[Role.ORGANISATION_ADMIN], **fields)
    of.admins.add(admin)
    return admin


def roster_mediator(
    of: MediationOrganisation,
    *,
    specialties: tuple[str, ...] = (),
    status: str = MediatorProfile.Status.ACTIVE,
    term_ends_on: dt.date | None = None,
    **fields,
) -> User:
    user = staff(Role.MEDIATOR, **fields)
    today = timezone.localdate()
    profile = MediatorProfile.objects.create(
        user=user,
        organisation=of,
        term_starts_on=today - dt.timedelta(days=365),
        term_ends_on=term_ends_on or today + dt.timedelta(days=365),
        status=status,
    )
    for cause in specialties:
        MediatorSpecialty.objects.create(profile=profile, cause_of_action=cause)
    return user


def delegate_order(order, actor, to: MediationOrganisation, **fields):
    """Refer a work order to mediation delegated to `to`, as the referral form does."""
    return delegation.delegate_case(
        order=order,
        actor=actor,
        organisation=to,
        cause_of_action=fields.pop("cause_of_action", "物业服务合同纠纷"),
        claim_amount=fields.pop("claim_amount", Decimal("12000")),
        facts=fields.pop("facts", "拖欠物业费两年。"),
        **fields,
    )
