"""Reads behind the desk pages and the API."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from mediation import phones, policy
from mediation.models import MediationCase, Notification, SupervisionNotice, User, WorkOrder
from mediation.roles import API_CLIENT_GROUP, Role, has_role
from mediation.services.work_orders import normalise_case_number

WORK_ORDER_NUMBER_PATTERN = re.compile(r"^[A-Za-z]{1,8}-\d{4}-\d{1,9}$")
# A trigram index needs three characters to narrow a search.
PARTIAL_MIN_CHARACTERS = 3


def visible_work_orders(user: User) -> QuerySet[WorkOrder]:
    """The orders a user may open: the whole desk for the general liaison (and for
    reading, the operator and integration systems), their department's orders for its
    liaison and head, their own for a judge. Mirrors the `view` rule in policy."""
    orders = WorkOrder.objects.all()
    if not user.is_authenticated:
        return orders.none()
    if user.is_superuser or has_role(user, Role.GENERAL_LIAISON) or has_role(user, API_CLIENT_GROUP):
        return orders
    handles_its_case = MediationCase.objects.filter(work_order=OuterRef("pk")).filter(Q(mediator=user) | Q(judge=user))
    visible = Q(assignee=user) | Q(Exists(handles_its_case))
    if user.department_id and (has_role(user, Role.DEPARTMENT_LIAISON) or has_role(user, Role.DEPARTMENT_HEAD)):
        visible |= Q(department_id=user.department_id)
    return orders.filter(visible)


def overdue_condition(now: dt.datetime) -> Q:
    """A running clock past its deadline. The status test stands on its own at the top
    so that PostgreSQL matches it to the partial index of running orders
    (wo_running_received_idx) and answers from that index alone."""
    running = Q(status__in=WorkOrder.CLOCK_RUNNING_STATUSES)
    completion_late = Q(paused_at__isnull=True, completion_due__lt=now)
    first_contact_late = Q(first_contacted_at__isnull=True, first_contact_due__lt=now)
    return running & (completion_late | first_contact_late)


def queue_condition(queue: str, now: dt.datetime) -> Q:
    """The desk's queues (its tabs): what waits for the general liaison."""
    Status = WorkOrder.Status
    conditions = {
        # New and returned orders wait to be dispatched (again).
        "to_dispatch": lambda: Q(status__in=[Status.RECEIVED, Status.RETURNED]),
        # Reported results wait to be confirmed.
        "to_confirm": lambda: Q(status=Status.AWAITING_CONFIRMATION),
        "overdue": lambda: overdue_condition(now),
        "visit_due": lambda: Q(status=Status.CLOSED, return_visited_at__isnull=True),
    }
    return conditions[queue]()


QUEUES = ("to_dispatch", "to_confirm", "overdue", "visit_due")


