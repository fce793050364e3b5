"""Delegation of a case to a mediation organisation (委派调解).

The court (the judge or the general liaison) delegates a case to an organisation of
the roster, at referral (`delegate_case` with the work order) or again after a
delegation came back (`delegate_case` with the case). The case waits in status
"delegated" with no mediator; the organisation's admin dispatches it to one of its
assignable mediators (`dispatch_delegation`), who accepts it by the end of the 2nd
working day after dispatch (`accept_delegation`: the case gets its mediator and
goes to "pending") or declines it (`decline_delegation`). Not accepted in time,
`return_overdue_delegations` (run by the `check_deadlines` command) sends it back.
A returned delegation flags the case until the court delegates again or assigns a
mediator directly (`assign_mediator`).

Every function locks the case, then its delegation, checks the state and the actor,
records the case event and notifies, in one transaction. The letter of delegation
(a sealed PDF) is made by documents on `signals.case_delegated`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import notifications, policy, roster, signals
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import Delegation, MediationCase, MediationOrganisation, User, WorkOrder
from mediation.notifications import notify, register_kind
from mediation.roles import Role
from mediation.services import cases, work_orders
from mediation.working_calendar import WorkingCalendar, local_zone

# Working days the dispatched mediator has to accept, counted from the day after dispatch.
DAYS_TO_ACCEPT = 2
# The period of mediation the letter gives the organisation (the case's deadline).
MEDIATION_PERIOD_DAYS = 30

Status = Delegation.Status
ReturnReason = Delegation.ReturnReason

register_kind(
    "delegation.delegated",
    gettext_lazy("Mediation case %(number)s was delegated to %(organisation)s: dispatch it to a mediator."),
    topic="cases",
)
register_kind(
    "delegation.dispatched",
    gettext_lazy("Mediation case %(number)s was delegated to you: accept or decline it by %(accept_by)s."),
    topic="cases",
)
register_kind(
    "delegation.returned",
    gettext_lazy(
        "Mediation case %(number)s came back from %(organisation)s (%(return_reason)s): assign a mediator or "
        "delegate it again."
    ),
    topic="cases",
)
register_kind(
    "delegation.accepted",
    gettext_lazy("%(name)s accepted mediation case %(number)s, delegated to %(organisation)s."),
    topic="cases",
)
notifications.PARAMETER_LABELS["return_reason"] = ReturnReason


def queue_url() -> str:
    return reverse("delegation_queue")


def accept_by_for(dispatched_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """The end of the 2nd working day after the day of dispatch, on the desk's calendar
    (a weekend or holiday counts nothing, a swapped working weekend counts)."""
    calendar = calendar or WorkingCalendar.load()
    return calendar.add_working_days(calendar.next_day_start(dispatched_at), DAYS_TO_ACCEPT)


def format_moment(moment: dt.datetime) -> str:
    return moment.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def open_delegation_of(case: MediationCase) -> Delegation | None:
    return case.delegations.filter(status__in=Delegation.OPEN_STATUSES).select_related("organisation").first()


def flagged_delegation_of(case: MediationCase) -> Delegation | None:
    """The case's returned delegation the court has not dealt with yet (the flag)."""
    return (
        case.delegations.filter(status=Status.RETURNED, flag_cleared_at__isnull=True)
        .select_related("organisation")
        .order_by("-returned_at", "-id")
        .first()
    )


def _lock_open_delegation(case: MediationCase) -> Delegation:
    delegation = (
        Delegation.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .filter(case=case, status__in=Delegation.OPEN_STATUSES)
        .first()
    )
    if delegation is None:
        raise TransitionNotAllowed(
            _("Mediation case %(number)s has no delegation waiting for a mediator.") % {"number": case.number}
        )
    return delegation


def _court_side(case: MediationCase) -> list[User]:
    """Who hears of a returned delegation: the case's judge and the general liaisons."""
    return ([case.judge] if case.judge_id else []) + work_orders.general_liaisons()


def _check_organisation(organisation: MediationOrganisation | None) -> None:
    if organisation is None:
        raise ValidationError({"organisation": _("Choose the organisation to delegate the case to.")})
    if not organisation.is_active:
        raise ValidationError(
            {"organisation": _("%(organisation)s is no longer on the roster.") % {"organisation": organisation}}
        )


def _clear_flags(case: MediationCase, now: dt.datetime) -> list[int]:
    flagged = list(case.delegations.filter(status=Status.RETURNED, flag_cleared_at__isnull=True))
    for returned in flagged:
        returned.flag_cleared_at = now
        returned.save(update_fields=["flag_cleared_at"])
    return [returned.pk for returned in flagged]


