"""The webhook events of cases, agreements and confirmations: queued with the change
that causes them, signed and retried like `work_order.closed`, filtered per endpoint,
and carrying no personal data."""

import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ValidationError

from documents.models.confirmation import JudicialConfirmation
from mediation.errors import TransitionNotAllowed
from mediation.models import WebhookDelivery, WebhookEndpoint, WorkOrder
from mediation.services import cases, webhooks
from tests.after_seal import confirm, seal_agreement_of
from tests.cases import make_case
from tests.mediation.test_webhooks import Receiver
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db

SECRET = "court-cms-secret"


@pytest.fixture
def endpoint(db):
    return WebhookEndpoint.objects.create(name="cms", url="http://127.0.0.1:9/hook", secret=SECRET)


def bodies(event: str) -> list[dict]:
    return [json.loads(d.body) for d in WebhookDelivery.objects.filter(event=event).order_by("id")]


def personal_values(world) -> list[str]:
    """What must never leave in a payload: the names of the people and parties."""
    values = [str(world.plaintiff), str(world.defendant), str(world.mediator), str(world.judge)]
    return values + [party.name for party in world.case.parties.all()]


def assert_no_personal_data(body: dict, world) -> None:
    text = json.dumps(body, ensure_ascii=False)
    for value in personal_values(world):
        assert value not in text, value


def test_referring_an_order_sends_case_referred(endpoint, people):
    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)

    case = cases.refer_to_mediation(
        order=order, actor=people["judge"], mediator=people["mediator"], cause_of_action="合同纠纷"
    )

    [body] = bodies("case.referred")
    assert body["event"] == "case.referred"
    assert body["data"] == {
        "id": case.pk,
        "number": case.number,
        "status": "pending",
        "cause_of_action": "合同纠纷",
        "work_order": {
            "number": order.number,
            "external_source": order.external_source,
            "external_id": order.external_id,
        },
        "organisation_id": None,
        "started_on": case.started_on.isoformat(),
        "deadline": case.deadline.isoformat(),
        "accepted_at": case.accepted_at.isoformat(),
        "concluded_at": None,
    }
    assert str(people["mediator"]) not in json.dumps(body, ensure_ascii=False)


def test_a_refused_referral_sends_nothing(endpoint, people):
    order = order_in_state(WorkOrder.Status.IN_PROGRESS, people)
    cases.refer_to_mediation(
        order=order, actor=people["judge"], mediator=people["mediator"], cause_of_action="合同纠纷"
    )
    with pytest.raises(TransitionNotAllowed):
        cases.refer_to_mediation(
            order=order, actor=people["judge"], mediator=people["mediator"], cause_of_action="合同纠纷"
        )
    assert len(bodies("case.referred")) == 1


def test_a_failed_mediation_sends_case_failed_without_the_reason(endpoint, mediator, judge):
    world = make_case(mediator, judge)
    cases.fail_case(case=world.case, actor=mediator, reason="Shanghai Culture Media A refuses to pay")

    [body] = bodies("case.failed")
    assert (body["data"]["number"], body["data"]["status"]) == (world.case.number, "failed")
    assert body["data"]["concluded_at"] is not None
    assert "refuses" not in json.dumps(body, ensure_ascii=False)
    assert_no_personal_data(body, world)
    assert not bodies("case.settled")


def test_a_withdrawal_sends_no_outcome_event(endpoint, mediator, judge):
    world = make_case(mediator, judge)
    cases.withdraw_case(case=world.case, actor=mediator, reason="Withdrawn")
    assert not WebhookDelivery.objects.exists()


