"""Mediation cases: referral from a work order, opening a case directly, parties,
deadline extensions, the outcome fed back to the originating order, and taking a
participant off a case. Every refusal changes nothing."""

import datetime as dt
import re
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import (
    AuditEntry,
    CaseEvent,
    MediationCase,
    Notification,
    Participant,
    Party,
    RoomKind,
    WorkOrder,
    WorkOrderEvent,
)
from mediation.selectors import cases as case_selectors
from mediation.services import cases
from mediation.services import work_orders as order_services
from mediation.services.case_deadlines import next_working_day
from rooms.models import Room
from tests.cases import make_case
from tests.factories import refresh
from tests.locks import tables_locked
from tests.workflows import order_in_state, refer

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status
CaseStatus = MediationCase.Status
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CASE_NUMBER = re.compile(r"^\(2026\)京0107民诉前调(\d+)号$")
VALID_ID_NUMBER = "11010519491231002X"
VALID_CREDIT_CODE = "91310115MA1K3YJ12T"


def snapshot(case: MediationCase) -> tuple:
    """Everything a refused action must leave as it was."""
    case = MediationCase.objects.get(pk=case.pk)
    order = case.work_order
    return (
        case.status,
        case.deadline,
        case.outcome_note,
        case.filed_case_number,
        case.events.count(),
        case.extensions.count(),
        Participant.active.filter(case=case).count(),
        AuditEntry.objects.count(),
        Notification.objects.count(),
        order.status if order else None,
        order.events.count() if order else None,
    )


@pytest.fixture
def referred(people):
    """A dispatched order referred by its judge: the order is in progress and its case
    pending, mediated by the mediator."""
    order = order_in_state(Status.DISPATCHED, people)
    case = refer(order, people["judge"], people["mediator"])
    return case


def in_mediation(case, mediator):
    return cases.start_mediation(case=case, actor=mediator)


# Referral --------------------------------------------------------------------------


def test_the_assigned_judge_refers_a_dispatched_order_which_moves_to_in_progress(people):
    order = order_in_state(Status.DISPATCHED, people)

    case = refer(order, people["judge"], people["mediator"])

    order = refresh(order)
    assert order.status == Status.IN_PROGRESS
    event = order.events.get(action="refer_to_mediation")
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "refer_to_mediation",
        people["judge"],
        Status.DISPATCHED,
        Status.IN_PROGRESS,
    )
    assert event.data["case_number"] == case.number
    assert event.data["case"] == case.pk
    assert AuditEntry.objects.filter(action="work_order.refer_to_mediation", target_id=str(order.pk)).count() == 1
    assert (case.work_order, case.mediator, case.judge, case.status) == (
        order,
        people["mediator"],
        people["judge"],
        CaseStatus.PENDING,
    )
    assert case.cause_of_action == "合同纠纷"
    assert case.claim_amount == Decimal("500000")
    assert case.facts == ""
    assert list(case.events.values_list("action", flat=True)) == ["refer"]
    assert Notification.objects.filter(recipient=people["mediator"], kind="case.assigned").count() == 1


@pytest.mark.parametrize("state", [Status.DISPATCHED, Status.REOPENED])
def test_a_referred_order_that_was_not_yet_in_progress_is_taken_up(people, state):
    order = order_in_state(state, people)
    refer(order, people["liaison"], people["mediator"])
    assert refresh(order).status == Status.IN_PROGRESS


def test_the_general_liaison_refers_an_order_in_progress_which_stays_in_progress(people):
    order = order_in_state(Status.IN_PROGRESS, people)

    case = refer(order, people["liaison"], people["mediator"], facts="Unpaid fee for a video production.")

    order = refresh(order)
    assert order.status == Status.IN_PROGRESS
    event = order.events.get(action="refer_to_mediation")
    assert (event.action, event.from_status, event.to_status) == (
        "refer_to_mediation",
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
    )
    assert event.data["case_number"] == case.number
    # The order's judge supervises the case even when the liaison referred it.
    assert case.judge == people["judge"]
    assert case.facts == "Unpaid fee for a video production."