def _start_delegation(case: MediationCase, *, organisation: MediationOrganisation, actor: User) -> Delegation:
    """The delegation row, the case event, the letter (signal) and the admins' notice;
    the case locked and in status delegated."""
    now = timezone.now()
    cleared = _clear_flags(case, now)
    delegation = Delegation.objects.create(case=case, organisation=organisation, delegated_by=actor, delegated_at=now)
    if case.organisation_id != organisation.pk:
        case.organisation = organisation
        case.save(update_fields=["organisation", "updated_at"])
    cases.record_case_event(
        case,
        actor=actor,
        action="delegate",
        data={"delegation": delegation.pk, "organisation": organisation.pk, "cleared": cleared},
    )
    signals.case_delegated.send(sender=MediationCase, case=case, delegation=delegation, actor=actor)
    notify(
        recipients=organisation.admins.filter(groups__name=Role.ORGANISATION_ADMIN, is_active=True),
        kind="delegation.delegated",
        params={"number": case.number, "organisation": organisation.name},
        url=queue_url(),
    )
    return delegation


@transaction.atomic
def delegate_case(
    *,
    actor: User,
    organisation: MediationOrganisation,
    case: MediationCase | None = None,
    order: WorkOrder | None = None,
    cause_of_action: str = "",
    claim_amount: Decimal | None = None,
    facts: str = "",
    judge: User | None = None,
) -> Delegation:
    """Delegate to `organisation`: with `order`, refer the work order to mediation as
    a new case delegated to it (refer_to_mediation's rules: the judge it is assigned
    to or the general liaison); with `case`, a case whose delegation came back (status
    delegated, nothing open), by its judge or the general liaison, which takes its
    flag down. Any active organisation of the roster may be chosen, the court's own
    mediation centre included."""
    if (case is None) == (order is None):
        raise ValueError("Delegate either a work order's dispute (order) or a case (case).")
    _check_organisation(organisation)
    if order is not None:
        case = cases.refer_to_mediation(
            order=order,
            actor=actor,
            mediator=None,
            organisation=organisation,
            cause_of_action=cause_of_action,
            claim_amount=claim_amount,
            facts=facts,
            judge=judge,
        )
        case = cases.lock_case(case)
    else:
        case = cases.lock_case_for_action(case, actor, "delegate")
        if case.delegations.filter(status__in=Delegation.OPEN_STATUSES).exists():
            raise TransitionNotAllowed(
                _("Mediation case %(number)s is already delegated and waiting for a mediator.")
                % {"number": case.number}
            )
    return _start_delegation(case, organisation=organisation, actor=actor)


@transaction.atomic
def dispatch_delegation(*, case: MediationCase, actor: User, mediator: User) -> Delegation:
    """An admin of the organisation the case is delegated to gives it to one of its
    assignable mediators, who has until `accept_by` to accept."""
    case = cases.lock_case_for_action(case, actor, "dispatch_delegation")
    delegation = _lock_open_delegation(case)
    if not policy.is_admin_of(actor, delegation.organisation):
        raise ActionForbidden(_("You may not do this in mediation case %(number)s.") % {"number": case.number})
    if delegation.status != Status.AWAITING_DISPATCH:
        raise TransitionNotAllowed(
            _("This delegation was already dispatched to %(name)s.") % {"name": delegation.dispatched_to}
        )
    refusal = roster.assignment_refusal(mediator, organisation=delegation.organisation) or cases.case_mediator_refusal(
        case, mediator
    )
    if refusal:
        raise ValidationError({"mediator": refusal})
    now = timezone.now()
    delegation.status = Status.AWAITING_ACCEPTANCE
    delegation.dispatched_to = mediator
    delegation.dispatched_by = actor
    delegation.dispatched_at = now
    delegation.accept_by = accept_by_for(now)
    delegation.save(update_fields=["status", "dispatched_to", "dispatched_by", "dispatched_at", "accept_by"])
    cases.record_case_event(
        case,
        actor=actor,
        action="dispatch_delegation",
        data={"delegation": delegation.pk, "mediator": mediator.pk, "accept_by": delegation.accept_by.isoformat()},
    )
    notify(
        recipients=[mediator],
        kind="delegation.dispatched",
        params={"number": case.number, "accept_by": format_moment(delegation.accept_by)},
        url=cases.case_url(case),
    )
    return delegation


@transaction.atomic
def accept_delegation(*, case: MediationCase, actor: User) -> MediationCase:
    """The mediator the delegation was dispatched to takes the case, by `accept_by`:
    it becomes theirs and goes to pending."""
    case = cases.lock_case_for_action(case, actor, "accept_delegation")
    delegation = _lock_open_delegation(case)
    if delegation.status != Status.AWAITING_ACCEPTANCE or delegation.dispatched_to_id != actor.pk:
        raise ActionForbidden(_("This case was not dispatched to you."))
    now = timezone.now()
    if now > delegation.accept_by:
        raise TransitionNotAllowed(
            _("The time to accept this case ended at %(accept_by)s; it goes back to the court.")
            % {"accept_by": format_moment(delegation.accept_by)},
            code="too_late",
        )
    # Their roster entry as it stands now (suspended or its term ended since dispatch).
    actor = User.objects.get(pk=actor.pk)
    refusal = roster.assignment_refusal(actor, organisation=delegation.organisation)
    if refusal:
        raise ValidationError({"mediator": refusal})
    delegation.status = Status.ACCEPTED
    delegation.accepted_at = now
    delegation.save(update_fields=["status", "accepted_at"])
    case = cases.set_case_mediator(
        case, mediator=actor, actor=actor, action="accept_delegation", data={"delegation": delegation.pk}
    )
    notify(
        recipients=list(delegation.organisation.admins.filter(is_active=True)) + _court_side(case),
        kind="delegation.accepted",
        params={"number": case.number, "name": str(actor), "organisation": delegation.organisation.name},
        url=cases.case_url(case),
    )
    return case


