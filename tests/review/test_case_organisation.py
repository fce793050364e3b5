"""Review of issue 20: a case's organisation is the one whose mediator mediates it,
by whichever way the mediator changed."""

import pytest
from django.urls import reverse

from mediation.models import MediationCase
from mediation.roles import Role
from mediation.services.recusal import decide_recusal, request_recusal
from tests.cases import make_case
from tests.delegations import organisation, organisation_admin, roster_mediator
from tests.factories import staff

pytestmark = pytest.mark.django_db


def test_a_recusal_granted_to_a_court_mediator_takes_the_case_from_the_old_organisation(people, client):
    org = organisation()
    admin = organisation_admin(org, full_name="Org Admin")
    world = make_case(roster_mediator(org, full_name="Roster Mediator"), people["judge"])
    assert MediationCase.objects.get(pk=world.case.pk).organisation == org
    court_mediator = staff(Role.MEDIATOR, None, full_name="Zhou Ping")
    request = request_recusal(case=world.case, actor=world.plaintiff, reason="He advised the defendant.")

    decide_recusal(request=request, actor=people["judge"], grant=True, note="Granted.", new_mediator=court_mediator)

    case = MediationCase.objects.get(pk=world.case.pk)
    assert (case.mediator, case.organisation) == (court_mediator, None)
    client.force_login(admin)
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 404
