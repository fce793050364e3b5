"""A known set of mediation cases for the figures, built by direct model creation
with fixed dates (court time), once per test module.

Departments: civil (the judge's), enforcement (the outside judge's, and one work
order's), filing (the court mediator Liu's). Organisations: a people's mediation
committee ("Chaoyang …", Gao and Qian) and a commercial centre ("Jinghua …", Wu).

    case  referred (local)     mediator org       department   cause        outcome          days
    c0    2024-05-01           Gao      Chaoyang  civil        民间借贷纠纷   pending, overdue   —
    c1    2025-03-01           Gao      Chaoyang  civil        民间借贷纠纷   settled           10
    c2    2025-06-01           Liu      —         enforcement* 买卖合同纠纷   failed (late)     30
    c3    2025-12-31 20:00     Gao      Chaoyang  none         民间借贷纠纷   withdrawn          5
    c4    2026-02-01           Gao      Chaoyang  civil        民间借贷纠纷   settled (late)     4
    c5    2026-03-01           Gao      Chaoyang  civil        民间借贷纠纷   resumed: in mediation
    c6    2026-04-01           Wu       Jinghua   civil*       合同纠纷       settled           20
    c7    2026-05-01           —        Jinghua   civil        合同纠纷       delegated (to Gao, awaiting)
    c8    2026-06-01           Liu      —         enforcement  买卖合同纠纷   pending, overdue
    c9    2026-01-01 07:00     Gao      Chaoyang  none         买卖合同纠纷   failed            10

(* by the work order's department; c2's judge is of the civil division.) c9 was
created on 2025-12-31 23:00 UTC: a 2026 case in court time, as c3 (12:00 UTC) is a
2025 one. Recusals granted against Liu in 2026 (c8) and against Gao in 2025; one
refused against Wu in 2026."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils import timezone

from mediation.models import (
    Delegation,
    MediationCase,
    MediationOrganisation,
    MediatorProfile,
    Party,
    RecusalRequest,
    WorkOrder,
)
from mediation.roles import Role
from tests.factories import DepartmentFactory, UserFactory, WorkOrderFactory, staff

Status = MediationCase.Status
FAR = dt.date(2099, 1, 1)


def at(moment: str) -> dt.datetime:
    """A moment in court time: "2026-02-01" (10:00) or "2025-12-31T20:00"."""
    if "T" not in moment:
        moment += "T10:00"
    return timezone.make_aware(dt.datetime.fromisoformat(moment))


def build_case_figures_world() -> SimpleNamespace:
    civil = DepartmentFactory(name="Second civil division", code="civil-2")
    enforcement = DepartmentFactory(name="Enforcement bureau", code="enforcement")
    filing = DepartmentFactory(name="Filing division", code="filing")
    people = {
        "liaison": staff(Role.GENERAL_LIAISON, filing, full_name="Li Jing"),
        "dept_liaison": staff(Role.DEPARTMENT_LIAISON, civil, full_name="Zhao Min"),
        "head": staff(Role.DEPARTMENT_HEAD, civil, full_name="Chen Gang"),
        "judge": staff(Role.JUDGE, civil, full_name="Zhang Wei"),
        "outside_judge": staff(Role.JUDGE, enforcement, full_name="Sun Li"),
        "gao": staff(Role.MEDIATOR, civil, full_name="Gao Lan"),
        "liu": staff(Role.MEDIATOR, filing, full_name="Liu Yang"),
        "wu": staff(Role.MEDIATOR, None, full_name="Wu Min"),
        "qian": staff(Role.MEDIATOR, None, full_name="Qian Hui"),
        "zhou": staff(Role.MEDIATOR, None, full_name="Zhou Ping"),
        "nobody": UserFactory(full_name="No Role"),
        "superuser": UserFactory(full_name="Operator", is_superuser=True, is_staff=True),
    }
    chaoyang = MediationOrganisation.objects.create(
        name="Chaoyang People's Mediation Committee", kind="peoples_committee", region="北京市朝阳区"
    )
    jinghua = MediationOrganisation.objects.create(
        name="Jinghua Commercial Mediation Centre", kind="commercial", region="北京市"
    )
    for name, organisation, starts, ends in (
        ("gao", chaoyang, "2024-01-01", "2027-12-31"),
        ("qian", chaoyang, "2026-06-01", "2028-05-31"),
        ("wu", jinghua, "2025-01-01", "2026-12-31"),
        # An appointment that ended before 2026: not in the 2026 assessment.
        ("zhou", jinghua, "2022-01-01", "2024-12-31"),
    ):
        MediatorProfile.objects.create(
            user=people[name],
            organisation=organisation,
            term_starts_on=dt.date.fromisoformat(starts),
            term_ends_on=dt.date.fromisoformat(ends),
        )
    enforcement_order = WorkOrderFactory()
    WorkOrder.objects.filter(pk=enforcement_order.pk).update(department=enforcement)
    civil_order = WorkOrderFactory()
    WorkOrder.objects.filter(pk=civil_order.pk).update(department=civil)

    gao, liu, wu = people["gao"], people["liu"], people["wu"]
    judge, outside = people["judge"], people["outside_judge"]
    rows = {
        "c0": (gao, chaoyang, judge, None, "民间借贷纠纷", Status.PENDING, "2024-05-01", None, "2024-06-01"),
        "c1": (gao, chaoyang, judge, None, "民间借贷纠纷", Status.SETTLED, "2025-03-01", "2025-03-11", "2025-03-31"),
        "c2": (
            liu,
            None,
            judge,
            enforcement_order,
            "买卖合同纠纷",
            Status.FAILED,
            "2025-06-01",
            "2025-07-01",
            "2025-06-20",
        ),
        "c3": (
            gao,
            chaoyang,
            None,
            None,
            "民间借贷纠纷",
            Status.WITHDRAWN,
            "2025-12-31T20:00",
            "2026-01-05T20:00",
            "2026-01-30",
        ),
        "c4": (gao, chaoyang, judge, None, "民间借贷纠纷", Status.SETTLED, "2026-02-01", "2026-02-05", "2026-02-03"),
        "c5": (gao, chaoyang, judge, None, "民间借贷纠纷", Status.IN_MEDIATION, "2026-03-01", None, FAR),
        "c6": (wu, jinghua, judge, civil_order, "合同纠纷", Status.SETTLED, "2026-04-01", "2026-04-21", "2026-05-01"),
        "c7": (None, jinghua, judge, None, "合同纠纷", Status.DELEGATED, "2026-05-01", None, FAR),
        "c8": (liu, None, outside, None, "买卖合同纠纷", Status.PENDING, "2026-06-01", None, "2026-07-01"),
        "c9": (
            gao,
            chaoyang,
            None,
            None,
            "买卖合同纠纷",
            Status.FAILED,
            "2026-01-01T07:00",
            "2026-01-11T07:00",
            "2026-01-31",
        ),
    }
    cases = {}
    for index, (label, row) in enumerate(rows.items()):
        mediator, organisation, case_judge, order, cause, status, created, concluded, deadline = row
        created_at = at(created)
        case = MediationCase.objects.create(
            number=f"(2026)京0107民诉前调{900 + index}号",
            mediator=mediator,
            organisation=organisation,
            judge=case_judge,
            work_order=order,
            cause_of_action=cause,
            status=status,
            started_on=created_at.date(),
            deadline=deadline if isinstance(deadline, dt.date) else dt.date.fromisoformat(deadline),
            accepted_at=created_at if mediator else None,
            concluded_at=at(concluded) if concluded else None,
        )
        # created_at is set on creation: put it on the day the table says.
        MediationCase.objects.filter(pk=case.pk).update(created_at=created_at)
        cases[label] = case

    Delegation.objects.create(
        case=cases["c7"],
        organisation=chaoyang,
        status=Delegation.Status.AWAITING_ACCEPTANCE,
        delegated_by=judge,
        delegated_at=at("2026-05-01"),
        dispatched_to=gao,
        dispatched_at=at("2026-05-02"),
        accept_by=at("2099-01-01"),
    )
    for case, mediator, status, decided in (
        (cases["c8"], liu, RecusalRequest.Status.GRANTED, "2026-06-10"),
        (cases["c1"], gao, RecusalRequest.Status.GRANTED, "2025-03-05"),
        (cases["c6"], wu, RecusalRequest.Status.REFUSED, "2026-04-10"),
    ):
        party = Party.objects.create(case=case, side="plaintiff", kind="person", name="Applicant")
        RecusalRequest.objects.create(
            case=case,
            party=party,
            requested_by=people["nobody"],
            requested_at=at(decided) - dt.timedelta(days=2),
            mediator=mediator,
            reason="Knows the other side.",
            status=status,
            decided_by=judge,
            decided_at=at(decided),
        )
    return SimpleNamespace(
        people=people,
        civil=civil,
        enforcement=enforcement,
        filing=filing,
        chaoyang=chaoyang,
        jinghua=jinghua,
        cases=cases,
    )
