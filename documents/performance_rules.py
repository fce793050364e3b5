"""Who may act on an obligation (履行), one rule for the services, the pages and the API.

The obligor's side reports it performed; the obligee's side confirms or disputes the
report; the case's mediator urges performance. "A side" is the people who take part
in the case for that party (an active Participant row): a party's rights on the
platform come from that row only.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from documents.models import Obligation
from mediation.errors import ActionForbidden
from mediation.models import Participant, Party, User
from mediation.participation import acting_refusal

ACTIONS = ("report_performed", "confirm", "dispute", "urge")


def represents(user: User, party_id: int) -> bool:
    """Whether `user` takes part in the case for this party now and may act for it: an
    interpreter or a helper takes part beside the party and reports, confirms and
    disputes nothing (`mediation.participation.acting_refusal`)."""
    return any(
        acting_refusal(participant) is None
        for participant in Participant.active.filter(user=user, party_id=party_id).select_related("party")
    )


def obligation_refusal(user: User, obligation: Obligation, action: str) -> ActionForbidden | None:
    """Why `user` may not take `action` on `obligation`, or None when they may (the
    state is checked apart: `Obligation.allows`)."""
    if action == "report_performed":
        refusal = _beside_the_party(user, obligation)
        if refusal is not None:
            return refusal
        if not represents(user, obligation.obligor_id):
            return ActionForbidden(_("Only the side that owes it can report it performed."))
        return None
    if action in ("confirm", "dispute"):
        refusal = _beside_the_party(user, obligation)
        if refusal is not None:
            return refusal
        if represents(user, obligation.obligee_id):
            return None
        if represents(user, obligation.obligor_id):
            if action == "confirm":
                return ActionForbidden(_("You cannot confirm your own payment."))
            return ActionForbidden(_("You cannot dispute your own report."))
        return ActionForbidden(_("Only the side it is owed to can confirm or dispute the report."))
    if action == "urge":
        if obligation.case.mediator_id != user.pk:
            return ActionForbidden(_("Only the case's mediator can urge performance."))
        return None
    return ActionForbidden(_("Unknown action."))


def _beside_the_party(user: User, obligation: Obligation) -> ActionForbidden | None:
    """An interpreter's or a helper's refusal, in their own words, when they take part
    for the obligor or the obligee; None otherwise."""
    participant = (
        Participant.active.filter(user=user, party_id__in=[obligation.obligor_id, obligation.obligee_id])
        .select_related("party")
        .first()
    )
    return acting_refusal(participant) if participant is not None else None


def available_actions(user: User, obligation: Obligation) -> list[str]:
    """The actions `user` may take on `obligation` now: allowed by its state and theirs
    by the rule above. What the pages offer and the to-do list asks for."""
    return [
        action
        for action in ACTIONS
        if obligation.allows(action) and obligation_refusal(user, obligation, action) is None
    ]


def acting_party(user: User, obligation: Obligation, action: str) -> Party | None:
    """The party `user` acts for in `action` (None for the mediator)."""
    if action == "report_performed":
        return obligation.obligor
    if action in ("confirm", "dispute"):
        return obligation.obligee
    return None
