"""The obligee's application for enforcement (强制执行申请书): one sealed PDF with the
ruling, the agreement, the proofs of service and the evidence of performance embedded,
made only by the obligee's people once the agreement is confirmed and an obligation
owed to them is overdue, and seen by nobody on the other side."""

import datetime as dt
import io

import pytest
from django.test import TestCase
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from documents.models import CourtDocument, Document, JudicialConfirmation, Obligation
from documents.pki import load_platform_pki
from documents.services.enforcement import apply_for_enforcement, enforcement_refusal
from documents.services.serving import proof_of_service
from documents.services.storage import read_blob
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, CaseEvent, MediationCase, WorkOrderEvent
from rooms.models import RoomEntry
from tests.after_seal import become_overdue, confirm, obligations_of, perform, sealed_world
from tests.cases import make_case
from tests.factories import UserFactory
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people):
    world, agreement = sealed_world(people["mediator"], people["judge"])
    world.agreement = agreement
    return world


def confirmed_and_overdue(world):
    """Confirmed by a served ruling; instalment 1 performed on time, 2 overdue, 3 due."""
    world.confirmation = confirm(world, world.agreement)
    first, second, third = obligations_of(world, world.agreement)
    world.evidence = perform(world, first, on=dt.date(2026, 10, 5))
    become_overdue(second)
    world.obligations = [first, second, third]
    return world


def package_count(world) -> tuple[int, int]:
    return (
        CourtDocument.objects.filter(case=world.case, kind=CourtDocument.Kind.ENFORCEMENT_APPLICATION).count(),
        Document.objects.filter(case=world.case, kind=Document.Kind.ENFORCEMENT_APPLICATION).count(),
    )


