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
    """The list of mediation cases: mediators, judges and the general liaison."""
    return bool(
        user.is_authenticated and (user.is_superuser or is_mediator(user) or is_judge(user) or is_general_liaison(user))
    )


# -- supervision: case supervision notices (督办) and recusal (申请回避) ------------------


@rules.predicate
def heads_department_of_case(user, case):
    """A department head of the department of the case's judge or mediator."""
    if not (user.is_authenticated and user.department_id and is_department_head(user)):
        return False
    departments = {person.department_id for person in (case.judge, case.mediator) if person is not None}
    return user.department_id in departments


@rules.predicate
def acts_for_a_party(user, case):
    """An active participant who acts for their party (the party in person, a legal
    representative, a guardian, an agent): not an interpreter or a helper."""
    from mediation.models.cases import SIGNS_NOTHING
    from mediation.participation import active_participation

    participation = active_participation(user, case)
    return participation is not None and participation.role not in SIGNS_NOTHING


@rules.predicate
def case_has_no_judge(user, case):
    return case.judge_id is None


case_rules.add_rule("supervise", is_case_judge | is_general_liaison | heads_department_of_case)
case_rules.add_rule("answer_supervision", is_case_mediator)
case_rules.add_rule("request_recusal", acts_for_a_party)
# The case's judge decides; the general liaison only where the case has no judge.
case_rules.add_rule("decide_recusal", is_case_judge | (is_general_liaison & case_has_no_judge))
