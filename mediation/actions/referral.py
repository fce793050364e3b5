"""The work order's "refer to mediation" action, in both its ways: a mediator
directly (services.cases.refer_to_mediation) or delegation to an organisation
(services.delegation.delegate_case). Its form (forms_delegation.ReferralForm) ranks
the assignable mediators for the cause of action and preselects the applicant's
choice."""

from mediation.forms_delegation import ReferralForm
from mediation.services import cases, delegation


def refer(order, actor, data):
    common = {
        "cause_of_action": data["cause_of_action"],
        "claim_amount": data["claim_amount"],
        "facts": data["facts"],
    }
    if data.get("how") == "delegate":
        return delegation.delegate_case(order=order, actor=actor, organisation=data["organisation"], **common).case
    return cases.refer_to_mediation(order=order, actor=actor, mediator=data["mediator"], **common)


def referral_form_kwargs(order) -> dict:
    return {"order": order}


def referral_notice(order) -> str:
    """The recommendations, shown with the form (before anything is typed: ranked by
    open cases only)."""
    return ReferralForm(order=order).notice


__all__ = ["ReferralForm", "refer", "referral_form_kwargs", "referral_notice"]