@time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI), tick=False)
def test_a_case_is_numbered_in_the_courts_style_with_a_30_day_deadline_and_three_rooms(people):
    first = refer(order_in_state(Status.DISPATCHED, people), people["judge"], people["mediator"])
    second = cases.open_mediation_case(actor=people["mediator"], cause_of_action="借款合同纠纷")

    numbers = [CASE_NUMBER.match(case.number) for case in (first, second)]
    assert all(numbers), (first.number, second.number)
    assert int(numbers[1].group(1)) == int(numbers[0].group(1)) + 1
    assert first.started_on == dt.date(2026, 3, 10)
    assert first.deadline == dt.date(2026, 4, 9)
    for case in (first, second):
        assert sorted(Room.objects.filter(case=case).values_list("kind", flat=True)) == sorted(RoomKind.values)
        assert not Room.objects.filter(case=case, closed_at__isnull=False).exists()


def test_the_court_code_in_the_case_number_is_configurable(people, settings):
    settings.COURT_CODE = "沪0101"
    case = cases.open_mediation_case(actor=people["mediator"], cause_of_action="合同纠纷")
    assert re.fullmatch(r"\(\d{4}\)沪0101民诉前调\d+号", case.number)


def test_the_order_page_and_the_api_show_the_referral(client, people):
    order = order_in_state(Status.DISPATCHED, people)
    case = refer(order, people["judge"], people["mediator"])
    client.force_login(people["judge"])

    page = client.get(reverse("work_order_detail", args=[order.number]))
    api = client.get(reverse("api_work_order", args=[order.number]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Referred to mediation" in html
    assert case.number in html
    assert reverse("case_detail", args=[case.pk]) in html
    assert api.status_code == 200
    body = api.json()
    assert body["status"] == Status.IN_PROGRESS
    assert "refer_to_mediation" in [entry["action"] for entry in body["timeline"]]
    assert body["mediation_cases"] == [{"number": case.number, "status": "pending"}]


def test_a_judge_refers_from_the_order_page(client, people):
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["judge"])

    response = client.post(
        reverse("work_order_action", args=[order.number, "refer_to_mediation"]),
        {
            "refer_to_mediation-mediator": people["mediator"].pk,
            "refer_to_mediation-cause_of_action": "合同纠纷",
            "refer_to_mediation-claim_amount": "500000",
            "refer_to_mediation-facts": "",
        },
    )

    assert response.status_code == 302
    case = MediationCase.objects.get(work_order=order)
    assert (case.mediator, case.judge) == (people["mediator"], people["judge"])
    assert refresh(order).status == Status.IN_PROGRESS


def test_a_referral_through_the_api_opens_the_case(client, people):
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["liaison"])

    response = client.post(
        reverse("api_work_order_action", args=[order.number, "refer_to_mediation"]),
        {"mediator": people["mediator"].pk, "cause_of_action": "合同纠纷"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.IN_PROGRESS
    assert MediationCase.objects.filter(work_order=order, mediator=people["mediator"]).count() == 1


@pytest.mark.parametrize("who", ["other_judge", "outside_judge", "head", "dept_liaison", "mediator", "nobody"])
def test_only_the_assigned_judge_or_the_general_liaison_may_refer(people, who):
    order = order_in_state(Status.DISPATCHED, people)
    before = (order.status, order.events.count(), AuditEntry.objects.count())

    with pytest.raises(ActionForbidden):
        refer(order, people[who], people["mediator"])

    order = refresh(order)
    assert (order.status, order.events.count(), AuditEntry.objects.count()) == before
    assert not MediationCase.objects.exists()
    assert not Room.objects.exists()


def test_the_department_head_is_refused_on_the_order_page(client, people):
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["head"])
    page = client.get(reverse("work_order_detail", args=[order.number]))
    assert "refer_to_mediation" not in page.context["action_forms"]

    response = client.post(
        reverse("work_order_action", args=[order.number, "refer_to_mediation"]),
        {"refer_to_mediation-mediator": people["mediator"].pk, "refer_to_mediation-cause_of_action": "合同纠纷"},
    )

    assert response.status_code == 403
    assert not MediationCase.objects.exists()
    assert refresh(order).status == Status.DISPATCHED


@pytest.mark.parametrize("state", [Status.RECEIVED, Status.RETURNED, Status.AWAITING_CONFIRMATION, Status.CLOSED])
def test_an_order_in_the_wrong_state_cannot_be_referred(people, state):
    order = order_in_state(state, people)
    before = (order.status, order.events.count(), AuditEntry.objects.count())

    with pytest.raises(TransitionNotAllowed):
        refer(order, people["liaison"], people["mediator"])

    order = refresh(order)
    assert (order.status, order.events.count(), AuditEntry.objects.count()) == before
    assert not MediationCase.objects.exists()


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("mediator", {"mediator": "judge"}),
        ("cause_of_action", {"cause_of_action": "  "}),
        ("claim_amount", {"claim_amount": Decimal("-1")}),
        ("judge", {"judge": "mediator"}),
    ],
)
def test_a_referral_with_bad_fields_is_refused_and_changes_nothing(people, field, fields):
    order = order_in_state(Status.DISPATCHED, people)
    arguments = {
        "order": order,
        "actor": people["liaison"],
        "mediator": people["mediator"],
        "cause_of_action": "合同纠纷",
    }
    arguments.update({key: people.get(value, value) for key, value in fields.items()})
    before = (order.status, order.events.count(), AuditEntry.objects.count())

    with pytest.raises(ValidationError) as error:
        cases.refer_to_mediation(**arguments)

    assert field in error.value.message_dict
    order = refresh(order)
    assert (order.status, order.events.count(), AuditEntry.objects.count()) == before
    assert not MediationCase.objects.exists()