def test_sealing_the_agreement_sends_agreement_sealed_then_case_settled(endpoint, mediator, judge):
    world = make_case(mediator, judge, agent_authority=True)
    terms = [
        {
            "kind": "payment",
            "obligor": world.defendant_participant.party_id,
            "obligee": world.plaintiff_participant.party_id,
            "amount": "1000",
            "method": "银行转账",
            "due_date": "2027-03-31",
        }
    ]

    agreement = seal_agreement_of(world, terms)

    [sealed] = bodies("agreement.sealed")
    assert sealed["data"] == {
        "id": agreement.pk,
        "verification_code": agreement.verification_code,
        "status": "sealed",
        "sealed_at": agreement.sealed_at.isoformat(),
        "sha256": agreement.sealed_blob.sha256,
        "case": {"id": world.case.pk, "number": world.case.number},
    }
    [settled] = bodies("case.settled")
    assert settled["data"]["status"] == "settled"
    events = list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))
    assert events.index("agreement.sealed") < events.index("case.settled")
    assert_no_personal_data(sealed, world)
    assert_no_personal_data(settled, world)


@pytest.mark.parametrize("status", [JudicialConfirmation.Status.CONFIRMED, JudicialConfirmation.Status.REJECTED])
def test_the_ruling_sends_confirmation_decided(endpoint, mediator, judge, status):
    world = make_case(mediator, judge, agent_authority=True)
    terms = [
        {
            "kind": "payment",
            "obligor": world.defendant_participant.party_id,
            "obligee": world.plaintiff_participant.party_id,
            "amount": "1000",
            "method": "银行转账",
            "due_date": "2027-03-31",
        }
    ]
    agreement = seal_agreement_of(world, terms)

    confirmation = confirm(world, agreement, status=status, serve=False)

    [body] = bodies("confirmation.decided")
    assert body["data"]["id"] == confirmation.pk
    assert body["data"]["status"] == status
    assert body["data"]["decision"] == ("confirm" if status == "confirmed" else "reject")
    assert body["data"]["case"] == {"id": world.case.pk, "number": world.case.number}
    assert body["data"]["case_number"] == confirmation.case_number
    assert body["data"]["decided_at"] == confirmation.decided_at.isoformat()
    assert "双方恶意串通" not in json.dumps(body, ensure_ascii=False)
    assert_no_personal_data(body, world)


def test_an_endpoint_receives_only_the_events_it_chose(mediator, judge):
    everything = WebhookEndpoint.objects.create(name="all", url="http://127.0.0.1:9/a", secret="a")
    outcomes = WebhookEndpoint.objects.create(
        name="outcomes", url="http://127.0.0.1:9/b", secret="b", events=["case.failed"]
    )
    world = make_case(mediator, judge)
    cases.fail_case(case=world.case, actor=mediator, reason="No agreement")
    second = make_case(mediator, judge, label="B")
    cases.withdraw_case(case=second.case, actor=mediator, reason="Withdrawn")

    assert list(WebhookDelivery.objects.filter(endpoint=outcomes).values_list("event", flat=True)) == ["case.failed"]
    assert list(WebhookDelivery.objects.filter(endpoint=everything).values_list("event", flat=True)) == ["case.failed"]


def test_an_endpoint_filtered_to_other_events_gets_nothing(mediator, judge):
    WebhookEndpoint.objects.create(name="orders", url="http://127.0.0.1:9/b", secret="b", events=["work_order.closed"])
    world = make_case(mediator, judge)
    cases.fail_case(case=world.case, actor=mediator, reason="No agreement")
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("events", [["case.unknown"], "case.failed", [1]])
def test_an_unknown_event_in_the_filter_is_refused_clearly(events):
    endpoint = WebhookEndpoint(name="bad", url="http://127.0.0.1:9/b", secret="b", events=events)
    with pytest.raises(ValidationError) as error:
        endpoint.full_clean()
    assert "events" in error.value.message_dict


def test_a_case_event_is_delivered_signed_like_work_order_closed(mediator, judge):
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(name="cms", url=receiver.url, secret=SECRET)
        world = make_case(mediator, judge)
        cases.fail_case(case=world.case, actor=mediator, reason="No agreement")

        assert webhooks.deliver_many() == 1

        [request] = receiver.requests
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == f"sha256={expected}"
    assert request["headers"]["X-Webhook-Event"] == "case.failed"
    assert json.loads(request["body"])["data"]["number"] == world.case.number
