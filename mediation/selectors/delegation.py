"""Reads behind the delegation's pages: the organisation admin's queue, the case
page's delegation panel and the case list's flags."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from mediation import policy
from mediation.models import Delegation, MediationCase, MediationOrganisation, User
from mediation.roles import Role, has_role


def administered_organisations(user: User) -> QuerySet[MediationOrganisation]:
    if not has_role(user, Role.ORGANISATION_ADMIN):
        return MediationOrganisation.objects.none()
    return user.administered_organisations.all().order_by("name", "pk")


def delegation_queue(user: User) -> QuerySet[Delegation]:
    """The open delegations of the organisations `user` administers, oldest first:
    awaiting dispatch, then awaiting acceptance (with `accept_by`)."""
    return (
        Delegation.objects.filter(
            organisation__in=administered_organisations(user),
            status__in=Delegation.OPEN_STATUSES,
            case__status=MediationCase.Status.DELEGATED,
        )
        .select_related("case", "organisation", "dispatched_to")
        .order_by("status", "delegated_at", "pk")
    )


def recently_returned(user: User, limit: int = 20) -> QuerySet[Delegation]:
    """What came back from their organisations lately, for the admin to know."""
    return (
        Delegation.objects.filter(organisation__in=administered_organisations(user), status=Delegation.Status.RETURNED)
        .select_related("case", "organisation", "dispatched_to")
        .order_by("-returned_at", "-pk")[:limit]
    )


def with_delegation_flags(cases: QuerySet[MediationCase], user: User) -> QuerySet[MediationCase]:
    """Each case with `delegation_flagged` (a returned delegation the court has not
    dealt with) and `delegated_to_me_by` (the accept_by of one dispatched to `user`)."""
    flagged = Delegation.objects.filter(
        case=OuterRef("pk"), status=Delegation.Status.RETURNED, flag_cleared_at__isnull=True
    )
    mine = Delegation.objects.filter(
        case=OuterRef("pk"), status=Delegation.Status.AWAITING_ACCEPTANCE, dispatched_to_id=user.pk
    ).values("accept_by")[:1]
    return cases.annotate(delegation_flagged=Exists(flagged), delegated_to_me_by=Subquery(mine))


def delegation_panel(case: MediationCase, user: User) -> dict | None:
    """What the case page says of the case's delegations to this viewer: the open
    one and the returned one still flagged, with the letter's link for those who may
    read it. None for a party and for a case never delegated."""
    if not case.delegations.exists():
        return None
    if not (
        policy.can_on_case(user, "view", case)
        and (
            user.is_superuser
            or policy.is_general_liaison(user)
            or case.judge_id == user.pk
            or case.mediator_id == user.pk
            or policy.is_case_organisation_admin(user, case)
            or policy.is_dispatched_mediator(user, case)
        )
    ):
        return None
    delegations = list(
        case.delegations.select_related("organisation", "dispatched_to").order_by("-delegated_at", "-pk")
    )
    entries = [
        {"delegation": delegation, "may_read_letter": policy.can_read_delegation_letter(user, delegation)}
        for delegation in delegations
        if policy.can_read_delegation_letter(user, delegation)
    ]
    if not entries:
        return None
    return {
        "entries": entries,
        "flagged": next((d for d in delegations if d.is_flagged), None),
        "open": next((d for d in delegations if d.is_open), None),
    }