# Opening directly -----------------------------------------------------------------


def test_a_mediator_opens_a_case_directly(people):
    case = cases.open_mediation_case(
        actor=people["mediator"], cause_of_action="合同纠纷", claim_amount=Decimal("1200.50"), judge=people["judge"]
    )

    assert (case.mediator, case.judge, case.work_order, case.status) == (
        people["mediator"],
        people["judge"],
        None,
        CaseStatus.PENDING,
    )
    assert list(case.events.values_list("action", "actor")) == [("open", people["mediator"].pk)]
    assert AuditEntry.objects.filter(action="mediation_case.open", target_id=str(case.pk)).count() == 1
    assert Room.objects.filter(case=case).count() == 3
    # The mediator opened it; nobody needs telling that it is theirs.
    assert not Notification.objects.filter(kind="case.assigned").exists()


@pytest.mark.parametrize("who", ["judge", "liaison", "head", "nobody"])
def test_only_a_mediator_may_open_a_case(people, who):
    audits = AuditEntry.objects.count()
    with pytest.raises(ActionForbidden):
        cases.open_mediation_case(actor=people[who], cause_of_action="合同纠纷")
    assert not MediationCase.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_a_mediator_opens_a_case_from_the_page(client, people):
    client.force_login(people["mediator"])
    response = client.post(
        reverse("case_new"), {"cause_of_action": "合同纠纷", "claim_amount": "500000", "judge": people["judge"].pk}
    )
    case = MediationCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert (case.mediator, case.judge) == (people["mediator"], people["judge"])


@pytest.mark.parametrize("who", ["judge", "liaison", "nobody"])
def test_the_new_case_page_is_refused_to_non_mediators(client, people, who):
    client.force_login(people[who])
    assert client.get(reverse("case_new")).status_code == 403
    assert client.post(reverse("case_new"), {"cause_of_action": "合同纠纷"}).status_code == 403
    assert not MediationCase.objects.exists()


# Parties -------------------------------------------------------------------------


@pytest.fixture
def case(people):
    return cases.open_mediation_case(actor=people["mediator"], cause_of_action="合同纠纷", judge=people["judge"])


def test_a_natural_person_is_a_party_with_a_valid_id_number(people, case):
    party = cases.add_party(
        case=case,
        actor=people["mediator"],
        side="plaintiff",
        kind="person",
        name=" Wang Xiaoming ",
        id_number="11010519491231002x",
        phone="13800000000",
        address="Chaoyang, Beijing",
        credit_code="ignored for a person",
    )
    assert (party.side, party.kind, party.name, party.id_number, party.credit_code) == (
        "plaintiff",
        "person",
        "Wang Xiaoming",
        VALID_ID_NUMBER,
        "",
    )
    assert case.events.filter(action="add_party").count() == 1


