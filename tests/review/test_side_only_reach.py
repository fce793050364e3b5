"""Review of issue 20: facts of one party stay with that party's people (and the
court), by every channel."""

import pytest
from django.urls import reverse

from documents.models.in_person import InPersonAct
from tests.cases import make_case
from tests.in_person import record
from tests.participants import add_third_party, join

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


def test_a_third_partys_consent_scan_reaches_neither_side_nor_another_third_party(world, people, client):
    third = add_third_party(world, name="Hangzhou Logistics")
    other_third = add_third_party(world, name="Ningbo Shipping")
    own = join(world, third, "party", "钱经理").user
    stranger = join(world, other_third, "party", "孙经理").user
    act = record(world, kind=InPersonAct.Kind.CONSENT, party=third)

    for outsider in (world.plaintiff, world.defendant, stranger):
        client.force_login(outsider)
        assert client.get(reverse("in_person_scan", args=[act.pk])).status_code == 404
        assert client.get(reverse("document_file", args=[act.scan_id])).status_code == 404
    client.force_login(own)
    assert client.get(reverse("in_person_scan", args=[act.pk])).status_code == 200
    client.force_login(people["judge"])
    assert client.get(reverse("in_person_scan", args=[act.pk])).status_code == 200


def test_a_third_partys_agents_power_of_attorney_stays_with_that_third_party(world, client):
    from documents.services.powers_of_attorney import submit_power_of_attorney
    from tests.cases import power_of_attorney_pdf

    third = add_third_party(world, name="Hangzhou Logistics")
    other_third = add_third_party(world, name="Ningbo Shipping")
    agent = join(world, third, "agent", "李律师")
    colleague = join(world, third, "party", "钱经理").user
    stranger = join(world, other_third, "party", "孙经理").user
    power = submit_power_of_attorney(
        participant=agent, actor=agent.user, data=power_of_attorney_pdf(), filename="授权委托书.pdf"
    )

    for outsider in (stranger, world.plaintiff):
        client.force_login(outsider)
        assert client.get(reverse("power_of_attorney_file", args=[power.pk])).status_code == 404
        assert "李律师" not in client.get(reverse("powers_of_attorney", args=[world.case.pk])).content.decode()
    client.force_login(colleague)
    assert client.get(reverse("power_of_attorney_file", args=[power.pk])).status_code == 200
