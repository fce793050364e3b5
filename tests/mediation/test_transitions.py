"""Every allowed and every refused work-order transition."""

import pytest
from django.core.exceptions import ValidationError

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, WorkOrder, WorkOrderEvent
from mediation.services import supervision
from mediation.services import work_orders as services
from tests.factories import refresh
from tests.workflows import order_in_state

Status = WorkOrder.Status
pytestmark = pytest.mark.django_db


def run(action, order, people, actor=None):
    """Attempt `action` with valid input, as the person who normally may."""
    p = people
    calls = {
        "dispatch": lambda: services.dispatch_work_order(
            order=order, actor=actor or p["liaison"], department=p["judge"].department, assignee=p["judge"]
        ),
        "return": lambda: services.return_work_order(order=order, actor=actor or p["judge"], reason="Wrong court"),
        "start": lambda: services.start_work_order(order=order, actor=actor or p["judge"]),
        "reply": lambda: services.reply_to_requester(
            order=order, actor=actor or p["judge"], content="Answered by phone.", channel="phone"
        ),
        "submit": lambda: services.submit_for_confirmation(order=order, actor=actor or p["dept_liaison"]),
        "close": lambda: services.close_work_order(order=order, actor=actor or p["liaison"], outcome="Done"),
        "reopen": lambda: supervision.record_return_visit(
            order=order, actor=actor or p["liaison"], reached=True, satisfaction="unsatisfied", reopen=True
        ),
    }
    return calls[action]()


ALL_STATES = list(Status)
TRANSITIONS = [
    (action, state, target)
    for action, (allowed, target) in WorkOrder.TRANSITIONS.items()
    for state in ALL_STATES
    if state in allowed
]
REFUSED = [
    (action, state)
    for action, (allowed, _target) in WorkOrder.TRANSITIONS.items()
    for state in ALL_STATES
    if state not in allowed
]


@pytest.mark.parametrize(("action", "state", "target"), TRANSITIONS)
def test_allowed_transition_moves_the_order_and_writes_one_timeline_and_audit_entry(action, state, target, people):
    order = order_in_state(state, people)
    events_before = WorkOrderEvent.objects.filter(order=order, action=action).count()
    audits_before = AuditEntry.objects.filter(action=f"work_order.{action}").count()

    run(action, order, people)

    order = refresh(order)
    assert order.status == target
    event = WorkOrderEvent.objects.filter(order=order, action=action).latest("id")
    assert WorkOrderEvent.objects.filter(order=order, action=action).count() == events_before + 1
    assert (event.from_status, event.to_status) == (state, target)
    assert event.actor is not None
    assert AuditEntry.objects.filter(action=f"work_order.{action}").count() == audits_before + 1


@pytest.mark.parametrize(("action", "state"), REFUSED)
def test_transition_from_a_wrong_state_is_refused_and_changes_nothing(action, state, people):
    order = order_in_state(state, people)
    before = (order.status, order.events.count(), AuditEntry.objects.count(), order.updated_at)

    with pytest.raises(TransitionNotAllowed) as refusal:
        run(action, order, people)

    order = refresh(order)
    assert (order.status, order.events.count(), AuditEntry.objects.count(), order.updated_at) == before
    assert order.number in refusal.value.message


ROLE_REFUSALS = [
    ("dispatch", Status.RECEIVED, "judge"),
    ("dispatch", Status.RECEIVED, "dept_liaison"),
    ("dispatch", Status.RECEIVED, "mediator"),
    ("return", Status.DISPATCHED, "liaison"),
    ("return", Status.DISPATCHED, "other_judge"),
    ("return", Status.DISPATCHED, "outside_judge"),
    ("start", Status.DISPATCHED, "other_judge"),
    ("start", Status.DISPATCHED, "nobody"),
    ("reply", Status.IN_PROGRESS, "other_judge"),
    ("reply", Status.IN_PROGRESS, "liaison"),
    ("submit", Status.REPLIED, "outside_judge"),
    ("close", Status.AWAITING_CONFIRMATION, "judge"),
    ("close", Status.AWAITING_CONFIRMATION, "dept_liaison"),
    ("close", Status.AWAITING_CONFIRMATION, "head"),
    ("reopen", Status.CLOSED, "judge"),
    ("reopen", Status.CLOSED, "mediator"),
]


@pytest.mark.parametrize(("action", "state", "who"), ROLE_REFUSALS)
def test_transition_by_a_role_that_may_not_is_refused_and_changes_nothing(action, state, who, people):
    order = order_in_state(state, people)
    before = (order.status, order.events.count(), AuditEntry.objects.count())

    with pytest.raises(ActionForbidden):
        run(action, order, people, actor=people[who])

    order = refresh(order)
    assert (order.status, order.events.count(), AuditEntry.objects.count()) == before


def test_department_head_and_liaison_may_handle_their_departments_orders(people):
    order = order_in_state(Status.DISPATCHED, people)
    services.start_work_order(order=order, actor=people["dept_liaison"])
    assert refresh(order).status == Status.IN_PROGRESS


def test_judge_of_the_department_cannot_take_up_an_order_assigned_to_another(people):
    order = order_in_state(Status.DISPATCHED, people)
    with pytest.raises(ActionForbidden):
        services.start_work_order(order=order, actor=people["other_judge"])