def test_an_organisation_is_a_party_with_a_valid_unified_social_credit_code(people, case):
    party = cases.add_party(
        case=case,
        actor=people["mediator"],
        side="defendant",
        kind="organisation",
        name="Beijing Tech Co., Ltd.",
        credit_code=VALID_CREDIT_CODE.lower(),
        legal_representative="Zhou Jie",
        id_number=VALID_ID_NUMBER,
    )
    assert (party.credit_code, party.legal_representative, party.id_number) == (VALID_CREDIT_CODE, "Zhou Jie", "")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "person", "id_number": "12345"}, "id_number"),
        ({"kind": "person", "id_number": "1101051949123100ZX"}, "id_number"),
        ({"kind": "person", "id_number": "11010519491231002XX"}, "id_number"),
        ({"kind": "organisation", "credit_code": "91310115MA1K3YJ12"}, "credit_code"),
        # I, O, S, V and Z are not used in the code.
        ({"kind": "organisation", "credit_code": "91310115MA1K3YJ12O"}, "credit_code"),
        ({"kind": "organisation", "credit_code": "9131011XMA1K3YJ12T"}, "credit_code"),
        ({"kind": "robot"}, "kind"),
        ({"side": "witness"}, "side"),
        ({"name": "   "}, "name"),
    ],
)
def test_a_party_with_invalid_details_is_refused_and_changes_nothing(people, case, fields, field):
    arguments = {"side": "plaintiff", "kind": "person", "name": "Wang Xiaoming", **fields}
    before = snapshot(case)

    with pytest.raises(ValidationError) as error:
        cases.add_party(case=case, actor=people["mediator"], **arguments)

    assert field in error.value.message_dict
    assert snapshot(case) == before
    assert not Party.objects.exists()


def test_the_page_shows_an_invalid_id_number_next_to_the_field(client, people, case):
    client.force_login(people["mediator"])
    response = client.post(
        reverse("case_action", args=[case.pk, "add_party"]),
        {
            "add_party-side": "plaintiff",
            "add_party-kind": "person",
            "add_party-name": "Wang",
            "add_party-id_number": "1",
        },
    )
    assert response.status_code == 400
    assert "id_number" in response.context["action_forms"]["add_party"].errors
    assert not Party.objects.exists()


@pytest.mark.parametrize("who", ["judge", "liaison", "nobody"])
def test_only_the_cases_mediator_adds_parties(people, case, who):
    before = snapshot(case)
    with pytest.raises(ActionForbidden):
        cases.add_party(case=case, actor=people[who], side="plaintiff", kind="person", name="Wang")
    assert snapshot(case) == before


def test_another_mediator_cannot_add_parties_to_someone_elses_case(people, case, filing):
    from mediation.roles import Role
    from tests.factories import staff

    other_mediator = staff(Role.MEDIATOR, filing)
    with pytest.raises(ActionForbidden):
        cases.add_party(case=case, actor=other_mediator, side="plaintiff", kind="person", name="Wang")
    assert not Party.objects.exists()


# Deadline extensions -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["judge", "liaison"])
def test_the_cases_judge_or_the_general_liaison_extends_the_deadline(people, case, who):
    previous = case.deadline
    # A day off moves to the next working day (case_deadlines.extended_deadline).
    new_deadline = next_working_day(previous + dt.timedelta(days=15))

    case = cases.extend_case_deadline(
        case=case, actor=people[who], new_deadline=new_deadline, reason=" The parties asked for time. "
    )

    assert refresh_case(case).deadline == new_deadline
    extension = case.extensions.get()
    assert (extension.previous_deadline, extension.new_deadline, extension.reason, extension.approved_by) == (
        previous,
        new_deadline,
        "The parties asked for time.",
        people[who],
    )
    event = case.events.get(action="extend")
    assert (event.actor, event.note, event.data) == (
        people[who],
        "The parties asked for time.",
        {"previous": previous.isoformat(), "new": new_deadline.isoformat()},
    )
    assert AuditEntry.objects.filter(action="mediation_case.extend", target_id=str(case.pk)).count() == 1


def refresh_case(case):
    return MediationCase.objects.get(pk=case.pk)


@pytest.mark.parametrize("who", ["mediator", "other_judge", "head", "dept_liaison", "nobody"])
def test_nobody_else_may_extend_the_deadline(people, case, who):
    before = snapshot(case)
    with pytest.raises(ActionForbidden):
        cases.extend_case_deadline(
            case=case, actor=people[who], new_deadline=case.deadline + dt.timedelta(days=5), reason="More time"
        )
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("days", "reason", "field"),
    [(0, "More time", "new_deadline"), (-3, "More time", "new_deadline"), (5, "  ", "reason")],
)
def test_an_extension_needs_a_later_deadline_and_a_reason(people, case, days, reason, field):
    before = snapshot(case)
    with pytest.raises(ValidationError) as error:
        cases.extend_case_deadline(
            case=case, actor=people["judge"], new_deadline=case.deadline + dt.timedelta(days=days), reason=reason
        )
    assert field in error.value.message_dict
    assert snapshot(case) == before


