"""Who may do what to a work order. One readable table of rules; services ask it
before changing anything, pages ask it to show only the actions a user may take.

Superusers may read everything but act only through the roles they hold: the
operator's account is not a liaison's.
"""

import rules
from django.db.models import Q

from mediation.roles import API_CLIENT_GROUP, Role, has_role


@rules.predicate
def is_superuser(user):
    return user.is_authenticated and user.is_superuser


@rules.predicate
def is_general_liaison(user):
    return has_role(user, Role.GENERAL_LIAISON)


@rules.predicate
def is_department_liaison(user):
    return has_role(user, Role.DEPARTMENT_LIAISON)


@rules.predicate
def is_department_head(user):
    return has_role(user, Role.DEPARTMENT_HEAD)


@rules.predicate
def is_judge(user):
    return has_role(user, Role.JUDGE)


@rules.predicate
def is_api_client(user):
    return has_role(user, API_CLIENT_GROUP)


@rules.predicate
def is_in_order_department(user, order):
    return user.is_authenticated and order.department_id is not None and user.department_id == order.department_id


@rules.predicate
def is_assignee(user, order):
    return user.is_authenticated and order.assignee_id == user.pk


@rules.predicate
def is_mediator(user):
    return has_role(user, Role.MEDIATOR)


@rules.predicate
def handles_case_of_order(user, order):
    """The mediator or judge of a mediation case opened from this order."""
    if not user.is_authenticated:
        return False
    return order.mediation_cases.filter(Q(mediator=user) | Q(judge=user)).exists()


@rules.predicate
def is_case_mediator(user, case):
    return user.is_authenticated and case.mediator_id == user.pk


@rules.predicate
def is_case_judge(user, case):
    return user.is_authenticated and case.judge_id == user.pk


@rules.predicate
def judges_confirmation_of(user, case):
    """A judge a department head assigned an application for judicial confirmation of
    the case to (documents app): they review the case as its judge does."""
    return user.is_authenticated and case.confirmations.filter(judge=user).exists()


@rules.predicate
def is_reviewing_judge(user, case):
    """The judge reviewing the case's accepted application for judicial confirmation."""
    return user.is_authenticated and case.confirmations.filter(status="accepted", judge=user).exists()


@rules.predicate
def is_case_participant(user, case):
    from mediation.participation import active_participation

    return active_participation(user, case) is not None


is_department_manager = is_in_order_department & (is_department_liaison | is_department_head)
is_handler = is_assignee | is_department_manager
is_liaison = is_general_liaison | (is_department_liaison & is_in_order_department)

work_order_rules = rules.RuleSet()
work_order_rules.add_rule(
    "view",
    is_superuser | is_general_liaison | is_department_manager | is_assignee | is_api_client,
)
work_order_rules.add_rule("receive", is_general_liaison | is_api_client)
work_order_rules.add_rule("dispatch", is_general_liaison)
work_order_rules.add_rule("assign", is_general_liaison | is_department_manager)
work_order_rules.add_rule("return", is_handler)
work_order_rules.add_rule("start", is_handler)
work_order_rules.add_rule("record_contact", is_handler)
work_order_rules.add_rule("pause", is_handler)
work_order_rules.add_rule("resume", is_handler)
work_order_rules.add_rule("reply", is_handler)
work_order_rules.add_rule("submit", is_handler)
work_order_rules.add_rule("close", is_general_liaison)
work_order_rules.add_rule("supervise", is_liaison)
work_order_rules.add_rule("answer_supervision", is_handler)
work_order_rules.add_rule("return_visit", is_liaison & ~is_assignee)
work_order_rules.add_rule("reopen", is_liaison & ~is_assignee)
work_order_rules.add_rule("refer_to_mediation", is_general_liaison | (is_assignee & is_judge))
work_order_rules.add_rule("record_mediation_outcome", is_general_liaison | handles_case_of_order)

case_rules = rules.RuleSet()
case_rules.add_rule(
    "view",
    is_superuser | is_general_liaison | is_case_mediator | is_case_judge | judges_confirmation_of | is_case_participant,
)
case_rules.add_rule("open", is_mediator)
# The mediator runs the case: invitations, parties, sessions, participants, outcome.
for action in (
    "manage",
    "invite",
    "add_party",
    "edit_party",
    "remove_party",
    "schedule",
    "remove_participant",
    "start",
    "settle",
    "fail",
    "withdraw",
    "resume",
):
    case_rules.add_rule(action, is_case_mediator)
case_rules.add_rule("schedule_review", is_reviewing_judge)
# A deadline extension is approved by the case's judge or the general liaison.
case_rules.add_rule("extend", is_case_judge | is_general_liaison)
case_rules.add_rule("transfer_to_filing", is_case_judge | is_general_liaison | is_case_mediator)


def can_on_case(user, action: str, case=None) -> bool:
    return case_rules.test_rule(action, user, case)


