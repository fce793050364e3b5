"""The work-order and case actions: one mechanism (`mediation.actions`), one table per
subject. Every action is complete (label, rule, form, service), and a page offers
exactly the actions its viewer may take now."""

import datetime as dt
import re

import pytest
from django import forms
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from mediation import policy
from mediation.actions.cases import CASE_ACTIONS, PARTY_ACTIONS
from mediation.actions.work_orders import WORK_ORDER_ACTIONS
from mediation.errors import TransitionNotAllowed
from mediation.models import Invitation, MediationCase, MediationSession, WorkOrder
from mediation.selectors.cases import open_invitations, sessions_open_to
from mediation.services import cases, invitations, sessions
from mediation.services import work_orders as order_services
from tests.cases import make_case
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status
CaseStatus = MediationCase.Status

ACTION_LINK = re.compile(r'<form method="post" action="[^"]*/do/([a-z_]+)/"')


def in_hours(hours: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=hours)


def offered_on_page(client, user, url) -> list[str] | None:
    """The actions a page offers its viewer, in page order; None if they cannot open it."""
    client.force_login(user)
    response = client.get(url)
    if response.status_code == 404:
        return None
    assert response.status_code == 200
    return [name for name in ACTION_LINK.findall(response.content.decode()) if name not in PARTY_ACTIONS]


def offered_with_parties(client, user, url) -> set[str]:
    """The party actions (correct, remove) a case page offers with its parties."""
    client.force_login(user)
    return {name for name in ACTION_LINK.findall(client.get(url).content.decode()) if name in PARTY_ACTIONS}


def state_machine_actions(model) -> set[str]:
    return set(model.TRANSITIONS) | set(model.ACTION_STATES)


@pytest.mark.parametrize(
    "registry, ruleset, model",
    [
        (WORK_ORDER_ACTIONS, policy.work_order_rules, WorkOrder),
        (CASE_ACTIONS, policy.case_rules, MediationCase),
    ],
    ids=["work order", "case"],
)
def test_every_action_has_a_translated_label_a_rule_a_form_and_a_service(registry, ruleset, model):
    assert len(registry) > 0
    for action in registry.actions():
        assert action.name in registry and registry[action.name] is action
        assert ruleset.rule_exists(action.rule), action.name
        # The rule names a state-machine action too: the state decides when, the rule who.
        assert action.rule in state_machine_actions(model), action.name
        assert issubclass(action.form_class, forms.Form), action.name
        assert callable(action.perform), action.name
        for text in (action.label, action.confirm):
            if text is None:
                continue
            with translation.override("en"):
                english = str(text)
            with translation.override("zh-hans"):
                chinese = str(text)
            assert english and chinese != english, f"{action.name}: “{english}” is not translated"


def test_an_action_outside_the_table_is_not_found(client, people):
    order = order_in_state(Status.DISPATCHED, people)
    client.force_login(people["liaison"])
    assert client.post(reverse("work_order_action", args=[order.number, "reopen"]), {}).status_code == 404
    world = make_case(people["mediator"], people["judge"])
    client.force_login(people["mediator"])
    assert client.post(reverse("case_action", args=[world.case.pk, "settle"]), {}).status_code == 404


def expected_order_actions(user, order) -> list[str]:
    # Written from the policy and the state machine, not from the registry's own check.
    return [name for name in WORK_ORDER_ACTIONS if order.allows(name) and policy.can(user, name, order)]


@pytest.mark.parametrize(
    "state",
    [
        Status.RECEIVED,
        Status.DISPATCHED,
        Status.RETURNED,
        Status.IN_PROGRESS,
        "paused",
        Status.REPLIED,
        Status.AWAITING_CONFIRMATION,
        Status.CLOSED,
        Status.REOPENED,
    ],
)
def test_the_order_page_offers_exactly_the_actions_the_rules_allow(client, people, state):
    if state == "paused":
        order = order_in_state(Status.IN_PROGRESS, people)
        order_services.pause_work_order(order=order, actor=people["judge"], reason="Waiting for papers")
        order.refresh_from_db()
    else:
        order = order_in_state(state, people)
    url = reverse("work_order_detail", args=[order.number])
    offered_to_someone = False
    for who, user in people.items():
        offered = offered_on_page(client, user, url)
        if offered is None:
            assert not policy.can(user, "view", order), who
            continue
        assert offered == expected_order_actions(user, order), who
        offered_to_someone |= bool(offered)
    # Every state but the last has someone who can move the order on.
    assert offered_to_someone


