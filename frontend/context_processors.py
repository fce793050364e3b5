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
            "intake": policy.can(user, "receive"),
            # The judicial confirmation queue (documents.services.confirmation_court.may_see_queue).
            "confirmations": has_role(user, Role.JUDGE) or has_role(user, Role.DEPARTMENT_HEAD),
            "admin": user.is_staff,
            # The roster's management pages (general liaison, organisation admins).
            "organisations": policy.can_on_roster(user, "see_organisations"),
        },
        "unread_notifications": unread_count(user),
    }