def test_returned_order_goes_back_to_the_general_liaison_and_can_be_dispatched_again(people, other_department):
    order = order_in_state(Status.RETURNED, people)
    assert order.assignee is None
    services.dispatch_work_order(order=order, actor=people["liaison"], department=other_department)
    order = refresh(order)
    assert (order.status, order.department) == (Status.DISPATCHED, other_department)
    return_event = order.events.get(action="return")
    assert return_event.note == "Not ours"


def test_return_without_a_reason_is_refused(people):
    order = order_in_state(Status.DISPATCHED, people)
    with pytest.raises(ValidationError) as error:
        services.return_work_order(order=order, actor=people["judge"], reason="  ")
    assert "reason" in error.value.message_dict
    assert refresh(order).status == Status.DISPATCHED


def test_dispatch_to_a_judge_of_another_department_is_refused(people, civil):
    order = order_in_state(Status.RECEIVED, people)
    with pytest.raises(ValidationError) as error:
        services.dispatch_work_order(
            order=order, actor=people["liaison"], department=civil, assignee=people["outside_judge"]
        )
    assert "assignee" in error.value.message_dict
    assert refresh(order).status == Status.RECEIVED


def test_dispatch_to_someone_who_is_not_a_judge_is_refused(people, civil):
    order = order_in_state(Status.RECEIVED, people)
    with pytest.raises(ValidationError):
        services.dispatch_work_order(order=order, actor=people["liaison"], department=civil, assignee=people["head"])


def test_order_cannot_be_closed_without_a_recorded_reply(people):
    order = order_in_state(Status.AWAITING_CONFIRMATION, people)
    WorkOrder.objects.filter(pk=order.pk).update(replied_at=None)
    with pytest.raises(TransitionNotAllowed, match="reply"):
        services.close_work_order(order=refresh(order), actor=people["liaison"], outcome="Done")
    assert refresh(order).status == Status.AWAITING_CONFIRMATION


def test_reply_is_recorded_with_content_channel_and_time(people):
    order = order_in_state(Status.IN_PROGRESS, people)
    reply = services.reply_to_requester(order=order, actor=people["judge"], content="Hearing on Monday.", channel="sms")
    order = refresh(order)
    assert (reply.content, reply.channel, reply.author) == ("Hearing on Monday.", "sms", people["judge"])
    assert order.replied_at == reply.replied_at
    assert order.first_contacted_at == reply.replied_at


def test_reply_in_the_future_is_refused(people):
    import datetime as dt

    from django.utils import timezone

    order = order_in_state(Status.IN_PROGRESS, people)
    with pytest.raises(ValidationError):
        services.reply_to_requester(
            order=order,
            actor=people["judge"],
            content="x",
            channel="sms",
            replied_at=timezone.now() + dt.timedelta(days=1),
        )
    assert refresh(order).status == Status.IN_PROGRESS


def test_closing_records_the_outcome_and_the_time(people):
    order = order_in_state(Status.CLOSED, people)
    assert order.outcome == "Answered"
    assert order.closed_at is not None


def test_return_visit_by_the_assignee_is_refused(people):
    order = order_in_state(Status.CLOSED, people)
    people["judge"].groups.add(*people["liaison"].groups.all())
    with pytest.raises(ActionForbidden):
        supervision.record_return_visit(order=order, actor=people["judge"], reached=True, satisfaction="satisfied")


def test_only_an_unsatisfied_requester_can_reopen(people):
    order = order_in_state(Status.CLOSED, people)
    with pytest.raises(ValidationError) as error:
        supervision.record_return_visit(
            order=order, actor=people["liaison"], reached=True, satisfaction="basically", reopen=True
        )
    assert "reopen" in error.value.message_dict
    assert refresh(order).status == Status.CLOSED
    assert not order.return_visits.exists()


def test_unreached_requester_counts_as_visited_without_a_rating(people):
    order = order_in_state(Status.CLOSED, people)
    supervision.record_return_visit(order=order, actor=people["liaison"], reached=False)
    order = refresh(order)
    assert order.return_visited_at is not None
    assert order.return_visit_satisfaction == ""


def test_reopened_order_is_no_longer_answered_and_gets_a_fresh_completion_clock(people):
    closed = order_in_state(Status.CLOSED, people)
    order = order_in_state(Status.REOPENED, people)
    assert order.replied_at is None and order.closed_at is None
    assert order.completion_due >= closed.completion_due
    services.start_work_order(order=order, actor=people["judge"])
    assert refresh(order).status == Status.IN_PROGRESS


def test_every_transition_of_a_full_journey_is_in_the_timeline_in_order(people):
    order = order_in_state(Status.REOPENED, people)
    steps = [(e.action, e.from_status, e.to_status) for e in order.events.all()]
    assert steps == [
        ("receive", "", "received"),
        ("dispatch", "received", "dispatched"),
        ("start", "dispatched", "in_progress"),
        ("reply", "in_progress", "replied"),
        ("submit", "replied", "awaiting_confirmation"),
        ("close", "awaiting_confirmation", "closed"),
        ("return_visit", "closed", "closed"),
        ("reopen", "closed", "reopened"),
    ]
