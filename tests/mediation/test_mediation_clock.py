"""A work order's completion clock stops while its dispute is in mediation (the
mediation keeps its own 30-day deadline) and restarts when the case ends, its
deadline moved by the working time the mediation took."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from mediation.models import DeadlineAlert, MediationCase, WorkOrder
from mediation.services import cases
from mediation.services import work_orders as services
from mediation.services.supervision import check_deadlines
from mediation.working_calendar import WorkingCalendar
from tests.factories import refresh
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Status = WorkOrder.Status


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def refer(order, people) -> MediationCase:
    return cases.refer_to_mediation(
        order=order, actor=people["judge"], mediator=people["mediator"], cause_of_action="合同纠纷"
    )


def fresh(case):
    return MediationCase.objects.get(pk=case.pk)


def test_an_order_in_mediation_is_neither_overdue_nor_alerted(people):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = order_in_state(Status.DISPATCHED, people)
        services.record_contact(order=order, actor=people["judge"], note="Called back")
        refer(refresh(order), people)
    # Three weeks of mediation: far past the order's own five working days.
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        order = refresh(order)
        assert not order.is_overdue()
        assert not order.completion_clock_running
        check_deadlines()
        assert not DeadlineAlert.objects.filter(order=order, clock="completion").exists()
        event = order.events.get(action="pause_for_mediation")
        assert event.data["reason"] == "mediation"


def test_the_clock_resumes_when_mediation_fails_shifted_by_the_working_time_taken(people):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = order_in_state(Status.IN_PROGRESS, people)
        due_before = order.completion_due
    with time_machine.travel(at(2026, 11, 3, 9, 0), tick=False):
        case = refer(refresh(order), people)
        cases.start_mediation(case=case, actor=people["mediator"])
    with time_machine.travel(at(2026, 11, 10, 9, 0), tick=False):
        cases.fail_case(case=fresh(case), actor=people["mediator"], reason="No agreement")
    order = refresh(order)
    calendar = WorkingCalendar.load()
    paused = calendar.working_seconds_between(at(2026, 11, 3, 9, 0), at(2026, 11, 10, 9, 0))
    assert paused == 5 * 24 * 3600  # Tuesday to Tuesday: five working days
    assert order.completion_due == due_before + dt.timedelta(days=7)
    assert order.completion_clock_running and order.paused_at is None and order.pause_reason_code == ""
    resumed = order.events.get(action="resume_after_mediation")
    assert (resumed.data["reason"], resumed.data["case_number"]) == ("mediation", case.number)


def test_the_mediation_pause_cannot_be_ended_by_hand(client, people):
    order = order_in_state(Status.IN_PROGRESS, people)
    refer(order, people)
    order = refresh(order)
    assert not order.allows("resume")
    client.force_login(people["judge"])
    page = client.get(reverse("work_order_detail", args=[order.number]))
    assert "resume" not in page.context["action_forms"]
    assert "In mediation" in page.content.decode()


def test_a_settled_mediation_resumes_the_orders_clock_for_the_answer_to_the_requester(people):
    """Nobody has answered the requester yet: the order stays in progress, its clock
    running again, until its judge records the answer."""
    order = order_in_state(Status.IN_PROGRESS, people)
    case = refer(order, people)
    cases.start_mediation(case=case, actor=people["mediator"])
    cases.settle_case(case=fresh(case), actor=people["mediator"], note="Settled")
    order = refresh(order)
    assert order.status == Status.IN_PROGRESS and order.paused_at is None
    actions = list(order.events.values_list("action", flat=True))
    assert actions.index("pause_for_mediation") < actions.index("resume_after_mediation")
