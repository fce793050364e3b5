"""The delegation's actions on a case page (mediation.services.delegation): the
organisation's admin dispatches; the mediator it is dispatched to accepts or
declines (the admin may decline before dispatching); the court delegates again or
assigns a mediator directly once a delegation came back."""

from django.utils.translation import gettext, gettext_lazy

from mediation.actions import Action
from mediation.actions.cases import CASE_ACTIONS
from mediation.forms import NoteForm
from mediation.forms_delegation import (
    AssignMediatorForm,
    DeclineDelegationForm,
    DelegateAgainForm,
    DispatchDelegationForm,
    recommendation_notice,
)
from mediation.models import Delegation
from mediation.services import delegation as services


def _of_case(case) -> dict:
    return {"case": case}


def _open(case) -> Delegation | None:
    return services.open_delegation_of(case)


def _accept_by_notice(case) -> str:
    delegation = _open(case)
    if delegation is None or delegation.accept_by is None:
        return ""
    return gettext("Delegated to you by %(organisation)s: accept or decline by %(accept_by)s.") % {
        "organisation": delegation.organisation,
        "accept_by": services.format_moment(delegation.accept_by),
    }


def _dispatch_notice(case) -> str:
    form = DispatchDelegationForm(case=case)
    return recommendation_notice(form.recommendations, case.cause_of_action)


CASE_ACTIONS.register(
    Action(
        name="dispatch_delegation",
        label=gettext_lazy("Dispatch to a mediator"),
        form_class=DispatchDelegationForm,
        perform=lambda case, actor, data: services.dispatch_delegation(
            case=case, actor=actor, mediator=data["mediator"]
        ),
        rule="dispatch_delegation",
        form_kwargs=_of_case,
        notice=_dispatch_notice,
        needs=lambda case: case.delegations.filter(status=Delegation.Status.AWAITING_DISPATCH).exists(),
    ),
    Action(
        name="accept_delegation",
        label=gettext_lazy("Accept the case"),
        form_class=NoteForm,
        perform=lambda case, actor, data: services.accept_delegation(case=case, actor=actor),
        rule="accept_delegation",
        notice=_accept_by_notice,
    ),
    Action(
        name="decline_delegation",
        label=gettext_lazy("Decline the case"),
        form_class=DeclineDelegationForm,
        perform=lambda case, actor, data: services.decline_delegation(case=case, actor=actor, reason=data["reason"]),
        rule="decline_delegation",
        confirm=gettext_lazy("The case goes back to the court. Continue?"),
    ),
    Action(
        name="delegate",
        label=gettext_lazy("Delegate to a mediation organisation"),
        form_class=DelegateAgainForm,
        perform=lambda case, actor, data: services.delegate_case(
            case=case, actor=actor, organisation=data["organisation"]
        ),
        rule="delegate",
        form_kwargs=_of_case,
        needs=lambda case: _open(case) is None,
    ),
    Action(
        name="assign_mediator",
        label=gettext_lazy("Assign a mediator"),
        form_class=AssignMediatorForm,
        perform=lambda case, actor, data: services.assign_mediator(case=case, actor=actor, mediator=data["mediator"]),
        rule="assign_mediator",
        form_kwargs=_of_case,
    ),
)
