"""Reads behind the mediation-case pages."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from mediation import participation, phones, policy
from mediation.models import Delegation, Invitation, MediationCase, MediationSession, Participant, ParticipantRole, User
from mediation.roles import Role, has_role


def visible_cases(user: User) -> QuerySet[MediationCase]:
    """Mirrors the case `view` rule."""
    cases = MediationCase.objects.select_related("mediator", "judge", "work_order")
    if not user.is_authenticated:
        return cases.none()
    if user.is_superuser or has_role(user, Role.GENERAL_LIAISON):
        return cases
    # The few cases a person takes part in, or judges an application for judicial
    # confirmation of, are looked up first: then every condition below is a column
    # test that PostgreSQL answers from an index each and combines (a BitmapOr),
    # where subqueries under an OR would make it test every case in the table
    # (benchmarks/case_list.py).
    taken_part = set(Participant.active.filter(user=user).values_list("case_id", flat=True))
    confirmations = MediationCase.objects.filter(confirmations__judge=user).values_list("pk", flat=True)
    # The mediator a delegated case is dispatched to, while it waits for them to
    # accept it (policy.is_dispatched_mediator).
    dispatched = Delegation.objects.filter(status=Delegation.Status.AWAITING_ACCEPTANCE, dispatched_to=user)
    case_ids = sorted(taken_part | set(confirmations) | set(dispatched.values_list("case_id", flat=True)))
    visible = Q(mediator=user) | Q(judge=user)
    if case_ids:
        visible |= Q(pk__in=case_ids)
    if has_role(user, Role.ORGANISATION_ADMIN):
        # An organisation's administrator sees the cases of the organisations they
        # administer (policy.is_case_organisation_admin).
        organisations = list(user.administered_organisations.values_list("pk", flat=True))
        if organisations:
            visible |= Q(organisation_id__in=organisations)
    if user.department_id and has_role(user, Role.DEPARTMENT_HEAD):
        # A department head supervises the cases of their department's judges and
        # mediators (policy.heads_department_of_case).
        visible |= Q(judge__department_id=user.department_id) | Q(mediator__department_id=user.department_id)
    return cases.filter(visible)


def case_for(user: User, case_id: int) -> MediationCase | None:
    case = visible_cases(user).filter(pk=case_id).first()
    if case is None or not policy.can_on_case(user, "view", case):
        return None
    return case


# Which sessions each session step can take: not cancelled, and not yet started to
# start or cancel one, started and not ended to end one. The services check the same
# under the session's row lock and say why not (services.sessions._lock_session);
# tests/mediation/test_actions.py holds both to the same rows.
SESSION_STEPS = {
    "start": Q(started_at__isnull=True),
    "cancel": Q(started_at__isnull=True),
    "end": Q(started_at__isnull=False, ended_at__isnull=True),
}


def sessions_open_to(case: MediationCase, step: str) -> QuerySet[MediationSession]:
    """The case's sessions that `step` ("start", "end" or "cancel") can take now."""
    return case.sessions.filter(SESSION_STEPS[step], cancelled_at__isnull=True)


def open_invitations(case: MediationCase, now: dt.datetime | None = None) -> QuerySet[Invitation]:
    """The case's invitations that can still be accepted, or withdrawn: the "open"
    state of `Invitation.state()`."""
    return case.invitations.filter(
        revoked_at__isnull=True,
        accepted_at__isnull=True,
        wrong_id_numbers__lt=Invitation.MAX_WRONG_ID_NUMBERS,
        expires_at__gt=now or timezone.now(),
    )


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


def _phone(value) -> dict | None:
    """A phone number (text or a stored PhoneNumber) to show and to dial (tel:), or
    None when there is none."""
    value = str(value or "").strip()
    if not value:
        return None
    return {"display": phones.display(value) or value, "dial": "".join(c for c in value if c.isdigit() or c == "+")}


def invitation_page_data(invitation: Invitation) -> dict:
    """What the invitation page tells a person who may never have heard of the
    platform, so that they can tell it from a scam: the court, the case, their side (as
    the case page names it), whom they act for when it is not themselves, the mediator,
    and numbers to call to check."""
    case, party = invitation.case, invitation.party
    return {
        "court_name": settings.COURT_NAME,
        "case": case,
        "party": party,
        "side_label": party.get_side_display(),
        # An agent or a legal representative acts for someone else; the party in person
        # is never told they "represent" themselves.
        "acts_for_another": invitation.role != ParticipantRole.PARTY,
        # A guardian acts for the party; an interpreter or a helper takes part beside
        # them and signs nothing (mediation.participation).
        "signs_nothing": participation.signs_nothing(invitation.role),
        "role_explanation": participation.role_explanation(invitation.role),
        "mediator": case.mediator,
        "court_phone": _phone(settings.COURT_CONTACT_PHONE),
        "mediator_phone": _phone(case.mediator.phone),
    }
