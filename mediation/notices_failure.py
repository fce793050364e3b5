"""The notices of a failed mediation (调解不成) to whoever handles the originating work
order, which goes back to them (mediation.services.cases._return_failed_case_to_handler)."""

from django.utils.translation import gettext_lazy as _

from mediation.notifications import register_kind

register_kind(
    "case.failed.answer_requester",
    _(
        "Work order %(number)s is back with you: mediation case %(case)s failed. The filing package for the "
        "case-filing division is on the order. The platform has not told the requester: call %(requester)s on "
        "%(phone)s, then record your answer on the order."
    ),
    topic="cases",
)
register_kind(
    "case.failed.back_to_handler",
    _(
        "Work order %(number)s is back with you: mediation case %(case)s failed. The filing package for the "
        "case-filing division is on the order; report the order's result."
    ),
    topic="cases",
)
