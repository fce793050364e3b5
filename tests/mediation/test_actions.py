"""The work-order and case actions: one mechanism (`mediation.actions`), one table per
subject. Every action is complete (label, rule, form, service), and a page offers
exactly the actions its viewer may take now."""

import re

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from mediation import policy
from mediation.actions.cases import CASE_ACTIONS
from mediation.actions.work_orders import WORK_ORDER_ACTIONS
from mediation.models import MediationCase, WorkOrder
from mediation.services import cases
from mediation.services import work_orders as order_services
from tests.cases import make_case
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status
CaseStatus = MediationCase.Status

ACTION_LINK = re.compile(r'<form method="post" action="[^"]*/do/([a-z_]+)/"')


def offered_on_page(client, user, url) -> list[str] | None:
    """The actions a page offers its viewer, in page order; None if they cannot open it."""
    client.force_login(user)
    response = client.get(url)
    if response.status_code == 404:
        return None
    assert response.status_code == 200
    return ACTION_LINK.findall(response.content.decode())


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


def expected_case_actions(user, case) -> list[str]:
    return [
        name
        for name in CASE_ACTIONS
        if case.allows(CASE_ACTIONS[name].rule) and policy.can_on_case(user, CASE_ACTIONS[name].rule, case)
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
        assert offered == expected_case_actions(user, world.case), who
    # The parties' people never see a staff action.
    assert offered_on_page(client, world.plaintiff, url) == []
