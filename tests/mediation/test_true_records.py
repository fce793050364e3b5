"""What people read is true: a settled case records what the platform did on its
work order (as a code, rendered in the reader's language) and never a reply or a
contact nobody made; closing an order says who must tell the requester; the
clerk's internal note on an order never becomes the facts the parties read."""

from decimal import Decimal

import pytest
from django.urls import reverse

from mediation.models import WorkOrder
from mediation.services import cases
from tests.factories import UserFactory
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status

CLERKS_NOTE = "来电人情绪激动，称要去法院门口拉横幅；内部备注：勿告知对方。"


def refer(order, actor, mediator, **fields):
    return cases.refer_to_mediation(
        order=order,
        actor=actor,
        mediator=mediator,
        cause_of_action="合同纠纷",
        claim_amount=Decimal("500000"),
        **fields,
    )


def with_defendant(case, user):
    party = cases.add_party(case=case, actor=case.mediator, side="defendant", kind="person", name="王秀兰")
    cases.attach_participant(case=case, party=party, user=user, role="self", actor=case.mediator)
    return party


# The clerk's note is not the parties' facts ------------------------------------------


def test_a_referred_case_starts_with_empty_facts_not_the_clerks_note(people):
    order = order_in_state(Status.DISPATCHED, people, content=CLERKS_NOTE)

    case = refer(order, people["judge"], people["mediator"])

    assert case.facts == ""


def test_the_referral_form_no_longer_promises_the_orders_content_as_facts(client, people):
    order = order_in_state(Status.DISPATCHED, people, content=CLERKS_NOTE)
    client.force_login(people["judge"])

    response = client.post(
        reverse("work_order_action", args=[order.number, "refer_to_mediation"]),
        {
            "refer_to_mediation-mediator": people["mediator"].pk,
            "refer_to_mediation-cause_of_action": "合同纠纷",
            "refer_to_mediation-facts": "",
        },
    )

    assert response.status_code == 302
    assert order.mediation_cases.get().facts == ""


def test_the_defendant_does_not_read_the_clerks_note_but_the_mediator_does(client, people):
    order = order_in_state(Status.DISPATCHED, people, content=CLERKS_NOTE)
    case = refer(order, people["judge"], people["mediator"])
    defendant = UserFactory(full_name="王秀兰")
    with_defendant(case, defendant)

    client.force_login(defendant)
    page = client.get(reverse("case_detail", args=[case.pk]))
    assert page.status_code == 200
    assert CLERKS_NOTE not in page.content.decode()

    client.force_login(people["mediator"])
    page = client.get(reverse("case_detail", args=[case.pk]))
    assert CLERKS_NOTE in page.content.decode()
