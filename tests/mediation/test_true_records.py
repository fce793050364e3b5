"""What people read is true: a settled case records what the platform did on its
work order (as a code, rendered in the reader's language) and never a reply or a
contact nobody made; closing an order says who must tell the requester; the
clerk's internal note on an order never becomes the facts the parties read."""

import pytest
from django.urls import reverse
from django.utils import translation

from mediation import phones
from mediation.models import MediationCase, Notification, WorkOrder
from mediation.notifications import render
from mediation.services import cases
from mediation.services import work_orders as order_services
from tests.factories import UserFactory, refresh
from tests.workflows import order_in_state, refer

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status

CLERKS_NOTE = "来电人情绪激动，称要去法院门口拉横幅；内部备注：勿告知对方。"


def with_defendant(case, user):
    party = cases.add_party(case=case, actor=case.mediator, side="defendant", kind="person", name="王秀兰")
    cases.attach_participant(case=case, party=party, user=user, role="party", actor=case.mediator)
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


# A settlement records what the platform did, not a reply nobody gave ------------------


def settled_by_the_seal(people, *, answered_first=False, signer_language="en"):
    """A referred order whose case the sealed agreement settles (actor None), while the
    last signer's request runs in `signer_language`."""
    order = order_in_state(Status.DISPATCHED, people)
    case = refer(order, people["judge"], people["mediator"])
    if answered_first:
        order_services.reply_to_requester(order=order, actor=people["judge"], content="已转调解。", channel="phone")
    cases.start_mediation(case=case, actor=people["mediator"])
    with translation.override(signer_language):
        cases.settle_case(
            case=case,
            actor=None,
            note="以盖章协议 ABC123 调解成功。",
            data={"agreement": 1, "verification_code": "ABC123"},
        )
    return refresh(order), case


def test_a_settlement_records_no_reply_and_no_contact_with_the_requester(people):
    order, case = settled_by_the_seal(people)

    assert order.replies.count() == 0
    assert order.first_contacted_at is None
    assert order.replied_at is None
    # The requester is still owed an answer: the order stays with its handler.
    assert order.status == Status.IN_PROGRESS
    assert order.completion_clock_running
    event = order.events.get(action="mediation_outcome")
    assert (event.actor, event.note) == (None, "")
    # The order's outcome is the general liaison's to confirm, not the platform's.
    assert order.outcome == ""
    assert event.data["outcome"] == MediationCase.Status.SETTLED
    assert event.data["case_number"] == case.number


def test_a_settlement_tells_the_orders_judge_to_call_the_requester(people):
    order, _case = settled_by_the_seal(people)

    [notice] = Notification.objects.filter(kind="case.concluded.answer_requester")
    assert notice.recipient == people["judge"]
    with translation.override("en"):
        text = render(notice.kind, notice.params)
    assert phones.display(order.requester_phone) in text and order.requester_name in text
    assert "Settled" in text and "settled)" not in text


def test_the_judge_then_answers_the_requester_and_the_order_closes(people):
    order, _case = settled_by_the_seal(people)

    order_services.reply_to_requester(order=order, actor=people["judge"], content="电话告知调解成功。", channel="phone")
    order_services.submit_for_confirmation(order=order, actor=people["dept_liaison"])
    order_services.close_work_order(order=order, actor=people["liaison"], outcome="调解成功。")

    order = refresh(order)
    assert order.status == Status.CLOSED
    [reply] = order.replies.all()
    assert (reply.author, reply.channel) == (people["judge"], "phone")


def test_a_settled_order_whose_requester_was_answered_awaits_confirmation(people):
    order, _case = settled_by_the_seal(people, answered_first=True)

    assert order.status == Status.AWAITING_CONFIRMATION
    assert [reply.author for reply in order.replies.all()] == [people["judge"]]
    assert not Notification.objects.filter(kind="case.concluded.answer_requester").exists()


def test_the_settlement_on_the_orders_timeline_reads_in_the_readers_language(client, people):
    order, case = settled_by_the_seal(people, signer_language="en")
    liaison = people["liaison"]
    client.force_login(liaison)

    for language, expected, foreign in (
        ("zh-hans", f"调解案件 {case.number}：调解成功 · 已盖章协议ABC123", "Settled in mediation case"),
        # Not even the platform's own note, written in the court's language.
        ("en", f"Mediation case {case.number}: Settled · sealed agreement ABC123", "调解成功"),
    ):
        liaison.language = language
        liaison.save(update_fields=["language"])
        page = client.get(reverse("work_order_detail", args=[order.number])).content.decode()
        assert expected in page, language
        assert foreign not in page, language


# Closing an order promises nothing the platform does not do --------------------------


@pytest.mark.parametrize(
    ("language", "promise", "instruction"),
    [
        ("en", "The requester is told it is finished", "Call {name} on {phone} yourself"),
        ("zh-hans", "系统将告知诉求人", "请您亲自致电{name}（{phone}）"),
    ],
)
def test_closing_an_order_says_the_liaison_must_call_the_requester(client, people, language, promise, instruction):
    order = order_in_state(Status.AWAITING_CONFIRMATION, people)
    liaison = people["liaison"]
    liaison.language = language
    liaison.save(update_fields=["language"])
    client.force_login(liaison)

    page = client.get(reverse("work_order_detail", args=[order.number]))

    assert "close" in page.context["action_forms"]
    text = page.content.decode()
    assert promise not in text
    assert instruction.format(name=order.requester_name, phone=phones.display(order.requester_phone)) in text
