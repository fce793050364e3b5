"""The webhook events of mediation cases (`case.referred`, `case.settled`,
`case.failed`), queued in the transaction of the change like `work_order.closed`
(mediation.services.webhooks). The payload names the case by its ids, numbers,
status and dates: no party, no person, no note (docs/api.md)."""

from __future__ import annotations

from mediation.models import MediationCase
from mediation.services import webhooks


def _moment(value) -> str | None:
    return value.isoformat() if value else None


def case_payload(case: MediationCase) -> dict:
    order = case.work_order
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "cause_of_action": case.cause_of_action,
        "work_order": (
            {"number": order.number, "external_source": order.external_source, "external_id": order.external_id}
            if order is not None
            else None
        ),
        "organisation_id": case.organisation_id,
        "started_on": case.started_on.isoformat(),
        "deadline": case.deadline.isoformat(),
        "accepted_at": _moment(case.accepted_at),
        "concluded_at": _moment(case.concluded_at),
    }


# The case's outcome (the action that concluded it) -> the event that tells it.
OUTCOME_EVENTS = {"settle": "case.settled", "fail": "case.failed"}


def case_referred(case: MediationCase) -> None:
    """A work order was referred to mediation: the case now exists (delegated to an
    organisation, or with its mediator)."""
    webhooks.queue_event("case.referred", case_payload(case))


def case_concluded(case: MediationCase, action: str) -> None:
    event = OUTCOME_EVENTS.get(action)
    if event is not None:
        webhooks.queue_event(event, case_payload(case))
