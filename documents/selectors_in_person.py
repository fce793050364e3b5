"""Reads of acts done in person (documents.InPersonAct) for pages: who may see which
act and its scan, who may confirm, and the agreement version a paper copy is of."""

from __future__ import annotations

from django.db.models import QuerySet

from documents.access import can_view_document, side_of
from documents.models import Agreement, AgreementVersion, Service
from documents.models.in_person import InPersonAct
from documents.services.in_person import confirmation_refusal, state_refusal
from mediation import policy
from mediation.models import MediationCase, User
from mediation.roles import Role, has_role


def follows_whole_case(user: User, case: MediationCase) -> bool:
    """The court's side of the case: its mediator, its judge, the general liaison (and
    the operator, who reads everything and acts through no role of theirs here)."""
    return (
        side_of(user, case) in ("mediator", "judge")
        or has_role(user, Role.GENERAL_LIAISON)
        or (user.is_authenticated and user.is_superuser)
    )


def acts_of_case(case: MediationCase) -> QuerySet[InPersonAct]:
    return InPersonAct.objects.filter(case=case).select_related(
        "party", "witness", "confirmed_by", "scan", "agreement_version", "service"
    )


def visible_acts(user: User, case: MediationCase) -> list[InPersonAct]:
    """The acts this user may know of: all of them for the court's side; for a party's
    people, those whose scan they may see (their own side's, and paper signatures of
    the agreement, which are the whole case's)."""
    acts = list(acts_of_case(case))
    if follows_whole_case(user, case):
        return acts
    return [act for act in acts if can_view_document(user, act.scan)]


def may_view_scan(user: User, act: InPersonAct) -> bool:
    return follows_whole_case(user, act.case) or can_view_document(user, act.scan)


def may_confirm(user: User, act: InPersonAct) -> bool:
    return confirmation_refusal(act, user) is None and state_refusal(act) is None


def acts_to_confirm(user: User, case: MediationCase) -> list[InPersonAct]:
    """The acts of the case waiting for this user's confirmation (a to-do)."""
    if not policy.can_on_case(user, "confirm_in_person", case):
        return []
    pending = acts_of_case(case).filter(confirmed_at__isnull=True, withdrawn_at__isnull=True)
    return [act for act in pending if may_confirm(user, act)]


def version_to_sign_on_paper(case: MediationCase) -> AgreementVersion | None:
    """The agreement version a paper copy can be signed of now: the current version of
    the case's agreement while it waits for signatures."""
    agreement = (
        Agreement.objects.filter(case=case, status__in=Agreement.WAITING_FOR_SIGNATURES)
        .select_related("current_version")
        .order_by("-created_at")
        .first()
    )
    return agreement.current_version if agreement is not None else None


def services_to_acknowledge(case: MediationCase) -> QuerySet[Service]:
    return (
        Service.objects.filter(case=case, status__in=Service.AWAITING_RECIPIENT)
        .select_related("recipient")
        .order_by("-created_at")
    )
