"""Where a case stands against its mediation period: the flag on the case page, and
the overdue filter the case list uses (one rule: an open case whose deadline, the
last day of the period, has passed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When

from mediation.models import MediationCase
from mediation.services.case_deadlines import warning_date


def overdue_cases_q(today: dt.date) -> Q:
    """Open cases past their deadline on `today`: `MediationCase.objects.filter(...)`."""
    return Q(status__in=MediationCase.OPEN_STATUSES, deadline__lt=today)


def with_overdue(cases: QuerySet[MediationCase], today: dt.date) -> QuerySet[MediationCase]:
    """The cases annotated with `is_overdue`, by the same rule."""
    return cases.annotate(
        is_overdue=Case(
            When(overdue_cases_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )


def is_overdue(case: MediationCase, today: dt.date) -> bool:
    return case.status in MediationCase.OPEN_STATUSES and case.deadline < today


@dataclass(frozen=True)
class DeadlineFlag:
    # "overdue", "warning" (75 % of the period has passed) or "running".
    level: str
    # Days left to the deadline, counting it (0 on the last day); negative when overdue.
    days_left: int

    @property
    def days_over(self) -> int:
        return -self.days_left


def deadline_flag(case: MediationCase, today: dt.date) -> DeadlineFlag | None:
    """How an open case stands against its period on `today`; None for a closed case."""
    if case.status not in MediationCase.OPEN_STATUSES:
        return None
    days_left = (case.deadline - today).days
    if is_overdue(case, today):
        level = "overdue"
    elif today >= warning_date(case.started_on, case.deadline):
        level = "warning"
    else:
        level = "running"
    return DeadlineFlag(level=level, days_left=days_left)


def supervision_page_data(case: MediationCase, viewer, *, is_staff_view: bool, today: dt.date) -> dict:
    """What the case page shows of the case's supervision and recusal. Court staff of
    the case see the deadline flag, the supervision notices and every application to
    replace the mediator; a party's people see only their own party's applications,
    with the judge's reasons."""
    from mediation.models import CaseSupervisionNotice, RecusalRequest
    from mediation.participation import active_participation

    requests = RecusalRequest.objects.filter(case=case).select_related(
        "party", "requested_by", "mediator", "decided_by", "new_mediator"
    )
    if not is_staff_view:
        participation = active_participation(viewer, case)
        requests = requests.filter(party=participation.party) if participation else requests.none()
    return {
        "deadline_flag": deadline_flag(case, today) if is_staff_view else None,
        "supervision_notices": (
            CaseSupervisionNotice.objects.filter(case=case).select_related("issued_by", "responded_by")
            if is_staff_view
            else []
        ),
        "recusal_requests": requests,
    }