def test_a_closed_case_cannot_be_extended(people, case):
    cases.withdraw_case(case=case, actor=people["mediator"], reason="The plaintiff withdrew.")
    before = snapshot(case)
    with pytest.raises(TransitionNotAllowed):
        cases.extend_case_deadline(
            case=case, actor=people["judge"], new_deadline=case.deadline + dt.timedelta(days=5), reason="More time"
        )
    assert snapshot(case) == before


def test_the_judge_extends_from_the_case_page(client, people, case):
    client.force_login(people["judge"])
    new_deadline = case.deadline + dt.timedelta(days=10)
    page = client.get(reverse("case_detail", args=[case.pk]))
    assert "extend" in page.context["action_forms"]
    assert "invite" not in page.context["action_forms"]

    response = client.post(
        reverse("case_action", args=[case.pk, "extend"]),
        {"extend-new_deadline": new_deadline.isoformat(), "extend-reason": "Expert opinion pending"},
    )

    assert response.status_code == 302
    assert refresh_case(case).deadline == next_working_day(new_deadline)


def test_the_mediator_is_refused_an_extension_on_the_page(client, people, case):
    client.force_login(people["mediator"])
    response = client.post(
        reverse("case_action", args=[case.pk, "extend"]),
        {"extend-new_deadline": (case.deadline + dt.timedelta(days=10)).isoformat(), "extend-reason": "More"},
    )
    assert response.status_code == 403
    assert refresh_case(case).deadline == case.deadline


# Outcomes -----------------------------------------------------------------------


def test_settling_records_the_outcome_and_leaves_the_answer_to_the_orders_judge(people, referred):
    order = referred.work_order
    in_mediation(referred, people["mediator"])

    case = cases.settle_case(
        case=referred, actor=people["mediator"], note="The defendant pays 400,000 yuan.", data={"agreement": 7}
    )

    case = refresh_case(case)
    assert (case.status, case.outcome_note) == (CaseStatus.SETTLED, "The defendant pays 400,000 yuan.")
    assert case.concluded_at is not None
    order = refresh(order)
    # Nobody answered the requester: no reply is recorded and the order stays in progress.
    assert order.status == Status.IN_PROGRESS
    assert order.replied_at is None
    assert not order.replies.exists()
    # The order's outcome is the general liaison's to confirm.
    assert order.outcome == ""
    event = order.events.latest("id")
    assert (event.action, event.from_status, event.to_status, event.note) == (
        "mediation_outcome",
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
        "The defendant pays 400,000 yuan.",
    )
    assert event.data == {"case": case.pk, "case_number": case.number, "outcome": "settled", "agreement": 7}
    told = set(Notification.objects.filter(kind="case.concluded").values_list("recipient", flat=True))
    assert told == {people["liaison"].pk, people["dept_liaison"].pk, people["head"].pk}
    asked = Notification.objects.filter(kind="case.concluded.answer_requester").values_list("recipient", flat=True)
    assert list(asked) == [people["judge"].pk]
    assert case.events.filter(action="settle").count() == 1
    # The judge answers the requester; the order then goes the usual way to closing.
    order_services.reply_to_requester(order=order, actor=people["judge"], content="Settled.", channel="phone")
    order_services.submit_for_confirmation(order=order, actor=people["dept_liaison"])
    order_services.close_work_order(order=order, actor=people["liaison"], outcome="Settled in mediation.")
    assert refresh(order).status == Status.CLOSED


def test_settling_a_case_whose_order_was_already_answered_awaits_confirmation(people, referred):
    order = referred.work_order
    order_services.reply_to_requester(order=order, actor=people["judge"], content="Mediation opened.", channel="phone")
    in_mediation(referred, people["mediator"])

    cases.settle_case(case=referred, actor=people["mediator"], note="Settled.")

    order = refresh(order)
    assert order.status == Status.AWAITING_CONFIRMATION
    assert order.replies.count() == 1
    event = order.events.latest("id")
    assert (event.action, event.from_status) == ("mediation_outcome", Status.REPLIED)


