"""Correcting and removing a case's parties: the mediator fixes a typo before it goes
into the agreement, removes a party added by mistake, and can do neither once the
agreement is locked for signing; nobody else can do either."""

import json
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from documents.services import agreements
from mediation import audit, id_numbers
from mediation.errors import TransitionNotAllowed
from mediation.models import AuditEntry, CaseEvent, Invitation, Party
from mediation.participation import standing_in_case
from mediation.roles import Role
from mediation.services import cases, parties
from mediation.services.invitations import InvitationInvalid, check_invitation, invite_participant
from tests.cases import make_case
from tests.factories import UserFactory, staff

pytestmark = pytest.mark.django_db

VALID_ID_NUMBER = "11010519491231002X"


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def mistaken(world):
    """A defendant added with a typo in the name, nobody has joined for yet."""
    return cases.add_party(
        case=world.case,
        actor=world.mediator,
        side="defendant",
        kind="person",
        name="孙桂蓝",
        id_number=VALID_ID_NUMBER,
        phone="13800000000",
        address="北京市石景山区",
    )


def details(party: Party, **changes) -> dict:
    return {**{field: getattr(party, field) for field in Party.DETAILS}, **changes}


def locked_agreement(world):
    cases.start_mediation(case=world.case, actor=world.mediator)
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=[
            {
                "kind": "payment",
                "obligor": world.defendant_participant.party_id,
                "obligee": world.plaintiff_participant.party_id,
                "amount": "500000",
                "method": "银行转账",
                "due_date": "2026-12-31",
            }
        ],
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    return agreement


# Correcting ------------------------------------------------------------------------------


def test_the_mediator_corrects_a_typo_in_a_name_and_the_record_keeps_old_and_new(world, mistaken):
    parties.edit_party(party=mistaken, actor=world.mediator, **details(mistaken, name="孙桂兰 "))

    mistaken.refresh_from_db()
    assert mistaken.name == "孙桂兰"
    event = CaseEvent.objects.get(case=world.case, action="edit_party")
    assert event.actor == world.mediator
    assert event.data["changes"] == {"name": {"old": "孙桂蓝", "new": "孙桂兰"}}
    entry = AuditEntry.objects.filter(action="mediation_case.edit_party").latest("id")
    # The trail keeps which detail changed, and only the keyed hashes of the names.
    assert entry.data["changes"] == {
        "name": {"old": audit.personal_reference("name", "孙桂蓝"), "new": audit.personal_reference("name", "孙桂兰")}
    }


def test_a_correction_is_checked_like_a_new_party(world, mistaken):
    with pytest.raises(ValidationError) as error:
        parties.edit_party(party=mistaken, actor=world.mediator, **details(mistaken, id_number="1234"))
    assert "id_number" in error.value.message_dict
    mistaken.refresh_from_db()
    assert mistaken.id_number == VALID_ID_NUMBER


def test_nothing_corrected_records_nothing(world, mistaken):
    parties.edit_party(party=mistaken, actor=world.mediator, **details(mistaken))
    assert not CaseEvent.objects.filter(case=world.case, action="edit_party").exists()


def test_the_side_of_a_party_someone_takes_part_for_cannot_change(world):
    party = world.defendant_participant.party
    with pytest.raises(ValidationError) as error:
        parties.edit_party(party=party, actor=world.mediator, **details(party, side="plaintiff"))
    assert "side" in error.value.message_dict
    # Their rooms stay those of their side.
    assert standing_in_case(world.defendant, world.case)[0] == "defendant"


def test_the_side_of_a_party_nobody_joined_for_can_be_corrected(world, mistaken):
    parties.edit_party(party=mistaken, actor=world.mediator, **details(mistaken, side="plaintiff"))
    mistaken.refresh_from_db()
    assert mistaken.side == "plaintiff"


# Removing --------------------------------------------------------------------------------


