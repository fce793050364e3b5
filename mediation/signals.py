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
# session
session_started = Signal()
# session
session_ended = Signal()
# case. Asked, not told: a receiver returns why the case's parties can no longer be
# corrected or removed (a locked or signed agreement is their record), or None.
parties_frozen = Signal()
