"""What the desk's list tells the general liaison at a glance: both clocks, overdue
and supervised orders, the queues, when each order came in, and no closed orders
unless asked for."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from mediation.models import WorkOrder
from mediation.services import supervision
from mediation.services import work_orders as services
from tests.factories import WorkOrderFactory
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status


def desk(client, **params):
    return client.get(reverse("desk"), params)


def row_of(html: str, number: str) -> str:
    match = re.search(r"<tr>\s*<td[^>]*><a href=\"[^\"]*\">" + re.escape(number) + r"</a>.*?</tr>", html, re.S)
    assert match, number
    return match.group(0)


def numbers(response) -> set[str]:
    return {order.number for order in response.context["page"]}


def test_an_order_whose_first_contact_is_late_shows_overdue_in_the_list(client, people):
    # Received two days ago on a 24-hour first-contact clock, nobody has called back;
    # the completion clock (working days) still has time.
    with time_machine.travel(timezone.now() - dt.timedelta(days=2), tick=False):
        order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["liaison"])
    response = desk(client, overdue="on")
    assert order.number in numbers(response)
    row = row_of(response.content.decode(), order.number)
    assert "First contact" in row and "overdue by" in row
    assert 'badge--late">Overdue' in row


def test_the_list_shows_when_each_order_was_received(client, people):
    order = WorkOrderFactory()
    client.force_login(people["liaison"])
    row = row_of(desk(client).content.decode(), order.number)
    assert timezone.localtime(order.received_at).strftime("%Y-%m-%d %H:%M") in row


def test_an_order_under_supervision_is_marked_in_the_list(client, people):
    order = order_in_state(Status.IN_PROGRESS, people)
    supervision.issue_supervision_notice(
        order=order,
        actor=people["liaison"],
        content="Call the requester back today.",
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    quiet = WorkOrderFactory()
    client.force_login(people["liaison"])
    html = desk(client).content.decode()
    assert "Under supervision" in row_of(html, order.number)
    assert "Under supervision" not in row_of(html, quiet.number)


def test_closed_orders_are_hidden_unless_asked_for(client, people):
    closed = order_in_state(Status.CLOSED, people)
    open_order = WorkOrderFactory()
    client.force_login(people["liaison"])
    assert numbers(desk(client)) == {open_order.number}
    assert numbers(desk(client, include_closed="on")) == {open_order.number, closed.number}
    assert numbers(desk(client, status="closed")) == {closed.number}
    assert numbers(desk(client, q=closed.number)) == {closed.number}


def test_the_queues_list_what_waits_for_the_liaison(client, people):
    received = WorkOrderFactory()
    returned = order_in_state(Status.RETURNED, people)
    in_progress = order_in_state(Status.IN_PROGRESS, people)
    to_confirm = order_in_state(Status.AWAITING_CONFIRMATION, people)
    visit_due = order_in_state(Status.CLOSED, people)
    with time_machine.travel(timezone.now() - dt.timedelta(days=3), tick=False):
        late = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["liaison"])
    assert numbers(desk(client, queue="to_dispatch")) == {received.number, returned.number}
    assert numbers(desk(client, queue="to_confirm")) == {to_confirm.number}
    assert numbers(desk(client, queue="visit_due")) == {visit_due.number}
    assert late.number in numbers(desk(client, queue="overdue"))
    assert in_progress.number not in numbers(desk(client, queue="overdue"))
    tabs = desk(client, queue="to_confirm").context["tabs"]
    assert [tab["current"] for tab in tabs] == [False, False, True, False, False]
    assert 'aria-current="page">To confirm' in desk(client, queue="to_confirm").content.decode()


def test_a_late_first_contact_flags_the_order_for_its_judge_too(client, people):
    with time_machine.travel(timezone.now() - dt.timedelta(days=2), tick=False):
        order = order_in_state(Status.DISPATCHED, people)
    services.start_work_order(order=order, actor=people["judge"])
    client.force_login(people["judge"])
    row = row_of(client.get(reverse("my_work_orders")).content.decode(), order.number)
    assert "Overdue" in row and "First contact" in row
