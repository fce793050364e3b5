"""Acts done in person (线下参与): recorded by the mediator as witness with the scan,
counting only once a second member of staff confirms them; an agreement sealed with
some signatures digital and some on paper."""

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from documents import selectors
from documents.agreement_rules import party_slot
from documents.models import Agreement, Document, Service, ServiceStep
from documents.models.in_person import InPersonAct
from documents.services import agreements, in_person, serving
from documents.services.storage import read_blob
from documents.services.uploads import upload_document
from documents.verification import verify_pdf
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import CaseEvent, Notification
from tests.cases import make_case
from tests.in_person import confirm, fresh, locked_agreement, record, scan_png, sign

pytestmark = pytest.mark.django_db

PAPER = InPersonAct.Kind.PAPER_SIGNATURE


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


@pytest.fixture
def signing(world):
    """A locked agreement the mediator and the plaintiff's agent signed digitally; the
    defendant's side signs on paper."""
    agreement = locked_agreement(world)
    sign(agreement, world.mediator)
    sign(agreement, world.plaintiff, world.plaintiff_participant.party)
    return fresh(agreement)


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    return squashed("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


# Without the second confirmation nothing counts ----------------------------------------------


def test_a_paper_signature_without_the_second_confirmation_fills_no_slot_and_seals_nothing(world, signing, client):
    act = record(world, kind=PAPER, agreement=signing)

    version = fresh(signing).current_version
    assert party_slot(world.defendant_participant.party) not in selectors.signed_slots(version)
    assert fresh(signing).status == Agreement.Status.SIGNING
    assert act.slot == party_slot(world.defendant_participant.party)
    assert act.content_hash == version.content_hash
    client.force_login(world.mediator)
    page = client.get(reverse("agreement_detail", args=[signing.pk])).content.decode()
    assert "data-paper-signature" not in page


def test_the_witness_cannot_confirm_their_own_act(world, signing):
    act = record(world, kind=PAPER, agreement=signing)

    with pytest.raises(ActionForbidden):
        confirm(act, world.mediator)

    assert not InPersonAct.objects.get(pk=act.pk).is_confirmed
    assert fresh(signing).status == Agreement.Status.SIGNING


@pytest.mark.parametrize("who", ["plaintiff", "defendant"])
def test_a_party_cannot_confirm_an_act_done_in_person(world, signing, who):
    act = record(world, kind=PAPER, agreement=signing)

    with pytest.raises(ActionForbidden):
        confirm(act, getattr(world, who))

    assert not InPersonAct.objects.get(pk=act.pk).is_confirmed


def test_a_judge_of_another_case_cannot_confirm(world, signing, people):
    act = record(world, kind=PAPER, agreement=signing)

    with pytest.raises(ActionForbidden):
        confirm(act, people["other_judge"])

    assert not InPersonAct.objects.get(pk=act.pk).is_confirmed


def test_only_the_cases_mediator_records_an_act(world, signing, people):
    with pytest.raises(ActionForbidden):
        record(world, kind=PAPER, agreement=signing, actor=people["judge"])
    assert not InPersonAct.objects.exists()


def test_a_scan_that_is_not_a_pdf_or_an_image_is_refused_and_nothing_is_stored(world, signing):
    fake = SimpleUploadedFile("scan.png", b"MZ\x90\x00 not an image", content_type="image/png")

    with pytest.raises(ValidationError) as refused:
        record(world, kind=PAPER, agreement=signing, scan_file=fake)

    assert "scan" in refused.value.message_dict
    assert not InPersonAct.objects.exists()
    assert not Document.objects.filter(kind=Document.Kind.IN_PERSON_SCAN).exists()


def test_an_interpreter_cannot_be_recorded_as_acting_for_the_party(world, signing):
    with pytest.raises(ValidationError) as refused:
        record(world, kind=PAPER, agreement=signing, capacity="interpreter")
    assert "capacity" in refused.value.message_dict


def test_a_withdrawn_act_never_counts(world, signing, people):
    act = record(world, kind=PAPER, agreement=signing)
    in_person.withdraw_in_person_act(act=act, actor=world.mediator)

    with pytest.raises(TransitionNotAllowed):
        confirm(act, people["judge"])

    assert fresh(signing).status == Agreement.Status.SIGNING
    assert CaseEvent.objects.filter(case=world.case, action="in_person_withdrawn").exists()


# Mixed sealing ------------------------------------------------------------------------------


def test_an_agreement_seals_with_digital_and_paper_signatures_and_the_certificate_says_which(world, signing, people):
    act = record(world, kind=PAPER, agreement=signing, person_name="赵老伯")
    assert Notification.objects.filter(recipient=people["judge"], kind="in_person.to_confirm").exists()

    confirm(act, people["judge"])

    agreement = fresh(signing)
    assert agreement.status == Agreement.Status.SEALED
    certificate = pdf_text(read_blob(agreement.certificate_blob))
    act = InPersonAct.objects.select_related("scan").get(pk=act.pk)
    # The digital signers, said to have signed digitally; the paper one, where, who
    # witnessed and confirmed it, and the scan's fingerprint.
    assert "以电子方式签名" in certificate
    assert "现场签署纸质文本" in certificate
    assert "地点：法院，第三调解室" in certificate
    assert "赵老伯" in certificate
    assert squashed(str(world.mediator)) in certificate
    assert squashed(str(people["judge"])) in certificate
    assert act.scan.blob_id in certificate
    assert "第三调解室" in certificate
    # The sealed file still verifies: the digital signatures, the platform's record in
    # the paper signer's box (tests/documents/test_paper_box.py), the seal and the
    # timestamp hold.
    report = verify_pdf(read_blob(agreement.sealed_blob))
    assert report.matches_sealed_original
    assert report.all_valid
    assert len(report.signatures) == 5


def test_the_verification_page_shows_the_paper_signature(world, signing, people, client):
    act = record(world, kind=PAPER, agreement=signing)
    confirm(act, people["judge"])
    agreement = fresh(signing)

    page = client.get(reverse("verify_record", args=[agreement.verification_code])).content.decode()

    assert "data-paper-signature" in page
    assert act.scan.blob_id in page


def test_the_last_digital_signature_seals_when_a_paper_signature_was_confirmed_first(world, people):
    agreement = locked_agreement(world)
    sign(agreement, world.mediator)
    act = record(world, kind=PAPER, agreement=agreement)
    confirm(act, people["liaison"])
    assert fresh(agreement).status == Agreement.Status.SIGNING

    sign(agreement, world.plaintiff, world.plaintiff_participant.party)

    assert fresh(agreement).status == Agreement.Status.SEALED


def test_a_party_signed_on_paper_cannot_sign_again_digitally(world, people, client):
    agreement = locked_agreement(world)
    sign(agreement, world.mediator)
    confirm(record(world, kind=PAPER, agreement=agreement), people["judge"])

    with pytest.raises(TransitionNotAllowed):
        sign(agreement, world.defendant, world.defendant_participant.party)
    client.force_login(world.defendant)
    page = client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
    assert "data-paper-signature" in page


def act_time():
    import datetime as dt

    from django.utils import timezone

    return timezone.now() - dt.timedelta(minutes=30)


# A version changed after the paper was signed -----------------------------------------------


def test_a_paper_signature_on_a_voided_version_does_not_count_for_the_new_version(world, people):
    agreement = locked_agreement(world)
    sign(agreement, world.mediator)
    act = record(world, kind=PAPER, agreement=agreement)
    confirm(act, people["judge"])
    old_version = fresh(agreement).current_version
    assert party_slot(world.defendant_participant.party) in selectors.signed_slots(old_version)

    # The mediator changes the agreement: a new version, locked again.
    content = old_version.content
    agreements.update_draft(
        agreement=fresh(agreement),
        actor=world.mediator,
        facts=content["facts"] + "补充。",
        terms=content["terms"],
        costs=content["costs"],
        effectiveness=content["effectiveness"],
        judicial_confirmation=True,
    )
    agreements.lock_agreement(agreement=fresh(agreement), actor=world.mediator)

    new_version = fresh(agreement).current_version
    assert new_version.pk != old_version.pk
    assert selectors.signed_slots(new_version) == set()
    assert selectors.paper_signatures(new_version) == []


def test_an_unconfirmed_paper_signature_cannot_be_confirmed_once_the_version_changed(world, people):
    agreement = locked_agreement(world)
    sign(agreement, world.mediator)
    act = record(world, kind=PAPER, agreement=agreement)
    agreements.decline_agreement(agreement=fresh(agreement), actor=world.plaintiff, reason="金额有误")

    with pytest.raises(TransitionNotAllowed):
        confirm(act, people["judge"])

    assert not InPersonAct.objects.get(pk=act.pk).is_confirmed


# Acknowledgement of service and consent -----------------------------------------------------


@pytest.fixture
def served(world, django_capture_on_commit_callbacks):
    complaint = upload_document(
        case=world.case,
        actor=world.mediator,
        data=scan_png(7).read(),
        filename="complaint.png",
        title="起诉状",
        kind=Document.Kind.COMPLAINT,
    )
    serving.record_consent(case=world.case, user=world.defendant)
    with django_capture_on_commit_callbacks(execute=True):
        return serving.serve_electronically(
            case=world.case, actor=world.mediator, recipient=world.defendant, documents=[complaint]
        )


def test_an_acknowledgement_of_service_in_person_acknowledges_the_service_as_done_in_person(world, served, people):
    act = record(world, kind=InPersonAct.Kind.SERVICE_ACKNOWLEDGEMENT, service=served)
    assert Service.objects.get(pk=served.pk).status == Service.Status.DELIVERED

    confirm(act, people["judge"])

    service = Service.objects.get(pk=served.pk)
    assert service.status == Service.Status.ACKNOWLEDGED
    step = ServiceStep.objects.get(service=service, step=Service.Status.ACKNOWLEDGED)
    # Truthfully: in person, before the mediator, at the time it happened; never as if
    # the recipient had clicked.
    assert step.method == Service.Method.IN_PERSON
    assert step.actor == world.mediator
    assert step.actor != world.defendant
    assert step.at == act.occurred_at
    assert step.ip_address is None
    assert "in person" in str(step.label)


def test_an_acknowledgement_needs_a_service_made_on_that_party(world, served):
    with pytest.raises(ValidationError):
        record(
            world,
            kind=InPersonAct.Kind.SERVICE_ACKNOWLEDGEMENT,
            service=served,
            party=world.plaintiff_participant.party,
        )


def test_a_consent_in_person_shows_on_the_case_page_once_confirmed(world, people, client):
    act = record(world, kind=InPersonAct.Kind.CONSENT)
    client.force_login(world.mediator)
    marker = f'data-consented-in-person="{world.defendant_participant.party_id}"'
    assert marker not in client.get(reverse("case_detail", args=[world.case.pk])).content.decode()

    confirm(act, people["judge"])

    assert marker in client.get(reverse("case_detail", args=[world.case.pk])).content.decode()


def test_a_consent_scan_stays_with_the_partys_side(world, people, client):
    act = record(world, kind=InPersonAct.Kind.CONSENT)
    assert act.scan.visibility == Document.Visibility.DEFENDANT

    client.force_login(world.plaintiff)
    assert client.get(reverse("in_person_scan", args=[act.pk])).status_code == 404
    assert client.get(reverse("in_person_acts", args=[world.case.pk])).status_code == 404
    client.force_login(world.defendant)
    assert client.get(reverse("in_person_scan", args=[act.pk])).status_code == 200
    client.force_login(people["judge"])
    assert client.get(reverse("in_person_scan", args=[act.pk])).status_code == 200


# Pages --------------------------------------------------------------------------------------


def test_the_mediator_records_on_the_page_and_the_judge_confirms_there(world, signing, people, client):
    client.force_login(world.mediator)
    page = client.get(reverse("in_person_acts", args=[world.case.pk]))
    assert b"data-in-person-form" in page.content
    response = client.post(
        reverse("in_person_record", args=[world.case.pk]),
        {
            "kind": PAPER,
            "party": world.defendant_participant.party_id,
            "person_name": "赵老伯",
            "capacity": "party",
            "place": "court",
            "place_detail": "第三调解室",
            "occurred_at": act_time().astimezone().strftime("%Y-%m-%dT%H:%M"),
            "scan": scan_png(5),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    act = InPersonAct.objects.get()
    assert act.agreement_version_id == fresh(signing).current_version_id
    # The witness is offered no confirmation.
    assert b"data-confirm-in-person" not in client.get(reverse("in_person_acts", args=[world.case.pk])).content

    client.force_login(people["judge"])
    case_page = client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
    assert 'data-in-person-to-confirm="1"' in case_page
    assert b"data-confirm-in-person" in client.get(reverse("in_person_acts", args=[world.case.pk])).content
    with django_capture():
        client.post(reverse("in_person_confirm", args=[act.pk]))

    assert InPersonAct.objects.get().is_confirmed
    assert fresh(signing).status == Agreement.Status.SEALED


def django_capture():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_a_bad_record_form_says_why_and_records_nothing(world, signing, client):
    client.force_login(world.mediator)
    response = client.post(
        reverse("in_person_record", args=[world.case.pk]),
        {"kind": PAPER, "party": world.defendant_participant.party_id, "person_name": "", "place": "court"},
    )
    assert response.status_code == 400
    assert not InPersonAct.objects.exists()


@pytest.mark.parametrize("who", ["plaintiff", "judge"])
def test_only_the_mediator_may_post_the_record_form(world, signing, client, who):
    client.force_login(getattr(world, who))
    response = client.post(
        reverse("in_person_record", args=[world.case.pk]),
        {
            "kind": PAPER,
            "party": world.defendant_participant.party_id,
            "person_name": "赵老伯",
            "capacity": "party",
            "place": "court",
            "occurred_at": "2026-01-01T10:00",
            "scan": scan_png(1),
        },
    )
    assert response.status_code == 404
    assert not InPersonAct.objects.exists()


def test_someone_outside_the_case_sees_nothing(world, signing, people, client):
    act = record(world, kind=PAPER, agreement=signing)
    client.force_login(people["other_judge"])
    assert client.get(reverse("in_person_acts", args=[world.case.pk])).status_code == 404
    assert client.get(reverse("in_person_scan", args=[act.pk])).status_code == 404
    assert client.post(reverse("in_person_confirm", args=[act.pk])).status_code == 404