def can(user, action: str, order=None) -> bool:
    return work_order_rules.test_rule(action, user, order)


def can_see_desk(user) -> bool:
    return bool(
        user.is_authenticated
        and (
            user.is_superuser
            or is_general_liaison(user)
            or is_department_liaison(user)
            or is_department_head(user)
            or is_judge(user)
        )
    )


def can_see_figures(user) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or is_general_liaison(user) or is_department_liaison(user) or is_department_head(user))
    )


def figures_department(user) -> int | None:
    """The department whose figures a user sees: their own for department staff, the
    whole court (None) for the general liaison, the operator and integrations."""
    if user.is_superuser or is_general_liaison(user) or is_api_client(user):
        return None
    # Department staff without a department see nothing (no department has id -1).
    return user.department_id or -1


def can_see_cases(user) -> bool:
    """The list of mediation cases: mediators, judges, the general liaison, department
    heads (their department's cases) and the administrators of mediation organisations
    (their organisations' cases)."""
    return bool(
        user.is_authenticated
        and (
            user.is_superuser
            or is_mediator(user)
            or is_judge(user)
            or is_general_liaison(user)
            or is_department_head(user)
            or is_organisation_admin(user)
        )
    )


# participants (issue 20): who may act for a party: sign, apply, ask (a recusal, an
# extension, ...). An interpreter or a helper takes part beside their party and may
# not; a guardian acts for the natural person they represent
# (mediation.participation.acting_refusal).
@rules.predicate
def acts_for_a_party(user, case):
    from mediation.participation import acting_participation

    return acting_participation(user, case) is not None


# Acts done in person (part "offline", documents.services.in_person): the case's
# mediator records them as witness; a second member of court staff confirms them: the
# case's judge or the general liaison, never the mediator and never someone who takes
# part in the case for a party.
case_rules.add_rule("record_in_person", is_case_mediator)
# The mediation record of a session (documents.MediationRecord): the case's mediator writes it.
case_rules.add_rule("write_record", is_case_mediator)
case_rules.add_rule(
    "confirm_in_person", (is_case_judge | is_general_liaison) & ~is_case_mediator & ~is_case_participant
)


# -- figures: a mediator's page (issue 20, part "figures") ---------------------------------


def can_see_mediator_figures(user, mediator) -> bool:
    """A mediator's load and outcomes: the mediator themself, and the staff who see the
    figures page (department staff: the mediators of their own department)."""
    if not user.is_authenticated:
        return False
    if user.pk == mediator.pk:
        return True
    if not can_see_figures(user):
        return False
    department_id = figures_department(user)
    return department_id is None or mediator.department_id == department_id


# --- caselist: an organisation's administrators see its cases (the case list and the
# case page), as selectors.cases.visible_cases does in SQL.


# --- roster (issue 20): organisations, appointments, mediators' profiles ---------


@rules.predicate
def is_organisation_admin(user):
    return has_role(user, Role.ORGANISATION_ADMIN)


# Delegation to a mediation organisation (委派调解; part "delegation") -------------------------
# An organisation's admin is in the organisation_admin group AND among its `admins`;
# the group alone gives nothing. They and the mediator a delegation is dispatched to
# see the case (its page, not its rooms: they are in none); the court side (the case's
# judge, the general liaison) delegates, assigns and reads every letter.


def is_admin_of(user, organisation) -> bool:
    return bool(
        user.is_authenticated
        and organisation is not None
        and has_role(user, Role.ORGANISATION_ADMIN)
        and organisation.admins.filter(pk=user.pk).exists()
    )


@rules.predicate
def is_case_organisation_admin(user, case):
    """An admin of the organisation that mediates the case (delegated to it, or whose
    mediator accepted it)."""
    return case is not None and case.organisation_id is not None and is_admin_of(user, case.organisation)


@rules.predicate
def is_delegation_admin(user, case):
    """An admin of the organisation the case's open delegation is with."""
    if case is None or not user.is_authenticated or not has_role(user, Role.ORGANISATION_ADMIN):
        return False
    return case.delegations.filter(
        status__in=("awaiting_dispatch", "awaiting_acceptance"), organisation__admins=user
    ).exists()


@rules.predicate
def is_undispatched_delegation_admin(user, case):
    """An admin of the organisation the case's delegation waits with, not dispatched yet."""
    if case is None or not user.is_authenticated or not has_role(user, Role.ORGANISATION_ADMIN):
        return False
    return case.delegations.filter(status="awaiting_dispatch", organisation__admins=user).exists()


@rules.predicate
def is_dispatched_mediator(user, case):
    """The mediator the case's open delegation is dispatched to, until they accept or
    it returns."""
    if case is None or not user.is_authenticated:
        return False
    return case.delegations.filter(status="awaiting_acceptance", dispatched_to=user).exists()