def assert_the_work_order_is_locked_after_the_case_and_before_the_audit_chain(queries):
    """As the order's own actions lock them: taken after the chain, a clerk's action on
    the order could deadlock with the case's change."""
    locked = tables_locked(queries)
    assert (
        locked.index("mediation_mediationcase")
        < locked.index("mediation_workorder")
        < locked.index("mediation_auditchainhead")
    )


def test_settling_a_case_locks_its_work_order_before_the_audit_chain(postgres, people, referred):
    in_mediation(referred, people["mediator"])

    with CaptureQueriesContext(postgres) as queries:
        cases.settle_case(case=referred, actor=people["mediator"], note="Settled.")

    assert_the_work_order_is_locked_after_the_case_and_before_the_audit_chain(queries)


def test_filing_a_failed_case_locks_its_work_order_before_the_audit_chain(postgres, people, referred):
    cases.fail_case(case=referred, actor=people["mediator"], reason="No agreement.")

    with CaptureQueriesContext(postgres) as queries:
        cases.transfer_to_filing(case=referred, actor=people["judge"], filed_case_number="(2026)京0107民初456号")

    assert_the_work_order_is_locked_after_the_case_and_before_the_audit_chain(queries)


def test_settling_is_a_service_only_not_a_page_action(client, people, referred):
    in_mediation(referred, people["mediator"])
    client.force_login(people["mediator"])
    response = client.post(reverse("case_action", args=[referred.pk, "settle"]), {"settle-note": "Done"})
    assert response.status_code == 404
    assert refresh_case(referred).status == CaseStatus.IN_MEDIATION


def test_a_pending_case_cannot_be_settled(people, referred):
    before = snapshot(referred)
    with pytest.raises(TransitionNotAllowed):
        cases.settle_case(case=referred, actor=people["mediator"], note="Settled.")
    assert snapshot(referred) == before


@pytest.mark.parametrize(
    ("service", "status"),
    [(cases.fail_case, CaseStatus.FAILED), (cases.withdraw_case, CaseStatus.WITHDRAWN)],
)
@pytest.mark.parametrize("started", [False, True])
def test_failing_or_withdrawing_records_the_reason_on_the_orders_timeline_without_moving_it(
    people, referred, service, status, started
):
    if started:
        in_mediation(referred, people["mediator"])
    order = referred.work_order

    service(case=referred, actor=people["mediator"], reason=" The defendant refuses to talk. ")

    case = refresh_case(referred)
    assert (case.status, case.outcome_note) == (status, "The defendant refuses to talk.")
    order = refresh(order)
    assert order.status == Status.IN_PROGRESS
    assert order.outcome == ""
    event = order.events.latest("id")
    assert (event.action, event.from_status, event.to_status, event.note) == (
        "mediation_outcome",
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
        "The defendant refuses to talk.",
    )
    assert event.data["outcome"] == status
    assert Notification.objects.filter(kind="case.concluded", recipient=people["liaison"]).count() == 1


@pytest.mark.parametrize("service", [cases.fail_case, cases.withdraw_case])
def test_failing_or_withdrawing_needs_a_reason(people, referred, service):
    before = snapshot(referred)
    with pytest.raises(ValidationError) as error:
        service(case=referred, actor=people["mediator"], reason="   ")
    assert "reason" in error.value.message_dict
    assert snapshot(referred) == before


def test_a_case_without_a_work_order_concludes_on_its_own(people, case):
    cases.fail_case(case=case, actor=people["mediator"], reason="No agreement.")
    assert refresh_case(case).status == CaseStatus.FAILED
    assert not WorkOrderEvent.objects.filter(action="mediation_outcome").exists()


@pytest.mark.parametrize("who", ["judge", "liaison", "other_judge", "nobody"])
@pytest.mark.parametrize("action", ["settle", "fail", "withdraw"])
def test_only_the_cases_mediator_records_the_outcome(people, referred, who, action):
    in_mediation(referred, people["mediator"])
    before = snapshot(referred)
    with pytest.raises(ActionForbidden):
        if action == "settle":
            cases.settle_case(case=referred, actor=people[who], note="Settled.")
        elif action == "fail":
            cases.fail_case(case=referred, actor=people[who], reason="No agreement.")
        else:
            cases.withdraw_case(case=referred, actor=people[who], reason="Withdrawn.")
    assert snapshot(referred) == before


