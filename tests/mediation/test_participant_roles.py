"""Guardians, interpreters, helpers and third parties (issue 20, people who are not
online): a guardian acts and signs for the natural person they represent; an
interpreter or a helper sees what their party sees and writes in the rooms, but signs,
applies for and asks for nothing; a third party (第三人) is on neither side, is in the
joint room only, sees the case-wide documents and signs the agreement like the
parties."""

import io
import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from documents.agreement_rules import NoAuthorityToSign, required_slots, signing_authority_refusal
from documents.models import Agreement, Blob, Document, Obligation, Signature
from documents.performance_rules import obligation_refusal
from documents.reauthentication import Reauthentication
from documents.services import agreements
from documents.services.agreement_content import clean_terms
from documents.services.confirmation import application_slots
from documents.services.serving import record_consent
from documents.services.storage import read_blob
from mediation import participation, policy
from mediation.errors import ActionForbidden
from mediation.models import Invitation, Participant, Party
from mediation.services.invitations import invite_participant, needs_id_number
from rooms.membership import Member
from rooms.store import PostRequest, store_messages
from tests.cases import accept_by_text, make_case
from tests.factories import PASSWORD
from tests.participants import add_third_party, join

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
GUARDIAN_PHONE = "+8613812345678"
ELDER_PHONE = "+8613900001111"


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


@pytest.fixture
def elder(world):
    """An elderly natural person on the defendant's side, with ID number and phone."""
    from mediation.services import cases

    return cases.add_party(
        case=world.case,
        actor=world.mediator,
        side="defendant",
        kind="person",
        name="王老伯",
        id_number=ID_NUMBER,
        phone=ELDER_PHONE,
    )


def plaintiff_party(world) -> Party:
    return world.plaintiff_participant.party


def defendant_party(world) -> Party:
    return world.defendant_participant.party


def draft(world, *, terms=None) -> Agreement:
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=terms
        or [
            {
                "kind": "payment",
                "obligor": defendant_party(world).pk,
                "obligee": plaintiff_party(world).pk,
                "amount": "500000",
                "method": "银行转账",
                "due_date": "2026-12-31",
            }
        ],
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    return fresh(agreement)


def fresh(agreement) -> Agreement:
    return Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)


def locked(world, **kwargs) -> Agreement:
    agreement = draft(world, **kwargs)
    agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    return fresh(agreement)


def sign(agreement, user, party=None):
    agreement = fresh(agreement)
    return agreements.sign_agreement(
        agreement=agreement,
        actor=user,
        version_hash=agreement.current_version.content_hash,
        party=party,
        method="typed",
        image_png=None,
        reauthentication=Reauthentication(password=PASSWORD),
        ip="203.0.113.20",
        user_agent="test",
    )


def pdf_text(blob) -> str:
    reader = PdfReader(io.BytesIO(read_blob(blob)))
    return "".join(page.extract_text() or "" for page in reader.pages)


# Invitations: each proves their own identity ------------------------------------------


def test_a_guardian_proves_their_own_identity_and_is_never_asked_the_partys_id_number(world, elder, sms_outbox):
    invitation, raw = invite_participant(
        case=world.case,
        actor=world.mediator,
        party=elder,
        role="guardian",
        phone=GUARDIAN_PHONE,
        full_name="王小明",
    )
    assert not needs_id_number(invitation)

    acceptance = accept_by_text(raw)

    assert acceptance.participant.role == "guardian" and acceptance.participant.party == elder
    assert str(acceptance.account.phone) == GUARDIAN_PHONE and acceptance.account.full_name == "王小明"
    assert acceptance.account.id_number == ""  # never the party's number


def test_the_party_in_person_is_still_asked_their_id_number(world, elder):
    invitation, _raw = invite_participant(case=world.case, actor=world.mediator, party=elder, role="party")
    assert needs_id_number(invitation)


@pytest.mark.parametrize("role", ["guardian", "interpreter", "helper"])
def test_someone_beside_the_party_cannot_be_invited_on_the_partys_own_number(world, elder, role):
    with pytest.raises(ValidationError) as error:
        invite_participant(
            case=world.case, actor=world.mediator, party=elder, role=role, phone="139 0000 1111", full_name="家属"
        )
    assert "party's own mobile number" in str(error.value.message_dict["phone"])
    assert not Invitation.objects.filter(party=elder).exists()


def test_a_guardian_cannot_be_invited_for_an_organisation(world):
    with pytest.raises(ValidationError) as error:
        invite_participant(
            case=world.case,
            actor=world.mediator,
            party=plaintiff_party(world),
            role="guardian",
            phone=GUARDIAN_PHONE,
            full_name="王小明",
        )
    assert "natural person only" in str(error.value.message_dict["role"])
    assert not Invitation.objects.exists()


def test_the_invitation_page_tells_an_interpreter_what_they_may_and_may_not_do(client, world, elder):
    _invitation, raw = invite_participant(
        case=world.case,
        actor=world.mediator,
        party=elder,
        role="interpreter",
        phone=GUARDIAN_PHONE,
        full_name="Li Interpreter",
    )
    page = client.get(reverse("invitation", args=[raw])).content.decode()
    assert "Interpreter" in page and "You take part beside" in page
    assert "sign, apply for and ask for nothing" in page
    assert 'name="id_number"' not in page


