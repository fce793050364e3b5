"""Review of issue 20: the letter of delegation reaches the mediator who has the case,
not one the case was taken from."""

import pytest
from django.urls import reverse

from mediation.models import MediationCase, WorkOrder
from mediation.roles import Role
from mediation.services import cases
from mediation.services import delegation as services
from mediation.services.recusal import decide_recusal, request_recusal
from tests.delegations import delegate_order, organisation, organisation_admin, roster_mediator
from tests.factories import UserFactory, staff
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db


def test_a_mediator_replaced_on_recusal_no_longer_reads_the_letter_of_delegation(client, people):
    org = organisation()
    admin = organisation_admin(org, full_name="Org Admin")
    first = roster_mediator(org, full_name="Roster Mediator")
    delegated = delegate_order(order_in_state(WorkOrder.Status.IN_PROGRESS, people), people["judge"], org)
    services.dispatch_delegation(case=delegated.case, actor=admin, mediator=first)
    case = services.accept_delegation(case=MediationCase.objects.get(pk=delegated.case_id), actor=first)
    party = cases.add_party(case=case, actor=first, side="plaintiff", kind="organisation", name="Shanghai Co.")
    plaintiff = UserFactory(full_name="Plaintiff")
    cases.attach_participant(case=case, party=party, user=plaintiff, role="party", actor=first)
    client.force_login(first)
    assert client.get(reverse("delegation_letter_pdf", args=[delegated.pk])).status_code == 200

    request = request_recusal(case=case, actor=plaintiff, reason="He advised the defendant.")
    decide_recusal(
        request=request,
        actor=people["judge"],
        grant=True,
        note="Granted.",
        new_mediator=staff(Role.MEDIATOR, None, full_name="Zhou Ping"),
    )

    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("delegation_letter_pdf", args=[delegated.pk])).status_code == 404
    client.force_login(people["judge"])
    assert client.get(reverse("delegation_letter_pdf", args=[delegated.pk])).status_code == 200
