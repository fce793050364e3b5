"""Guards added after review: one open mediation per order, staff of a case cannot be
a party in it, and a case's end ends its running session."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from mediation.errors import TransitionNotAllowed
from mediation.models import MediationCase, WorkOrder
from mediation.services import cases, sessions
from tests.cases import make_case
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db


def test_an_order_already_in_mediation_cannot_be_referred_again(people):
    order = order_in_state(WorkOrder.Status.DISPATCHED, people)
    first = cases.refer_to_mediation(
        order=order, actor=people["judge"], mediator=people["mediator"], cause_of_action="合同纠纷"
    )
    with pytest.raises(TransitionNotAllowed, match=re.escape(first.number)):
        cases.refer_to_mediation(
            order=order, actor=people["judge"], mediator=people["mediator"], cause_of_action="合同纠纷"
        )
    assert MediationCase.objects.filter(work_order=order).count() == 1


def test_the_cases_judge_cannot_join_a_side(people):
    world = make_case(people["mediator"], people["judge"])
    party = world.case.parties.get(side="plaintiff")
    with pytest.raises(TransitionNotAllowed) as refusal:
        cases.attach_participant(
            case=world.case, party=party, user=people["judge"], role="agent", actor=people["mediator"]
        )
    assert refusal.value.code == "staff_of_case"


def test_ending_a_case_ends_its_running_session(people):
    world = make_case(people["mediator"], people["judge"])
    session = sessions.schedule_session(
        case=world.case, actor=people["mediator"], starts_at=timezone.now() + dt.timedelta(hours=1)
    )
    sessions.start_session(session=session, actor=people["mediator"])
    cases.fail_case(case=world.case, actor=people["mediator"], reason="No agreement on the amount")
    session.refresh_from_db()
    assert session.ended_at is not None
    assert world.joint.entries.filter(kind="session.ended").exists()
