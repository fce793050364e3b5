"""What happens in a case, for the apps built on mediation (rooms, documents) to act
on without mediation importing them. All are sent inside the service's transaction, so
a receiver's writes commit or roll back with the change that caused them."""

from django.dispatch import Signal

# case
case_opened = Signal()
# case, from_status
case_status_changed = Signal()
# participant
participant_joined = Signal()
# participant
participant_removed = Signal()
# The case's mediator changed (delegation accepted, direct assignment, recusal
# granted): case, previous (a User or None), mediator. Rooms cut the previous
# mediator's sockets.
case_mediator_changed = Signal()
# A case was delegated to an organisation (委派调解), at referral or again after a
# return: case, delegation, actor. Documents makes the sealed letter of delegation.
case_delegated = Signal()
# session
session_started = Signal()
# session
session_ended = Signal()
# case. Asked, not told: a receiver returns why the case's parties can no longer be
# corrected or removed (a locked or signed agreement is their record), or None.
parties_frozen = Signal()
# order. Asked: a receiver returns, for each settled case of the order, how its agreement
# stands after the seal ({"summary": codes and counts, "text": the line in the active
# language}), as a list.
order_performance = Signal()
# year_from, year_to, department_id (None for the whole court). Asked: a receiver returns
# the figures after the seal (judicial confirmation, performance) for those years.
after_seal_figures = Signal()


def answers(signal: Signal, **kwargs) -> list:
    """What the receivers of an asked signal answered, leaving out those that said None."""
    return [answer for _receiver, answer in signal.send(sender=None, **kwargs) if answer is not None]