def _return(
    case: MediationCase,
    delegation: Delegation,
    *,
    actor: User | None,
    reason: str,
    note: str = "",
    action: str = "return_delegation",
) -> None:
    """Send the delegation back to the court (case and delegation locked): the case
    stays delegated, with no organisation, and shows the flag."""
    delegation.status = Status.RETURNED
    delegation.returned_at = timezone.now()
    delegation.return_reason = reason
    delegation.return_note = note
    delegation.save(update_fields=["status", "returned_at", "return_reason", "return_note"])
    case.organisation = None
    case.save(update_fields=["organisation", "updated_at"])
    cases.record_case_event(
        case,
        actor=actor,
        action=action,
        note=note,
        data={"delegation": delegation.pk, "organisation": delegation.organisation_id, "reason": reason},
    )
    notify(
        recipients=_court_side(case),
        kind="delegation.returned",
        params={"number": case.number, "organisation": delegation.organisation.name, "return_reason": reason},
        url=cases.case_url(case),
    )


@transaction.atomic
def decline_delegation(*, case: MediationCase, actor: User, reason: str = "") -> Delegation:
    """The mediator it was dispatched to declines it, or an admin of the organisation
    declines it before dispatching: it goes back to the court, with the reason."""
    case = cases.lock_case_for_action(case, actor, "decline_delegation")
    delegation = _lock_open_delegation(case)
    if delegation.status == Status.AWAITING_ACCEPTANCE and delegation.dispatched_to_id == actor.pk:
        code = ReturnReason.DECLINED_BY_MEDIATOR
    elif delegation.status == Status.AWAITING_DISPATCH and policy.is_admin_of(actor, delegation.organisation):
        code = ReturnReason.DECLINED_BY_ORGANISATION
    else:
        raise ActionForbidden(_("You may not decline this delegation now."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case is declined; the court reads it.")})
    _return(case, delegation, actor=actor, reason=code, note=reason.strip(), action="decline_delegation")
    return delegation


def return_overdue_delegations(now: dt.datetime | None = None) -> int:
    """Every delegation not accepted by its `accept_by` goes back to the court
    (not_accepted_in_time), each in its own transaction; the number returned.
    Idempotent: a returned one is not open any more."""
    now = now or timezone.now()
    overdue = Delegation.objects.filter(status=Status.AWAITING_ACCEPTANCE, accept_by__lt=now).values_list(
        "case_id", flat=True
    )
    returned = 0
    for case_id in list(overdue):
        with transaction.atomic():
            case = MediationCase.objects.select_for_update().get(pk=case_id)
            delegation = (
                Delegation.objects.select_for_update(of=("self",))
                .select_related("organisation")
                .filter(case=case, status=Status.AWAITING_ACCEPTANCE, accept_by__lt=now)
                .first()
            )
            if delegation is None:
                continue
            _return(case, delegation, actor=None, reason=ReturnReason.NOT_ACCEPTED_IN_TIME)
            returned += 1
    return returned


@transaction.atomic
def assign_mediator(*, case: MediationCase, actor: User, mediator: User) -> MediationCase:
    """The case's judge or the general liaison gives a delegated case a mediator
    directly (e.g. a court mediator after the delegation came back). A delegation
    still open is withdrawn; a returned one's flag comes down."""
    case = cases.lock_case_for_action(case, actor, "assign_mediator")
    now = timezone.now()
    withdrawn = []
    for delegation in Delegation.objects.select_for_update(of=("self",)).filter(
        case=case, status__in=Delegation.OPEN_STATUSES
    ):
        delegation.status = Status.WITHDRAWN
        delegation.save(update_fields=["status"])
        withdrawn.append(delegation.pk)
    cleared = _clear_flags(case, now)
    # The case's organisation becomes the mediator's (none for a court mediator):
    # `cases.set_case_mediator`.
    return cases.set_case_mediator(
        case,
        mediator=mediator,
        actor=actor,
        action="assign_mediator",
        data={"withdrawn": withdrawn, "cleared": cleared},
    )


@receiver(signals.case_status_changed)
def withdraw_open_delegation(sender, case, from_status, **kwargs):
    """A delegated case withdrawn (the applicant withdrew) takes its open delegation
    with it: nothing is left in the organisation's queue."""
    if case.status == MediationCase.Status.WITHDRAWN:
        Delegation.objects.filter(case=case, status__in=Delegation.OPEN_STATUSES).update(status=Status.WITHDRAWN)