def test_the_invitation_form_offers_the_new_roles(client, world):
    client.force_login(world.mediator)
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    for role in ("guardian", "interpreter", "helper"):
        assert f'value="{role}"' in page


# Interpreters and helpers: see and write, sign nothing ----------------------------------


def test_an_interpreter_is_refused_the_agreement_on_its_sign_page_and_by_post(client, world):
    interpreter = join(world, plaintiff_party(world), "interpreter", "Li Interpreter")
    agreement = locked(world)
    sign(agreement, world.mediator)
    before = Signature.objects.count()
    client.force_login(interpreter.user)

    page = client.get(reverse("agreement_sign", args=[agreement.pk])).content.decode()
    assert 'data-authority-refusal="interpreter_signs_nothing"' in page
    assert "You take part as an interpreter" in page
    assert reverse("powers_of_attorney", args=[world.case.pk]) not in page

    response = client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {
            "version_hash": agreement.current_version.content_hash,
            "party": plaintiff_party(world).pk,
            "method": "typed",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert Signature.objects.count() == before

    with pytest.raises(NoAuthorityToSign) as refusal:
        sign(agreement, interpreter.user, plaintiff_party(world))
    assert refusal.value.code == "interpreter_signs_nothing"
    assert Signature.objects.count() == before


def test_an_interpreter_cannot_decline_the_agreement(client, world):
    interpreter = join(world, plaintiff_party(world), "interpreter", "Li Interpreter")
    agreement = locked(world)
    with pytest.raises(ActionForbidden):
        agreements.decline_agreement(agreement=agreement, actor=interpreter.user, reason="不同意")
    assert fresh(agreement).status == "locked"
    client.force_login(interpreter.user)
    page = client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
    assert reverse("agreement_decline", args=[agreement.pk]) not in page


def test_a_helper_reads_the_case_and_the_joint_room_and_writes_messages(client, world):
    helper = join(world, defendant_party(world), "helper", "张阿姨").user
    client.force_login(helper)

    page = client.get(reverse("case_detail", args=[world.case.pk]))
    assert page.status_code == 200
    assert "Helper" in page.content.decode() and "data-signs-nothing" in page.content.decode()
    assert client.get(reverse("room", args=[world.joint.pk])).status_code == 200
    assert client.get(reverse("room", args=[world.defendant_caucus.pk])).status_code == 200
    assert client.get(reverse("room", args=[world.plaintiff_caucus.pk])).status_code in (403, 404)

    [result] = store_messages(
        [PostRequest(world.joint.pk, Member(id=helper.pk, name=str(helper), role="helper"), uuid.uuid4(), "同意调解")]
    )
    assert result.outcome == "stored"


def test_a_helper_sees_what_their_party_sees(world):
    helper = join(world, defendant_party(world), "helper", "张阿姨").user
    documents = {visibility: document_for(world, visibility) for visibility in ("case", "plaintiff", "defendant")}
    from documents.access import visible_documents

    seen = set(visible_documents(helper, world.case))
    assert seen == {documents["case"], documents["defendant"]}


@pytest.mark.parametrize("role", ["interpreter", "helper"])
def test_an_interpreter_or_helper_may_not_act_for_the_party_anywhere(world, role):
    person = join(world, defendant_party(world), role, "Beside")
    refusal = signing_authority_refusal(person)
    assert refusal is not None and refusal.code == f"{role}_signs_nothing"
    assert not policy.acts_for_a_party(person.user, world.case)
    assert policy.is_case_participant(person.user, world.case)
    obligation = Obligation(
        case=world.case, obligor=defendant_party(world), obligee=plaintiff_party(world), term_number=1
    )
    assert "cannot sign, apply or make requests" in str(obligation_refusal(person.user, obligation, "report_performed"))
    with pytest.raises(ActionForbidden):
        record_consent(case=world.case, user=person.user)


# Guardians: act and sign for the person ------------------------------------------------


def test_a_guardian_signs_the_agreement_for_the_person_they_represent(world, elder):
    guardian = join(world, elder, "guardian", "王小明")
    agreement = locked(world)
    assert signing_authority_refusal(guardian) is None
    assert policy.acts_for_a_party(guardian.user, world.case)
    sign(agreement, world.mediator)

    signature = sign(agreement, guardian.user, elder)

    assert signature.role == "guardian" and signature.party == elder
    text = pdf_text(fresh(agreement).current_version.locked_blob)
    assert "王小明" in text


# Third parties ------------------------------------------------------------------------


def test_the_mediator_adds_a_third_party_and_the_case_page_lists_it(client, world):
    client.force_login(world.mediator)
    response = client.post(
        reverse("case_action", args=[world.case.pk, "add_party"]),
        {"add_party-side": "third", "add_party-kind": "organisation", "add_party-name": "杭州物流有限公司"},
    )
    assert response.status_code == 302
    party = Party.objects.get(case=world.case, side="third")
    page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert re.search(r"Third party · [^<]*</p>\s*<p><strong>杭州物流有限公司", page)
    assert party.name == "杭州物流有限公司"


def test_a_third_party_is_in_the_joint_room_only(world):
    third = join(world, add_third_party(world), "legal_representative", "Third rep")
    standing, _participant = participation.standing_in_case(third.user, world.case)
    assert standing == "third"
    assert participation.room_kinds_of(standing) == ["joint"]


def test_a_third_party_sees_the_case_documents_and_neither_sides(world):
    third = join(world, add_third_party(world), "legal_representative", "Third rep").user
    documents = {visibility: document_for(world, visibility) for visibility in ("case", "plaintiff", "defendant")}
    from documents.access import can_view_document, visible_documents

    assert set(visible_documents(third, world.case)) == {documents["case"]}
    assert not can_view_document(third, documents["plaintiff"])
    assert not can_view_document(third, documents["defendant"])


def test_a_third_party_is_listed_in_the_agreement_and_signs_it(world):
    third_party = add_third_party(world)
    third = join(world, third_party, "legal_representative", "Third rep")
    agreement = locked(
        world,
        terms=[
            {
                "kind": "payment",
                "obligor": third_party.pk,
                "obligee": plaintiff_party(world).pk,
                "amount": "1000",
                "method": "银行转账",
                "due_date": "2026-12-31",
            }
        ],
    )
    version = agreement.current_version
    assert f"party-{third_party.pk}" in {slot["slot"] for slot in version.signature_slots}
    assert [party["side"] for party in version.content["parties"]] == ["plaintiff", "defendant", "third"]
    text = pdf_text(version.locked_blob)
    assert "第三人" in text and "Hangzhou Logistics" in text

    sign(agreement, world.mediator)
    sign(agreement, world.plaintiff, plaintiff_party(world))
    sign(agreement, world.defendant, defendant_party(world))
    assert fresh(agreement).status != "sealed"  # the third party has not signed yet
    with TestCase.captureOnCommitCallbacks(execute=True):
        signature = sign(agreement, third.user, third_party)
    assert signature.party == third_party
    assert fresh(agreement).status == "sealed"


def test_the_agreement_still_needs_a_plaintiff_and_a_defendant_beside_third_parties(world):
    add_third_party(world)
    defendant_party(world).participants.update(removed_at=timezone.now())
    Party.objects.filter(pk=defendant_party(world).pk).update(side="third")
    agreement = draft(world)
    with pytest.raises(ValidationError) as error:
        agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    assert "needs a plaintiff and a defendant" in str(error.value)


def test_the_terms_may_name_a_third_party_as_obligor_or_obligee(world):
    third_party = add_third_party(world)
    [term] = clean_terms(
        [
            {
                "kind": "act",
                "obligor": plaintiff_party(world).pk,
                "obligee": third_party.pk,
                "act": "交还货物",
                "due_date": "",
            }
        ],
        world.case,
    )
    assert term["obligee"] == third_party.pk


def test_third_parties_apply_for_judicial_confirmation_with_the_parties(world):
    third_party = add_third_party(world)
    assert [slot["side"] for slot in application_slots(world.case)] == ["plaintiff", "defendant", "third"]
    assert f"party-{third_party.pk}" in {slot["slot"] for slot in required_slots(world.case)}


def test_a_third_party_is_neither_sides_caucus_when_a_case_event_is_side_only(world):
    from rooms.services import post_case_event

    assert post_case_event(case=world.case, kind="x", actor=None, data={}, side="third", side_only=True) == []


# Helpers ------------------------------------------------------------------------------


def document_for(world, visibility: str) -> Document:
    blob = Blob.objects.create(
        sha256=uuid.uuid4().hex * 2, size=1, content_type="application/pdf", storage_name=uuid.uuid4().hex
    )
    return Document.objects.create(
        case=world.case,
        kind=Document.Kind.EVIDENCE,
        title=f"For {visibility}",
        original_name="evidence.pdf",
        blob=blob,
        visibility=visibility,
        uploaded_by=world.mediator,
    )


def test_only_people_who_act_for_a_party_count_as_acting(world, elder):
    guardian = join(world, elder, "guardian", "王小明")
    interpreter = join(world, elder, "interpreter", "翻译")
    assert participation.acting_participation(guardian.user, world.case) == guardian
    assert participation.acting_participation(interpreter.user, world.case) is None
    assert Participant.active.filter(case=world.case, party=elder).count() == 2


def test_a_caucus_tells_its_readers_that_the_third_parties_cannot_see_it(client, world):
    client.force_login(world.plaintiff)
    page = client.get(reverse("room", args=[world.plaintiff_caucus.pk])).content.decode()
    assert "the other side cannot see it" in page and "third parties" not in page

    add_third_party(world)

    page = client.get(reverse("room", args=[world.plaintiff_caucus.pk])).content.decode()
    assert "the other side and the third parties cannot see it" in page
    client.force_login(world.mediator)
    page = client.get(reverse("room", args=[world.defendant_caucus.pk])).content.decode()
    assert "The plaintiff&#x27;s side and the third parties cannot see this room." in page
