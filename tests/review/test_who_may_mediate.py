"""Review of issue 20: the case's judge, or someone taking part in the case for a party,
never becomes its mediator, however the mediator is chosen."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from mediation.models import MediationCase, WorkOrder
from mediation.roles import Role
from mediation.services import delegation as services
from tests.delegations import delegate_order, organisation
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db


def test_the_court_cannot_assign_the_cases_own_judge_as_its_mediator(people):
    judge = people["judge"]
    judge.groups.add(Group.objects.get_or_create(name=Role.MEDIATOR)[0])
    delegated = delegate_order(order_in_state(WorkOrder.Status.IN_PROGRESS, people), judge, organisation())

    with pytest.raises(ValidationError) as refused:
        services.assign_mediator(case=delegated.case, actor=people["liaison"], mediator=judge)

    assert "mediator" in refused.value.message_dict
    case = MediationCase.objects.get(pk=delegated.case_id)
    assert (case.status, case.mediator) == (MediationCase.Status.DELEGATED, None)


def test_a_case_is_not_opened_with_its_judge_as_its_mediator(people):
    from mediation.services import cases

    judge = people["judge"]
    judge.groups.add(Group.objects.get_or_create(name=Role.MEDIATOR)[0])

    with pytest.raises(ValidationError) as refused:
        cases.open_mediation_case(actor=judge, cause_of_action="合同纠纷", claim_amount=1000, judge=judge)

    assert "mediator" in refused.value.message_dict
    assert not MediationCase.objects.exists()