@pytest.mark.parametrize("ended_by", ["settle", "fail", "withdraw"])
def test_an_ended_case_cannot_end_again(people, referred, ended_by):
    in_mediation(referred, people["mediator"])
    mediator = people["mediator"]
    {
        "settle": lambda: cases.settle_case(case=referred, actor=mediator, note="Settled."),
        "fail": lambda: cases.fail_case(case=referred, actor=mediator, reason="No agreement."),
        "withdraw": lambda: cases.withdraw_case(case=referred, actor=mediator, reason="Withdrawn."),
    }[ended_by]()
    before = snapshot(referred)

    for attempt in (
        lambda: cases.settle_case(case=referred, actor=mediator, note="Again"),
        lambda: cases.fail_case(case=referred, actor=mediator, reason="Again"),
        lambda: cases.withdraw_case(case=referred, actor=mediator, reason="Again"),
        lambda: cases.start_mediation(case=referred, actor=mediator),
    ):
        with pytest.raises(TransitionNotAllowed):
            attempt()

    assert snapshot(referred) == before


@pytest.mark.parametrize("who", ["mediator", "judge", "liaison"])
def test_a_failed_mediation_is_filed_as_an_ordinary_case(people, referred, who):
    cases.fail_case(case=referred, actor=people["mediator"], reason="No agreement.")
    order = referred.work_order

    case = cases.transfer_to_filing(case=referred, actor=people[who], filed_case_number=" （2026）京0107民初456号 ")

    case = refresh_case(case)
    assert case.status == CaseStatus.FAILED
    assert case.filed_case_number == "(2026)京0107民初456号"
    assert case.filed_at is not None
    event = refresh(order).events.latest("id")
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "transfer_to_filing",
        people[who],
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
    )
    assert event.data == {
        "case": case.pk,
        "case_number": case.number,
        "filed_case_number": "(2026)京0107民初456号",
    }
    assert case.events.filter(action="transfer_to_filing").count() == 1


@pytest.mark.parametrize("state", ["pending", "in_mediation", "settled", "withdrawn"])
def test_only_a_failed_mediation_can_be_filed(people, referred, state):
    mediator = people["mediator"]
    if state in ("in_mediation", "settled"):
        in_mediation(referred, mediator)
    if state == "settled":
        cases.settle_case(case=referred, actor=mediator, note="Settled.")
    if state == "withdrawn":
        cases.withdraw_case(case=referred, actor=mediator, reason="Withdrawn.")
    before = snapshot(referred)

    with pytest.raises(TransitionNotAllowed):
        cases.transfer_to_filing(case=referred, actor=people["judge"], filed_case_number="(2026)京0107民初456号")

    assert snapshot(referred) == before


def test_a_case_is_filed_once_and_needs_the_new_number(people, referred):
    cases.fail_case(case=referred, actor=people["mediator"], reason="No agreement.")
    before = snapshot(referred)
    with pytest.raises(ValidationError):
        cases.transfer_to_filing(case=referred, actor=people["judge"], filed_case_number="  ")
    assert snapshot(referred) == before

    cases.transfer_to_filing(case=referred, actor=people["judge"], filed_case_number="(2026)京0107民初456号")
    before = snapshot(referred)
    with pytest.raises(TransitionNotAllowed):
        cases.transfer_to_filing(case=referred, actor=people["judge"], filed_case_number="(2026)京0107民初457号")
    assert snapshot(referred) == before
    assert refresh_case(referred).filed_case_number == "(2026)京0107民初456号"


@pytest.mark.parametrize("who", ["other_judge", "head", "nobody"])
def test_strangers_to_the_case_cannot_file_it(people, referred, who):
    cases.fail_case(case=referred, actor=people["mediator"], reason="No agreement.")
    before = snapshot(referred)
    with pytest.raises(ActionForbidden):
        cases.transfer_to_filing(case=referred, actor=people[who], filed_case_number="(2026)京0107民初456号")
    assert snapshot(referred) == before


