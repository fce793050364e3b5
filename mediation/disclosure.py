"""Who sees a person's phone number and resident ID number whole (PIPL: personal data
shown only to whoever needs it for the work). Everyone else sees them masked
(`phones.mask`: 138****1234, `id_numbers.mask`: 110***********1234). One rule per
fact, which every page, export, API answer and message asks:

- a resident ID number: the case's mediator and judge, and the general liaison (who
  triages and refers every order); on a work order, the mediator and judge of a case
  opened from it. Nobody else, not even the person's own side: a party knows their
  own number, and an agent does not need it.
- a phone number: whoever may see the ID number, and besides
  - on a work order, its handlers (the assignee, the department's liaison and head),
    who call the requester back;
  - in a case, the people who take part for the same party (the party in person,
    their agent, their legal representative): their own side's number.
  Other parties, agents of the other side, staff outside the case or the order, other
  departments, the operator's account and integrations see it masked.

The signed settlement agreement shows the parties' ID numbers whole: it is the court's
document, identifying the parties as the court's practice requires, and it is given
to the parties and the court only (documents.agreement_rendering).
"""

from __future__ import annotations

from mediation import id_numbers, phones
from mediation.models import MediationCase, Party, WorkOrder
from mediation.policy import handles_case_of_order, is_general_liaison, is_handler


def may_see_whole_id_number(user, *, case: MediationCase | None = None, order: WorkOrder | None = None) -> bool:
    """Whether `user` may read a resident ID number of `case` (a party's) or of
    `order` (its requester's) in full."""
    if user is None or not user.is_authenticated:
        return False
    if is_general_liaison(user):
        return True
    if case is not None:
        return user.pk in (case.mediator_id, case.judge_id)
    if order is not None:
        return handles_case_of_order(user, order)
    return False


def may_see_whole_phone(
    user,
    *,
    case: MediationCase | None = None,
    order: WorkOrder | None = None,
    party: Party | None = None,
) -> bool:
    """Whether `user` may read a phone number in full: a party's of `case` (say which
    `party` when it is one), or the requester's of `order`."""
    if may_see_whole_id_number(user, case=case, order=order):
        return True
    if user is None or not user.is_authenticated:
        return False
    if order is not None and is_handler(user, order):
        return True
    if case is not None and party is not None:
        from mediation.participation import active_participation

        participant = active_participation(user, case)
        return participant is not None and participant.party_id == party.pk
    return False


def shown_phone(value, user, *, case=None, order=None, party=None) -> str:
    """A phone number as `user` may read it: whole (`phones.display`) or masked."""
    if not value:
        return ""
    if may_see_whole_phone(user, case=case, order=order, party=party):
        return phones.display(value)
    return phones.mask(value)


def shown_id_number(value, user, *, case=None, order=None) -> str:
    """A resident ID number as `user` may read it: whole or masked."""
    if not value:
        return ""
    if may_see_whole_id_number(user, case=case, order=order):
        return id_numbers.normalise(value)
    return id_numbers.mask(value)