def apply(world, user=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return apply_for_enforcement(
            case=world.case, actor=user or world.plaintiff, obligee=world.plaintiff_participant.party
        )


def platform_context() -> ValidationContext:
    return ValidationContext(trust_roots=[load_platform_pki().authority.asn1_certificate], allow_fetching=False)


def test_the_obligee_gets_one_sealed_package_carrying_the_originals(world):
    world = confirmed_and_overdue(world)
    court_document = apply(world)

    assert court_document.status == CourtDocument.Status.SEALED and court_document.signature_slots == []
    assert court_document.sealed_at is not None and court_document.verification_code
    pdf = read_blob(court_document.sealed_blob)
    # Every attachment is embedded, byte for byte the original.
    attachments = {name: data[0] for name, data in PdfReader(io.BytesIO(pdf)).attachments.items()}
    services = list(world.case.services.order_by("served_at", "id"))
    expected = {
        "ruling.pdf": read_blob(world.confirmation.ruling.sealed_blob),
        "agreement.pdf": read_blob(world.agreement.sealed_blob),
        "service-proof-1.pdf": proof_of_service(services[0], for_court=False),
        "service-proof-2.pdf": proof_of_service(services[1], for_court=False),
        "evidence-1.pdf": read_blob(world.evidence.blob),
    }
    assert attachments == expected
    # The content records what was asked, as codes and parameters.
    content = court_document.content
    assert content["obligee"] == world.plaintiff_participant.party_id
    assert content["obligors"] == [world.defendant_participant.party_id]
    assert content["ruling"]["case_number"] == "(2026)京0107民特1号"
    assert content["agreement"]["verification_code"] == world.agreement.verification_code
    assert [row["obligation"] for row in content["overdue"]] == [world.obligations[1].pk]
    assert len(content["attachments"]) == 5
    # The Chinese application is real text: the court addressed, the basis, the record.
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for words in (
        "强制执行申请书",
        "执行局",
        "(2026)京0107民特1号",
        world.agreement.verification_code,
        world.evidence.blob_id[:16],
    ):
        assert words in text.replace("\n", "").replace(" ", ""), words


def test_the_package_is_sealed_and_timestamped_over_its_embedded_files(world):
    world = confirmed_and_overdue(world)
    pdf = read_blob(apply(world).sealed_blob)
    seal, timestamp = list(PdfFileReader(io.BytesIO(pdf)).embedded_signatures)
    assert seal.field_name == "platform-seal"
    assert seal.signer_cert.serial_number == load_platform_pki().seal.certificate.serial_number
    status = validate_pdf_signature(seal, platform_context(), ts_validation_context=platform_context())
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    stamp = validate_pdf_timestamp(timestamp, validation_context=platform_context())
    assert (stamp.intact, stamp.valid, stamp.trusted) == (True, True, True)
    assert stamp.coverage == SignatureCoverageLevel.ENTIRE_FILE
    # A changed byte in an embedded file breaks them.
    tampered = pdf.replace(b"/EmbeddedFiles", b"/EmbeddedFilez", 1)
    reader = PdfFileReader(io.BytesIO(tampered), strict=False)
    assert not validate_pdf_timestamp(
        list(reader.embedded_signatures)[-1], validation_context=platform_context()
    ).intact


def test_the_package_is_found_at_verify_by_its_code_and_by_its_file(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    world = confirmed_and_overdue(world)
    court_document = apply(world)
    pdf = read_blob(court_document.sealed_blob)

    page = client.get(reverse("verify_record", args=[court_document.verification_code.lower()]))
    text = page.content.decode()
    assert page.status_code == 200 and 'data-court-document="enforcement_application"' in text
    assert court_document.sealed_blob_id in text
    assert str(world.plaintiff) not in text  # names masked

    def verify(data: bytes) -> dict:
        return client.post(
            reverse("verify"),
            {"file": SimpleUploadedFile("enforcement.pdf", data, "application/pdf")},
            headers={"Accept": "application/json"},
        ).json()

    body = verify(pdf)
    assert body["matches_sealed_original"] is True and body["all_valid"] is True
    assert body["verification_code"] == court_document.verification_code
    # The package with an embedded file changed is not the sealed original.
    tampered = verify(pdf.replace(b"/EmbeddedFiles", b"/EmbeddedFilez", 1))
    assert tampered["matches_sealed_original"] is False and tampered["all_valid"] is False


def test_it_is_recorded_on_the_case_the_obligees_caucus_and_the_work_order(client, world, people):
    order = order_in_state("in_progress", people)
    MediationCase.objects.filter(pk=world.case.pk).update(work_order=order)
    world.case.refresh_from_db()
    world = confirmed_and_overdue(world)
    court_document = apply(world)

    document = Document.objects.get(case=world.case, kind=Document.Kind.ENFORCEMENT_APPLICATION)
    assert document.blob_id == court_document.sealed_blob_id
    assert document.visibility == Document.Visibility.PLAINTIFF
    assert document.party_id == world.plaintiff_participant.party_id
    event = CaseEvent.objects.get(case=world.case, action="enforcement_application")
    assert event.actor == world.plaintiff and event.data["verification_code"] == court_document.verification_code
    assert AuditEntry.objects.filter(action="court_document.sealed").exists()
    entries = RoomEntry.objects.filter(kind="enforcement.applied")
    assert [entry.room_id for entry in entries] == [world.plaintiff_caucus.pk]
    order_event = WorkOrderEvent.objects.get(order=order, action="enforcement_application")
    assert order_event.data["verification_code"] == court_document.verification_code
    assert order_event.data["case"] == world.case.pk
    # The order's timeline says so, in the reader's language.
    client.force_login(people["liaison"])
    page = client.get(reverse("work_order_detail", args=[order.number]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert f"调解案件{world.case.number}：强制执行申请书{court_document.verification_code}" in page.content.decode()
    assert "已申请强制执行" in page.content.decode()


def test_the_other_side_learns_nothing_of_it(client, world):
    world = confirmed_and_overdue(world)
    court_document = apply(world)
    document = Document.objects.get(case=world.case, kind=Document.Kind.ENFORCEMENT_APPLICATION)

    client.force_login(world.defendant)
    page = client.get(reverse("case_documents", args=[world.case.pk])).content.decode()
    assert document.title not in page and court_document.verification_code not in page
    assert client.get(reverse("document_file", args=[document.pk])).status_code == 404
    api = client.get(reverse("api_my_case", args=[world.case.pk])).content.decode()
    assert court_document.verification_code not in api and court_document.sealed_blob_id not in api
    enforcement_page = client.get(reverse("case_enforcement", args=[world.case.pk])).content.decode()
    assert court_document.verification_code not in enforcement_page and document.title not in enforcement_page
    assert not RoomEntry.objects.filter(
        room__in=[world.joint, world.defendant_caucus], kind="enforcement.applied"
    ).exists()
    # The obligee's side and the court (the mediator, the judge) see it and download it.
    for user in (world.mediator, world.judge):
        client.force_login(user)
        assert client.get(reverse("document_file", args=[document.pk])).status_code == 200
    client.force_login(world.plaintiff)
    assert document.title in client.get(reverse("case_documents", args=[world.case.pk])).content.decode()
    assert client.get(reverse("document_file", args=[document.pk])).content == read_blob(court_document.sealed_blob)


def test_nothing_to_enforce_before_the_court_confirmed_the_agreement(world):
    confirm(world, world.agreement, status=JudicialConfirmation.Status.APPLIED)
    _first, second, _third = obligations_of(world, world.agreement)
    become_overdue(second)
    refusal = enforcement_refusal(world.plaintiff, world.case, world.plaintiff_participant.party)
    assert isinstance(refusal, TransitionNotAllowed) and refusal.code == "not_confirmed"
    with pytest.raises(TransitionNotAllowed):
        apply(world)
    assert package_count(world) == (0, 0)


def test_a_rejected_confirmation_gives_nothing_to_enforce(world):
    confirm(world, world.agreement, status=JudicialConfirmation.Status.REJECTED)
    become_overdue(obligations_of(world, world.agreement)[1])
    with pytest.raises(TransitionNotAllowed):
        apply(world)
    assert package_count(world) == (0, 0)


def test_nothing_to_enforce_while_nothing_owed_is_overdue(world):
    confirm(world, world.agreement)
    first, second, _third = obligations_of(world, world.agreement)
    perform(world, first, on=dt.date(2026, 10, 5))
    perform(world, second, on=dt.date(2026, 11, 20), confirmed=False)  # reported, late: not overdue
    refusal = enforcement_refusal(world.plaintiff, world.case, world.plaintiff_participant.party)
    assert isinstance(refusal, TransitionNotAllowed) and refusal.code == "nothing_overdue"
    with pytest.raises(TransitionNotAllowed):
        apply(world)
    assert package_count(world) == (0, 0)


@pytest.mark.parametrize("who", ["defendant", "mediator", "judge", "stranger"])
def test_only_the_obligees_people_apply(world, who):
    world = confirmed_and_overdue(world)
    user = UserFactory() if who == "stranger" else getattr(world, who)
    assert isinstance(enforcement_refusal(user, world.case, world.plaintiff_participant.party), ActionForbidden)
    with pytest.raises(ActionForbidden):
        apply(world, user)
    assert package_count(world) == (0, 0)


def test_the_obligor_cannot_apply_for_what_they_owe_nor_for_themselves(world):
    world = confirmed_and_overdue(world)
    defendant_party = world.defendant_participant.party
    # Nothing is owed to the defendant: the obligor applying for their own party.
    refusal = enforcement_refusal(world.defendant, world.case, defendant_party)
    assert isinstance(refusal, TransitionNotAllowed) and refusal.code == "nothing_overdue"
    with pytest.raises(TransitionNotAllowed), TestCase.captureOnCommitCallbacks(execute=True):
        apply_for_enforcement(case=world.case, actor=world.defendant, obligee=defendant_party)
    assert package_count(world) == (0, 0)


def test_a_party_of_another_case_is_refused(world, people):
    world = confirmed_and_overdue(world)
    other = make_case(people["mediator"], people["judge"], label="B")
    with pytest.raises(ActionForbidden):
        apply_for_enforcement(case=world.case, actor=other.plaintiff, obligee=other.plaintiff_participant.party)
    assert package_count(world) == (0, 0)


def test_the_page_shows_the_package_and_post_makes_it_and_downloads_it(client, world):
    world = confirmed_and_overdue(world)
    client.force_login(world.plaintiff)
    page = client.get(reverse("case_enforcement", args=[world.case.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "data-apply-for-enforcement" in html
    assert html.count("data-attachment=") == 5
    assert "Civil ruling (2026)京0107民特1号" in html  # in the reader's language
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("case_enforcement", args=[world.case.pk]))
    document = Document.objects.get(case=world.case, kind=Document.Kind.ENFORCEMENT_APPLICATION)
    assert response.status_code == 302 and response["Location"] == reverse("document_file", args=[document.pk])
    assert client.get(response["Location"]).content.startswith(b"%PDF-")


def test_the_page_refuses_the_other_side_the_mediator_and_strangers(client, world):
    world = confirmed_and_overdue(world)
    url = reverse("case_enforcement", args=[world.case.pk])
    # The obligor's side applies for its own party only, to which nothing is owed.
    client.force_login(world.defendant)
    page = client.get(url).content.decode()
    assert "data-apply-for-enforcement" not in page and 'data-enforcement-refusal="nothing_overdue"' in page
    assert client.post(url)["Location"] == url
    # The mediator takes no party's part.
    client.force_login(world.mediator)
    page = client.get(url).content.decode()
    assert "data-apply-for-enforcement" not in page and 'data-enforcement-refusal="forbidden"' in page
    assert client.post(url).status_code == 403
    client.force_login(UserFactory())
    assert client.get(reverse("case_enforcement", args=[world.case.pk])).status_code == 404
    assert client.post(reverse("case_enforcement", args=[world.case.pk])).status_code == 404
    assert package_count(world) == (0, 0)


def test_the_page_says_why_not_yet_and_a_post_changes_nothing(client, world):
    confirm(world, world.agreement)
    obligations_of(world, world.agreement)
    client.force_login(world.plaintiff)
    page = client.get(reverse("case_enforcement", args=[world.case.pk])).content.decode()
    assert 'data-enforcement-refusal="nothing_overdue"' in page and "data-apply-for-enforcement" not in page
    response = client.post(reverse("case_enforcement", args=[world.case.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("case_enforcement", args=[world.case.pk])
    assert package_count(world) == (0, 0)
    assert Obligation.objects.filter(case=world.case, status="overdue").count() == 0


def test_the_performance_page_leads_the_obligees_people_to_the_application_and_nobody_else(client, world):
    world.confirmation = confirm(world, world.agreement)
    _first, second, _third = obligations_of(world, world.agreement)
    performance_url = reverse("case_performance", args=[world.case.pk])
    link = f'href="{reverse("case_enforcement", args=[world.case.pk])}" data-enforcement-link'
    # Confirmed, nothing overdue yet: no way to it, for anyone.
    client.force_login(world.plaintiff)
    assert link not in client.get(performance_url).content.decode()
    become_overdue(second)
    page = client.get(performance_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert link in page and "申请强制执行" in page
    # The obligor's side, the mediator and the judge see the page, without the way to it.
    for user in (world.defendant, world.mediator, world.judge):
        client.force_login(user)
        page = client.get(performance_url)
        assert page.status_code == 200 and "data-enforcement-link" not in page.content.decode(), user
