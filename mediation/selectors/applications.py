"""What a citizen who proved their mobile number sees of their requests at
/apply/track/: each order's number, what it is about, its state in plain words, its
deadlines, the replies sent to them and the mediation case number once referred.
Nothing else: not the clerk's notes, the timeline, or who handles it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _

from mediation.models import Application, MediationCase, WorkOrder, WorkOrderReply

# At most this many of a number's orders are listed, newest first.
MAX_TRACKED_ORDERS = 50

PLAIN_STATUS = {
    WorkOrder.Status.RECEIVED: _("Received: the court will pass it to the people who handle it."),
    WorkOrder.Status.DISPATCHED: _("Passed to the department that handles it."),
    WorkOrder.Status.RETURNED: _("Being passed to the right department."),
    WorkOrder.Status.IN_PROGRESS: _("Being handled."),
    WorkOrder.Status.REPLIED: _("You have been answered; the court is finishing the request."),
    WorkOrder.Status.AWAITING_CONFIRMATION: _("You have been answered; the court is finishing the request."),
    WorkOrder.Status.CLOSED: _("Finished."),
    WorkOrder.Status.REOPENED: _("Opened again and being handled."),
}
IN_MEDIATION = _("In mediation: a mediator will contact you.")


@dataclass(frozen=True)
class TrackedOrder:
    number: str
    category: str
    received_at: dt.datetime
    state: str  # the order's status code
    status: str  # in plain words
    in_mediation: bool
    case_numbers: list[str]
    contact_due: dt.datetime | None
    completion_due: dt.datetime | None
    replies: list[WorkOrderReply]


def _tracked(order: WorkOrder) -> TrackedOrder:
    cases = list(order.mediation_cases.all())
    # While a case opened from the order is open, that is what the requester waits for,
    # whatever the order's own state (a reply to them ends the order's pause).
    in_mediation = any(case.status in MediationCase.OPEN_STATUSES for case in cases)
    return TrackedOrder(
        number=order.number,
        category=order.get_category_display(),
        received_at=order.received_at,
        state=order.status,
        status=str(IN_MEDIATION if in_mediation else PLAIN_STATUS[order.status]),
        in_mediation=in_mediation,
        case_numbers=[case.number for case in cases],
        contact_due=order.first_contact_due if order.first_contact_clock_running else None,
        completion_due=order.completion_due if order.completion_clock_running else None,
        # The court's replies only on requests whose number its requester proved (an
        # application): a number a clerk typed in may be mistyped, and whoever holds it
        # then sees the state of the request, never what the court answered.
        replies=list(order.replies.all()) if order.number_proved else [],
    )


def _orders_of_phone(phone_e164: str):
    return (
        WorkOrder.objects.filter(requester_phone=phone_e164)
        .annotate(number_proved=Exists(Application.objects.filter(work_order=OuterRef("pk"))))
        .only(
            "number",
            "category",
            "status",
            "received_at",
            "first_contact_due",
            "first_contacted_at",
            "completion_due",
            "paused_at",
            "pause_reason_code",
        )
        .prefetch_related(
            Prefetch("replies", queryset=WorkOrderReply.objects.only("order_id", "content", "channel", "replied_at")),
            Prefetch("mediation_cases", queryset=MediationCase.objects.only("work_order_id", "number", "status")),
        )
    )


def orders_of_phone(phone_e164: str) -> list[TrackedOrder]:
    """The orders whose requester's number is `phone_e164` (proved by the caller),
    newest first."""
    orders = _orders_of_phone(phone_e164).order_by("-received_at", "-id")[:MAX_TRACKED_ORDERS]
    return [_tracked(order) for order in orders]


def order_of_phone(phone_e164: str, number: str) -> TrackedOrder | None:
    """Order `number` if its requester's number is `phone_e164` (proved by the
    caller), else None: the same answer whether the order does not exist or is
    someone else's."""
    order = _orders_of_phone(phone_e164).filter(number=number[:32]).first()
    return _tracked(order) if order is not None else None