def case_in_state(state, people):
    world = make_case(people["mediator"], people["judge"])
    case = world.case
    if state == CaseStatus.IN_MEDIATION:
        cases.start_mediation(case=case, actor=people["mediator"])
    elif state == CaseStatus.FAILED:
        cases.fail_case(case=case, actor=people["mediator"], reason="No agreement")
    elif state == CaseStatus.WITHDRAWN:
        cases.withdraw_case(case=case, actor=people["mediator"], reason="Applicant withdrew")
    elif state == CaseStatus.SETTLED:
        # Settling goes through signing the agreement (documents); only the state matters here.
        cases.start_mediation(case=case, actor=people["mediator"])
        MediationCase.objects.filter(pk=case.pk).update(status=CaseStatus.SETTLED)
    world.case = MediationCase.objects.get(pk=case.pk)
    return world


# The worlds of `case_in_state` have parties and participants but no session and no
# invitation yet: nothing to start, end, cancel or withdraw; no supervision notice to
# answer and no application to replace the mediator to decide.
NOTHING_TO_PICK = {
    "revoke_invitation",
    "start_session",
    "end_session",
    "cancel_session",
    "answer_supervision",
    "decide_recusal",
}
# What a party's people may do from the case page: ask for another mediator.
PARTY_PAGE_ACTIONS = {"request_recusal"}


def expected_case_actions(user, case) -> list[str]:
    return [
        name
        for name in CASE_ACTIONS
        if name not in NOTHING_TO_PICK
        and case.allows(CASE_ACTIONS[name].rule)
        and policy.can_on_case(user, CASE_ACTIONS[name].rule, case)
    ]


@pytest.mark.parametrize("state", list(CaseStatus))
def test_the_case_page_offers_exactly_the_actions_the_rules_allow(client, people, state):
    world = case_in_state(state, people)
    viewers = {**people, "plaintiff": world.plaintiff, "defendant": world.defendant}
    url = reverse("case_detail", args=[world.case.pk])
    for who, user in viewers.items():
        offered = offered_on_page(client, user, url)
        if offered is None:
            assert not policy.can_on_case(user, "view", world.case), who
            continue
        expected = expected_case_actions(user, world.case)
        # The party actions are offered with each party (tests/mediation/test_parties.py),
        # the others in the list of actions, in the registry's order.
        assert offered == [name for name in expected if name not in PARTY_ACTIONS], who
        assert offered_with_parties(client, user, url) == set(expected) & set(PARTY_ACTIONS), who
    # The parties' people never see a staff action.
    assert set(offered_on_page(client, world.plaintiff, url)) <= PARTY_PAGE_ACTIONS


# Only what is valid now (issue 23) ------------------------------------------------


def test_the_mediator_is_offered_only_the_steps_that_exist_now(client, people):
    world = case_in_state(CaseStatus.PENDING, people)
    mediator, url = world.mediator, reverse("case_detail", args=[world.case.pk])

    # A new case: no session to start, end or cancel, no invitation to withdraw.
    assert offered_on_page(client, mediator, url) == [
        "start",
        "add_party",
        "invite",
        "schedule",
        "remove_participant",
        "fail",
        "withdraw",
    ]

    invitation, _token = invitations.invite_participant(
        case=world.case,
        actor=mediator,
        party=world.plaintiff_participant.party,
        role="agent",
        full_name="Wang",
        phone="13800138000",
    )
    first = sessions.schedule_session(case=world.case, actor=mediator, starts_at=in_hours(24))
    second = sessions.schedule_session(case=world.case, actor=mediator, starts_at=in_hours(48))
    offered = offered_on_page(client, mediator, url)
    assert {"revoke_invitation", "start_session", "cancel_session"} <= set(offered)
    assert "end_session" not in offered

    sessions.start_session(session=first, actor=mediator)
    offered = offered_on_page(client, mediator, url)
    assert {"start_session", "end_session", "cancel_session"} <= set(offered)
    # Each step lists only the sessions it can take.
    assert session_choices_of(client, url, "end_session") == [first.pk]
    assert session_choices_of(client, url, "start_session") == [second.pk]
    assert session_choices_of(client, url, "cancel_session") == [second.pk]

    sessions.cancel_session(session=second, actor=mediator)
    invitations.revoke_invitation(invitation=invitation, actor=mediator)
    offered = offered_on_page(client, mediator, url)
    assert "end_session" in offered
    assert not {"start_session", "cancel_session", "revoke_invitation"} & set(offered)

    sessions.end_session(session=first, actor=mediator)
    assert not {"start_session", "end_session", "cancel_session"} & set(offered_on_page(client, mediator, url))