def test_the_case_page_offers_the_mediator_the_outcomes_but_not_settlement(client, people, referred):
    client.force_login(people["mediator"])
    actions = list(client.get(reverse("case_detail", args=[referred.pk])).context["action_forms"])
    assert {"start", "add_party", "schedule", "fail", "withdraw"} <= set(actions)
    # A referred case has no party yet: one is added before anyone can be invited.
    assert "invite" not in actions
    assert "settle" not in actions
    assert "transfer_to_filing" not in actions
    assert "extend" not in actions

    response = client.post(reverse("case_action", args=[referred.pk, "fail"]), {"fail-reason": ""})
    assert response.status_code == 400
    assert refresh_case(referred).status == CaseStatus.PENDING

    response = client.post(
        reverse("case_action", args=[referred.pk, "fail"]),
        {"fail-reason": "No agreement", "fail-no_undisputed_facts": "on"},
    )
    assert response.status_code == 302
    assert refresh_case(referred).status == CaseStatus.FAILED
    actions = list(client.get(reverse("case_detail", args=[referred.pk])).context["action_forms"])
    assert actions == ["transfer_to_filing"]


def test_a_wrong_state_on_the_case_page_is_a_409_with_a_message(client, people, referred):
    client.force_login(people["judge"])
    response = client.post(
        reverse("case_action", args=[referred.pk, "transfer_to_filing"]),
        {"transfer_to_filing-filed_case_number": "(2026)京0107民初456号"},
    )
    assert response.status_code == 409
    assert "is not possible now" in response.content.decode()
    assert refresh_case(referred).filed_case_number == ""


# Participants ---------------------------------------------------------------------


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


def test_the_mediator_removes_a_participant_with_a_reason(people, world):
    participant = cases.remove_participant(
        participant=world.plaintiff_participant, actor=people["mediator"], reason=" Revoked power of attorney "
    )

    participant = Participant.objects.get(pk=participant.pk)
    assert participant.removed_at is not None
    assert (participant.removed_by, participant.removal_reason) == (people["mediator"], "Revoked power of attorney")
    assert not Participant.active.filter(pk=participant.pk).exists()
    event = CaseEvent.objects.filter(case=world.case, action="remove_participant").get()
    assert (event.note, event.data) == ("Revoked power of attorney", {"participant": participant.pk})
    assert Notification.objects.filter(recipient=world.plaintiff, kind="case.removed").count() == 1
    # Their rights end with the participation.
    assert case_selectors.case_for(world.plaintiff, world.case.pk) is None
    assert case_selectors.case_for(world.defendant, world.case.pk) is not None


def test_removing_a_participant_needs_a_reason(people, world):
    before = snapshot(world.case)
    with pytest.raises(ValidationError):
        cases.remove_participant(participant=world.plaintiff_participant, actor=people["mediator"], reason=" ")
    assert snapshot(world.case) == before


@pytest.mark.parametrize("who", ["judge", "liaison", "nobody"])
def test_only_the_mediator_removes_participants(people, world, who):
    before = snapshot(world.case)
    with pytest.raises(PermissionDenied):
        cases.remove_participant(participant=world.plaintiff_participant, actor=people[who], reason="Because")
    assert snapshot(world.case) == before


def test_a_party_cannot_remove_the_other_sides_participant(world):
    before = snapshot(world.case)
    with pytest.raises(ActionForbidden):
        cases.remove_participant(participant=world.defendant_participant, actor=world.plaintiff, reason="Rude")
    assert snapshot(world.case) == before


def test_a_participant_is_removed_once(people, world):
    cases.remove_participant(participant=world.plaintiff_participant, actor=people["mediator"], reason="Gone")
    before = snapshot(world.case)
    with pytest.raises(TransitionNotAllowed):
        cases.remove_participant(participant=world.plaintiff_participant, actor=people["mediator"], reason="Again")
    assert snapshot(world.case) == before


def test_the_mediator_removes_a_participant_from_the_page(client, people, world):
    client.force_login(people["mediator"])
    url = reverse("case_action", args=[world.case.pk, "remove_participant"])

    refused = client.post(url, {"remove_participant-participant": world.defendant_participant.pk})
    done = client.post(
        url, {"remove_participant-participant": world.defendant_participant.pk, "remove_participant-reason": "Left"}
    )
    again = client.post(
        url, {"remove_participant-participant": world.defendant_participant.pk, "remove_participant-reason": "Left"}
    )

    assert refused.status_code == 400
    assert done.status_code == 302
    # A removed participant is no longer offered, so the second try is a form error.
    assert again.status_code == 400
    assert Participant.objects.filter(case=world.case, removed_at__isnull=False).count() == 1