def with_supervision(orders: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """Mark the orders with an open supervision notice (`under_supervision`)."""
    open_notice = SupervisionNotice.objects.filter(order=OuterRef("pk"), responded_at__isnull=True)
    return orders.annotate(under_supervision=Exists(open_notice))


@dataclass
class DeskFilters:
    queue: str = ""
    include_closed: bool = False
    status: str = ""
    overdue: bool = False
    visit_due: bool = False
    category: str = ""
    channel: str = ""
    department: int | None = None
    assignee: int | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    query: str = ""


def search_condition(query: str) -> Q:
    """One box for number, phone, case number or name; the shape of the text decides
    which index is used.

    - a whole order number: that order (the unique index);
    - a whole phone number however typed ("138 1234 5678", "+86 138..."): its E.164
      form (wo_phone_idx);
    - a name (no digits): the name, in part (the name's trigram index);
    - otherwise part of an order, case or phone number, at least
      `phones.MIN_PARTIAL_DIGITS` digits, or 3 characters with a letter ("民初12"):
      read from the trigram indexes of the 0010 migration. Shorter fragments match
      whole numbers only."""
    text = query.strip()
    if WORK_ORDER_NUMBER_PATTERN.match(text):
        return Q(number=text.upper())
    phone = phones.parse(text) if phones.PHONE_LIKE.match(text) else None
    if phone is not None:
        return Q(requester_phone=phone.as_e164)
    if not any(ch.isdigit() for ch in text):
        return Q(requester_name__icontains=text)
    case_number = normalise_case_number(text)
    digits_only = phones.PHONE_LIKE.match(text) is not None
    if len(text) < PARTIAL_MIN_CHARACTERS or (digits_only and phones.search_digits(text) is None):
        return Q(number=text.upper()) | Q(case_number=case_number)
    condition = Q(number__contains=text.upper()) | Q(case_number__contains=case_number)
    digits = phones.search_digits(text)
    if digits is not None:
        condition |= Q(requester_phone__contains=digits)
    return condition


def shows_closed(filters: DeskFilters) -> bool:
    """Closed orders stay off the desk unless asked for: by status, by the return-visit
    queue, by a search (which looks through everything) or by ticking them in."""
    return bool(
        filters.include_closed
        or filters.status
        or filters.visit_due
        or filters.queue == "visit_due"
        or filters.query.strip()
    )


def desk_orders(user: User, filters: DeskFilters, *, now: dt.datetime | None = None) -> QuerySet[WorkOrder]:
    now = now or timezone.now()
    orders = visible_work_orders(user)
    if not shows_closed(filters):
        # Matches the partial index of the orders not closed (wo_open_received_idx).
        orders = orders.exclude(status=WorkOrder.Status.CLOSED)
    if filters.queue:
        orders = orders.filter(queue_condition(filters.queue, now))
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.overdue:
        orders = orders.filter(overdue_condition(now))
    if filters.visit_due:
        orders = orders.filter(status=WorkOrder.Status.CLOSED, return_visited_at__isnull=True)
    if filters.category:
        orders = orders.filter(category=filters.category)
    if filters.channel:
        orders = orders.filter(channel=filters.channel)
    if filters.department:
        orders = orders.filter(department_id=filters.department)
    if filters.assignee:
        orders = orders.filter(assignee_id=filters.assignee)
    if filters.received_from:
        orders = orders.filter(received_at__date__gte=filters.received_from)
    if filters.received_to:
        orders = orders.filter(received_at__date__lte=filters.received_to)
    if filters.query:
        orders = orders.filter(search_condition(filters.query))
    return with_supervision(orders.select_related("department", "assignee")).order_by("-received_at", "-id")


def my_orders(user: User) -> QuerySet[WorkOrder]:
    """A judge's assigned orders and a department liaison's department orders that
    are not yet closed, the most urgent first."""
    mine = Q(assignee=user)
    if user.department_id and has_role(user, Role.DEPARTMENT_LIAISON):
        mine |= Q(department_id=user.department_id)
    orders = WorkOrder.objects.filter(mine).exclude(status=WorkOrder.Status.CLOSED)
    return with_supervision(orders.select_related("department", "assignee")).order_by("completion_due", "id")


def work_order_for(user: User, number: str) -> WorkOrder | None:
    """The order with this number if the user may see it; None otherwise, so that a
    stranger cannot tell a hidden order from a missing one."""
    order = WorkOrder.objects.select_related("department", "assignee", "created_by").filter(number=number).first()
    if order is None or not policy.can(user, "view", order):
        return None
    return order


def proposed_outcome(order: WorkOrder) -> str:
    """What the confirm-and-close form starts from: the outcome the system recorded
    (a mediation's result), else the latest answer given to the requester."""
    if order.outcome:
        return order.outcome
    latest = order.replies.order_by("-replied_at", "-id").values_list("content", flat=True).first()
    return latest or ""


def timeline(order: WorkOrder):
    return order.events.select_related("actor").order_by("created_at", "id")


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