case_rules.set_rule(
    "view",
    is_superuser
    | is_general_liaison
    | is_case_mediator
    | is_case_judge
    | judges_confirmation_of
    | is_case_participant
    | is_case_organisation_admin
    | is_dispatched_mediator,
)
case_rules.add_rule("delegate", is_case_judge | is_general_liaison)
case_rules.add_rule("assign_mediator", is_case_judge | is_general_liaison)
case_rules.add_rule("dispatch_delegation", is_delegation_admin)
case_rules.add_rule("accept_delegation", is_dispatched_mediator)
# The mediator it is dispatched to; the organisation's admin before dispatching.
case_rules.add_rule("decline_delegation", is_dispatched_mediator | is_undispatched_delegation_admin)


def can_read_delegation_letter(user, delegation) -> bool:
    """The letter of delegation: the court side (the case's judge, the general
    liaison), the organisation's admins, and the mediator it was dispatched to (who
    keeps it once they accepted, while the case is theirs: not once a recusal gave it
    to another mediator)."""
    if not user.is_authenticated:
        return False
    case = delegation.case
    return bool(
        user.is_superuser
        or is_general_liaison(user)
        or case.judge_id == user.pk
        or is_admin_of(user, delegation.organisation)
        or (
            delegation.dispatched_to_id == user.pk
            and (
                delegation.status == "awaiting_acceptance"
                or (delegation.status == "accepted" and case.mediator_id == user.pk)
            )
        )
    )


def can_see_delegation_queue(user) -> bool:
    return bool(user.is_authenticated and has_role(user, Role.ORGANISATION_ADMIN))


@rules.predicate
def administers_organisation(user, organisation):
    """An organisation admin of this organisation: in the group AND among its admins."""
    return organisation is not None and is_organisation_admin(user) and organisation.admins.filter(pk=user.pk).exists()


@rules.predicate
def administers_profile(user, profile):
    return profile is not None and administers_organisation(user, profile.organisation)


roster_rules = rules.RuleSet()
# The list of organisations (the general liaison and the operator see all, an admin
# their own).
roster_rules.add_rule("see_organisations", is_superuser | is_general_liaison | is_organisation_admin)
roster_rules.add_rule("view_organisation", is_superuser | is_general_liaison | administers_organisation)
# Organisations and appointments (term, status) are the court's decisions.
roster_rules.add_rule("manage_organisations", is_general_liaison)
roster_rules.add_rule("appoint", is_general_liaison)
# A mediator's public profile: the court, or the admins of the mediator's organisation.
roster_rules.add_rule("edit_profile", is_general_liaison | administers_profile)


def can_on_roster(user, action: str, target=None) -> bool:
    return roster_rules.test_rule(action, user, target)


# When mediation fails (failure part) ------------------------------------------------------


@rules.predicate
def handles_order_of_case(user, case):
    """Who may see the work order the case came from (its handler, its department's
    liaison and head, the general liaison): the order's timeline links to the case's
    filing package."""
    return bool(case is not None and case.work_order_id and can(user, "view", case.work_order))


# The filing package of a failed case (the record, the undisputed facts, the claims,
# the evidence, the complaint, the service records and addresses) is for the court: the
# case's mediator and judge, the general liaison, and whoever handles the originating
# order. Never a party's people, even should one of them hold another role.
case_rules.add_rule(
    "read_filing_package",
    ~is_case_participant
    & (is_superuser | is_general_liaison | is_case_mediator | is_case_judge | handles_order_of_case),
)


# A delegated case has no mediator yet: the court side that delegated it (the case's
# judge, the general liaison) records the applicant's withdrawal meanwhile.
@rules.predicate
def has_no_mediator(user, case):
    return case is not None and case.mediator_id is None


case_rules.set_rule("withdraw", is_case_mediator | (has_no_mediator & (is_case_judge | is_general_liaison)))


# -- supervision: case supervision notices (督办) and recusal (申请回避) ------------------


@rules.predicate
def heads_department_of_case(user, case):
    """A department head of the department of the case's judge or mediator."""
    if not (user.is_authenticated and user.department_id and is_department_head(user)):
        return False
    departments = {person.department_id for person in (case.judge, case.mediator) if person is not None}
    return user.department_id in departments


@rules.predicate
def case_has_no_judge(user, case):
    return case.judge_id is None


case_rules.add_rule("supervise", is_case_judge | is_general_liaison | heads_department_of_case)
case_rules.add_rule("answer_supervision", is_case_mediator)
case_rules.add_rule("request_recusal", acts_for_a_party)
# The case's judge decides; the general liaison only where the case has no judge.
case_rules.add_rule("decide_recusal", is_case_judge | (is_general_liaison & case_has_no_judge))


# A department head reads the cases they may supervise (selectors.cases.visible_cases
# states the same in SQL).
case_rules.set_rule("view", case_rules["view"] | heads_department_of_case)
