from mediation import policy
from mediation.models import Participant
from mediation.notifications import unread_count
from mediation.roles import Role, has_role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "desk": policy.can_see_desk(user),
            "my_orders": has_role(user, Role.JUDGE) or has_role(user, Role.DEPARTMENT_LIAISON),
            "figures": policy.can_see_figures(user),
            "cases": policy.can_see_cases(user),
            "my_cases": Participant.active.filter(user=user).exists(),
            # A mediator's own load and outcomes (mediation.views.case_figures).
            "my_mediation": policy.is_mediator(user),
            "intake": policy.can(user, "receive"),
            # The judicial confirmation queue (documents.services.confirmation_court.may_see_queue).
            "confirmations": has_role(user, Role.JUDGE) or has_role(user, Role.DEPARTMENT_HEAD),
            # An organisation admin's queue of delegated cases (mediation.views.delegation).
            "delegations": policy.can_see_delegation_queue(user),
            "admin": user.is_staff,
            # The roster's management pages (general liaison, organisation admins).
            "organisations": policy.can_on_roster(user, "see_organisations"),
        },
        "unread_notifications": unread_count(user),
    }


def large_type(request):
    """`large_type` for every page: the base template's body class and the plain
    wording of the party's pages (mediation.views.large_type)."""
    from mediation.views.large_type import large_type_on

    return {"large_type": large_type_on(request)}
