"""Many mediation cases at once, as rows: for lists and their pagination, where the
services' invitations, rooms and timelines would only slow the test down."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from mediation.models import MediationCase, MediationOrganisation, Party, User
from mediation.roles import Role
from tests.factories import staff

_numbers = itertools.count(1)


def case_rows(
    count: int,
    *,
    mediator: User | None,
    status: str = MediationCase.Status.PENDING,
    organisation: MediationOrganisation | None = None,
    deadline: dt.date | None = None,
    party_name: str = "",
    party_phone: str = "",
    judge: User | None = None,
) -> list[MediationCase]:
    """`count` cases, created one second apart (the last is the newest), each with a
    plaintiff named `party_name` (and `party_phone`) when given."""
    today = timezone.localdate()
    cases = MediationCase.objects.bulk_create(
        MediationCase(
            number=f"(2026)京0105民诉前调{90000 + next(_numbers)}号",
            cause_of_action="合同纠纷",
            mediator=mediator,
            judge=judge,
            organisation=organisation,
            status=status,
            started_on=today - dt.timedelta(days=10),
            deadline=deadline or today + dt.timedelta(days=20),
        )
        for _ in range(count)
    )
    # auto_now_add ignores given values: spread the creation times afterwards so the
    # list's order (newest first) is the creation order.
    start = timezone.now() - dt.timedelta(days=1)
    for index, case in enumerate(cases):
        MediationCase.objects.filter(pk=case.pk).update(created_at=start + dt.timedelta(seconds=index))
    if party_name or party_phone:
        Party.objects.bulk_create(
            Party(case=case, side="plaintiff", kind="person", name=party_name or "Someone", phone=party_phone)
            for case in cases
        )
    return cases


def organisation_with_admin(name: str) -> tuple[MediationOrganisation, User]:
    organisation = MediationOrganisation.objects.create(name=name, kind="peoples_committee", region="北京市朝阳区")
    admin = staff(Role.ORGANISATION_ADMIN, full_name=f"Admin of {name}")
    organisation.admins.add(admin)
    return organisation, admin
