"""Reads behind the mediation-case pages."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from mediation import policy
from mediation.models import MediationCase, Participant, User
from mediation.roles import Role, has_role


def visible_cases(user: User) -> QuerySet[MediationCase]:
    """Mirrors the case `view` rule."""
    cases = MediationCase.objects.select_related("mediator", "judge", "work_order")
    if not user.is_authenticated:
        return cases.none()
    if user.is_superuser or has_role(user, Role.GENERAL_LIAISON):
        return cases
    participates = Participant.active.filter(user=user).values("case_id")
    return cases.filter(Q(mediator=user) | Q(judge=user) | Q(pk__in=participates))


def case_for(user: User, case_id: int) -> MediationCase | None:
    case = visible_cases(user).filter(pk=case_id).first()
    if case is None or not policy.can_on_case(user, "view", case):
        return None
    return case


def participant_cases(user: User) -> QuerySet[MediationCase]:
    """A party's own cases, nothing else."""
    return (
        MediationCase.objects.filter(participants__user=user, participants__removed_at__isnull=True)
        .distinct()
        .order_by("-created_at")
    )


def case_page_data(case: MediationCase, viewer: User) -> dict:
    """What the case page shows. Parties' people see the parties and participants but
    not the invitation links or the internal timeline notes of staff. The sessions are
    not here: which of them a party may know of depends on the rooms they may enter,
    a rule of the rooms app (frontend's `sessions_of_case` tag asks it)."""
    is_staff_view = (
        policy.can_on_case(viewer, "manage", case)
        or case.judge_id == viewer.pk
        or viewer.is_superuser
        or has_role(viewer, Role.GENERAL_LIAISON)
    )
    return {
        "parties": case.parties.prefetch_related("participants__user"),
        "participants": Participant.active.filter(case=case).select_related("user", "party"),
        "invitations": case.invitations.select_related("party") if is_staff_view else [],
        "extensions": case.extensions.select_related("approved_by"),
        "timeline": case.events.select_related("actor") if is_staff_view else [],
        "is_staff_view": is_staff_view,
    }