def test_removing_a_party_withdraws_its_links_and_records_what_it_was(world, mistaken):
    _invitation, token = invite_participant(case=world.case, actor=world.mediator, party=mistaken, role="party")

    parties.remove_party(party=mistaken, actor=world.mediator, reason="Added twice by mistake.")

    assert not Party.objects.filter(pk=mistaken.pk).exists()
    assert not Invitation.objects.filter(party_id=mistaken.pk).exists()
    # The link sent for the party attaches nobody any more.
    with pytest.raises(InvitationInvalid):
        check_invitation(token)
    event = CaseEvent.objects.get(case=world.case, action="remove_party")
    assert event.note == "Added twice by mistake."
    assert event.data["removed"]["name"] == "孙桂蓝"
    # The ID number stays in the encrypted field only: the timeline keeps it masked,
    # the audit trail its keyed hashes.
    assert event.data["removed"]["id_number"] == id_numbers.mask(VALID_ID_NUMBER)
    entry = AuditEntry.objects.filter(action="mediation_case.remove_party").latest("id")
    assert entry.data["removed"]["name"] == audit.personal_reference("name", "孙桂蓝")
    assert VALID_ID_NUMBER not in json.dumps(entry.data)
    assert "孙桂蓝" not in json.dumps(entry.data, ensure_ascii=False)
    assert CaseEvent.objects.filter(case=world.case, action="revoke_invitation").count() == 1


def test_a_party_someone_joined_for_cannot_be_removed(world):
    party = world.plaintiff_participant.party
    with pytest.raises(TransitionNotAllowed) as error:
        parties.remove_party(party=party, actor=world.mediator, reason="Mistake")
    assert error.value.code == "party_joined"
    assert Party.objects.filter(pk=party.pk).exists()
    assert standing_in_case(world.plaintiff, world.case)[0] == "plaintiff"


def test_a_party_removed_needs_a_reason(world, mistaken):
    with pytest.raises(ValidationError):
        parties.remove_party(party=mistaken, actor=world.mediator, reason="  ")
    assert Party.objects.filter(pk=mistaken.pk).exists()


# Once the agreement is locked ------------------------------------------------------------


def test_parties_cannot_change_once_the_agreement_is_locked_for_signing(world):
    locked_agreement(world)
    party = world.defendant_participant.party
    with pytest.raises(TransitionNotAllowed) as error:
        parties.edit_party(party=party, actor=world.mediator, **details(party, name="Another name"))
    assert error.value.code == "parties_frozen"
    assert "locked for signing" in error.value.message
    party.refresh_from_db()
    assert party.name == "Beijing Tech A"


def test_a_party_cannot_be_removed_once_the_agreement_is_locked(world, mistaken):
    # A party added, then the agreement locked with it among the signers.
    locked_agreement(world)
    with pytest.raises(TransitionNotAllowed):
        parties.remove_party(party=mistaken, actor=world.mediator, reason="Mistake")
    assert Party.objects.filter(pk=mistaken.pk).exists()


def test_no_party_can_be_added_once_the_agreement_is_locked(client, world):
    # The locked agreement names its signers: a party added now would have no place
    # to sign, so adding is refused like correcting, and not offered on the page.
    locked_agreement(world)
    count = world.case.parties.count()
    with pytest.raises(TransitionNotAllowed) as error:
        cases.add_party(case=world.case, actor=world.mediator, side="defendant", kind="person", name="Late Party")
    assert error.value.code == "parties_frozen"
    assert world.case.parties.count() == count
    client.force_login(world.mediator)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert reverse("case_action", args=[world.case.pk, "add_party"]) not in page


def test_a_draft_agreement_does_not_stop_a_correction(world, mistaken):
    cases.start_mediation(case=world.case, actor=world.mediator)
    agreements.start_agreement(case=world.case, actor=world.mediator)
    parties.edit_party(party=mistaken, actor=world.mediator, **details(mistaken, name="孙桂兰"))
    mistaken.refresh_from_db()
    assert mistaken.name == "孙桂兰"