def session_choices_of(client, url, action):
    form = client.get(url).context["action_forms"][action]
    return [value.value for value, _label in form.fields["session"].choices if value]


def test_a_case_without_parties_offers_no_invitation_and_no_removal(client, people):
    case = cases.open_mediation_case(actor=people["mediator"], cause_of_action="合同纠纷", claim_amount=1000)
    offered = offered_on_page(client, people["mediator"], reverse("case_detail", args=[case.pk]))
    assert "invite" not in offered and "remove_participant" not in offered
    assert "add_party" in offered


def test_a_stale_page_still_gets_the_services_reason(client, people):
    # The page offered the session while it could be started; someone started it since.
    world = case_in_state(CaseStatus.PENDING, people)
    session = sessions.schedule_session(case=world.case, actor=world.mediator, starts_at=in_hours(24))
    sessions.start_session(session=session, actor=world.mediator)
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "start_session"]), {"start_session-session": session.pk}
    )
    assert response.status_code == 409
    assert "already started" in response.content.decode()


SESSION_ROWS = ["scheduled", "started", "ended", "cancelled"]


def session_in(world, row):
    session = sessions.schedule_session(case=world.case, actor=world.mediator, starts_at=in_hours(24))
    if row in ("started", "ended"):
        sessions.start_session(session=session, actor=world.mediator)
    if row == "ended":
        sessions.end_session(session=session, actor=world.mediator)
    if row == "cancelled":
        sessions.cancel_session(session=session, actor=world.mediator)
    return MediationSession.objects.get(pk=session.pk)


@pytest.mark.parametrize("row", SESSION_ROWS)
@pytest.mark.parametrize("step", ["start", "end", "cancel"])
def test_the_sessions_a_step_is_offered_are_those_its_service_accepts(people, row, step):
    world = case_in_state(CaseStatus.IN_MEDIATION, people)
    session = session_in(world, row)
    offered = sessions_open_to(world.case, step).filter(pk=session.pk).exists()
    service = {"start": sessions.start_session, "end": sessions.end_session, "cancel": sessions.cancel_session}[step]
    try:
        with transaction.atomic():
            service(session=session, actor=world.mediator)
            raise _RollBack
    except _RollBack:
        accepted = True
    except TransitionNotAllowed:
        accepted = False
    assert offered == accepted


class _RollBack(Exception):
    pass


@pytest.mark.parametrize("row", ["open", "accepted", "revoked", "expired", "locked"])
def test_the_invitations_offered_for_withdrawal_are_the_open_ones(people, row):
    world = case_in_state(CaseStatus.PENDING, people)
    invitation, _token = invitations.invite_participant(
        case=world.case,
        actor=world.mediator,
        party=world.plaintiff_participant.party,
        role="agent",
        full_name="Wang",
        phone="13800138000",
    )
    if row == "accepted":
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    elif row == "revoked":
        invitations.revoke_invitation(invitation=invitation, actor=world.mediator)
    elif row == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    elif row == "locked":
        Invitation.objects.filter(pk=invitation.pk).update(wrong_id_numbers=Invitation.MAX_WRONG_ID_NUMBERS)
    invitation.refresh_from_db()
    assert open_invitations(world.case).filter(pk=invitation.pk).exists() == (invitation.state() == "open")
    assert (invitation.state() == "open") == (row == "open")