def test_a_closed_case_keeps_its_parties(world, mistaken):
    cases.fail_case(case=world.case, actor=world.mediator, reason="No agreement")
    with pytest.raises(TransitionNotAllowed):
        parties.edit_party(party=mistaken, actor=world.mediator, **details(mistaken, name="孙桂兰"))
    with pytest.raises(TransitionNotAllowed):
        parties.remove_party(party=mistaken, actor=world.mediator, reason="Mistake")


# Who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["judge", "plaintiff", "defendant", "other_mediator", "stranger"])
def test_only_the_case_mediator_corrects_or_removes_a_party(world, mistaken, who):
    actor = {
        "judge": world.judge,
        "plaintiff": world.plaintiff,
        "defendant": world.defendant,
        "other_mediator": staff(Role.MEDIATOR),
        "stranger": UserFactory(),
    }[who]
    with pytest.raises(PermissionDenied):
        parties.edit_party(party=mistaken, actor=actor, **details(mistaken, name="Changed"))
    with pytest.raises(PermissionDenied):
        parties.remove_party(party=mistaken, actor=actor, reason="Mistake")
    mistaken.refresh_from_db()
    assert mistaken.name == "孙桂蓝"


# The case page ---------------------------------------------------------------------------

ACTION_URL = re.compile(r'action="/cases/\d+/do/([a-z_]+)/"')


def party_actions_on_page(client, user, world) -> list[str]:
    client.force_login(user)
    response = client.get(reverse("case_detail", args=[world.case.pk]))
    assert response.status_code == 200
    return [name for name in ACTION_URL.findall(response.content.decode()) if name in ("edit_party", "remove_party")]


def test_the_case_page_offers_the_mediator_a_correction_filled_with_each_partys_details(client, world, mistaken):
    client.force_login(world.mediator)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert page.count('/do/edit_party/"') == 3
    assert page.count('/do/remove_party/"') == 3
    assert 'value="孙桂蓝"' in page
    assert f'value="{VALID_ID_NUMBER}"' in page


def test_the_case_page_offers_no_correction_to_others_or_after_locking(client, world):
    for user in (world.judge, world.plaintiff, world.defendant):
        assert party_actions_on_page(client, user, world) == []
    locked_agreement(world)
    assert party_actions_on_page(client, world.mediator, world) == []


def test_the_mediator_corrects_a_name_from_the_case_page(client, world, mistaken):
    client.force_login(world.mediator)
    data = {f"edit_party-{field}": value for field, value in details(mistaken, name="孙桂兰").items()}
    response = client.post(
        reverse("case_action", args=[world.case.pk, "edit_party"]), {**data, "edit_party-party": mistaken.pk}
    )
    assert response.status_code == 302
    mistaken.refresh_from_db()
    assert mistaken.name == "孙桂兰"
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert "孙桂兰" in page and "孙桂蓝" not in page.split("case-timeline-heading")[0]


def test_a_wrong_correction_shows_its_error_with_that_party(client, world, mistaken):
    client.force_login(world.mediator)
    data = {f"edit_party-{field}": value for field, value in details(mistaken, id_number="1").items()}
    response = client.post(
        reverse("case_action", args=[world.case.pk, "edit_party"]), {**data, "edit_party-party": mistaken.pk}
    )
    assert response.status_code == 400
    page = response.content.decode()
    entry = page.split(f'data-party="{mistaken.pk}"')[1].split("</article>")[0]
    assert "18 characters" in entry


def test_the_mediator_removes_a_party_from_the_case_page(client, world, mistaken):
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "remove_party"]),
        {"remove_party-party": mistaken.pk, "remove_party-reason": "Added by mistake"},
    )
    assert response.status_code == 302
    assert not Party.objects.filter(pk=mistaken.pk).exists()


def test_a_party_of_another_case_cannot_be_picked(client, world, people):
    other = make_case(staff(Role.MEDIATOR), None, label="B")
    party = other.case.parties.first()
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "remove_party"]),
        {"remove_party-party": party.pk, "remove_party-reason": "Mistake"},
    )
    assert response.status_code == 400
    assert Party.objects.filter(pk=party.pk).exists()
