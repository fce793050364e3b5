"""The court documents layer: a document laid out with a place per signer, each
signer's PAdES signature in their place (and every refusal: a stranger, the other
side's place, an agent without special authority, a second signature, a stale
content, a wrong password or texted code), the court's seal and timestamp once the
last place is signed, the kind's handler, the pages and the PDF for who may see the
case only, and /verify/ finding the sealed document by its code and by its file,
and rejecting a tampered copy."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader

from documents.agreement_rules import NoAuthorityToSign
from documents.models import CourtDocument, CourtSignature
from documents.pki import load_platform_pki
from documents.reauthentication import ReauthenticationFailed
from documents.services import court_documents
from documents.services.storage import read_blob
from documents.verification import verify_pdf
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry, PhoneCode
from mediation.roles import Role
from rooms.models import RoomEntry
from tests.cases import make_case
from tests.court_documents import IP, module_transaction, prepare, sign, storages_at
from tests.factories import PASSWORD, DepartmentFactory, UserFactory, staff

pytestmark = pytest.mark.django_db


# A document signed by both parties and sealed, once for the module --------------------------


@pytest.fixture(scope="module")
def module_files(tmp_path_factory):
    return tmp_path_factory.mktemp("court-document-files")


@pytest.fixture(autouse=True)
def _module_files(settings, _isolated_files_and_keys, module_files):
    settings.STORAGES = storages_at(module_files)


class Sealed:
    pass


def civil_world(label: str):
    department = DepartmentFactory(name=f"Civil {label}", code=f"civil-{label.lower()}")
    mediator = staff(Role.MEDIATOR, department, full_name=f"Mediator {label}")
    judge = staff(Role.JUDGE, department, full_name=f"Judge {label}")
    return make_case(mediator, judge, label=label, agent_authority=True)


@pytest.fixture(scope="module")
def sealed(django_db_setup, django_db_blocker, module_files, _platform_keys):
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock(), override_settings(STORAGES=storages_at(module_files), **_platform_keys):
            load_platform_pki.cache_clear()
            handled = []
            saved = court_documents._SEALED_HANDLERS.get("confirmation_application")
            court_documents._SEALED_HANDLERS["confirmation_application"] = [handled.append]
            try:
                world = civil_world("S")
                document = prepare(world)
                plaintiff, defendant = world.plaintiff_participant.party, world.defendant_participant.party
                after_first = sign(document, world.plaintiff, f"party-{plaintiff.pk}", seed=1)
                status_after_first = CourtDocument.objects.get(pk=document.pk).status
                sign(document, world.defendant, f"party-{defendant.pk}", seed=2)
            finally:
                if saved is None:
                    court_documents._SEALED_HANDLERS.pop("confirmation_application", None)
                else:
                    court_documents._SEALED_HANDLERS["confirmation_application"] = saved
            built = Sealed()
            built.world = world
            built.document = CourtDocument.objects.select_related("case").get(pk=document.pk)
            built.pdf = read_blob(built.document.sealed_blob)
            built.handled = handled
            built.first_signature = after_first
            built.status_after_first = status_after_first
            load_platform_pki.cache_clear()
        yield built


def embedded(data: bytes):
    return list(PdfFileReader(io.BytesIO(data)).embedded_signatures)


def test_each_party_signs_in_their_place_then_the_court_seals_and_timestamps(sealed):
    document = sealed.document
    plaintiff, defendant = sealed.world.plaintiff_participant.party, sealed.world.defendant_participant.party

    assert sealed.status_after_first == CourtDocument.Status.AWAITING_SIGNATURES
    assert document.status == CourtDocument.Status.SEALED
    assert document.sealed_at is not None
    assert document.latest_blob_id == document.sealed_blob_id
    signatures = embedded(sealed.pdf)
    assert [s.sig_object_type for s in signatures] == ["/Sig", "/Sig", "/Sig", "/DocTimeStamp"]
    assert [s.field_name for s in signatures[:3]] == [f"party-{plaintiff.pk}", f"party-{defendant.pk}", "platform-seal"]
    names = [s.signer_cert.subject.native["common_name"] for s in signatures[:2]]
    assert names == [str(sealed.world.plaintiff), str(sealed.world.defendant)]
    records = list(CourtSignature.objects.filter(document=document).order_by("signed_at"))
    assert [(r.slot, r.signer_id, r.party_id, r.role) for r in records] == [
        (f"party-{plaintiff.pk}", sealed.world.plaintiff.pk, plaintiff.pk, "agent"),
        (f"party-{defendant.pk}", sealed.world.defendant.pk, defendant.pk, "legal_representative"),
    ]
    assert all(r.content_hash == document.content_hash and r.reauthenticated_by == "password" for r in records)
    assert [int(r.certificate_serial, 16) for r in records] == [s.signer_cert.serial_number for s in signatures[:2]]


def test_the_kinds_handler_runs_once_with_the_sealed_document(sealed):
    assert [document.pk for document in sealed.handled] == [sealed.document.pk]
    assert sealed.handled[0].status == CourtDocument.Status.SEALED


def test_every_step_is_audited_and_posted_in_the_joint_room(sealed):
    actions = list(
        AuditEntry.objects.filter(target_id=str(sealed.document.pk), action__startswith="court_document.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "court_document.prepare",
        "court_document.sign",
        "court_document.sign",
        "court_document.seal",
    ]
    kinds = list(
        RoomEntry.objects.filter(room=sealed.world.joint, kind__startswith="court_document.")
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "court_document.prepared",
        "court_document.signed",
        "court_document.signed",
        "court_document.sealed",
    ]


def test_the_sealed_documents_signatures_validate(sealed):
    report = verify_pdf(sealed.pdf)

    assert report.matches_sealed_original
    assert report.verification_code == sealed.document.verification_code
    assert report.document == "confirmation_application"
    assert report.all_valid
    assert [s.kind for s in report.signatures] == ["signature", "signature", "seal", "document_timestamp"]


def verify_json(client, data: bytes):
    return client.post(
        reverse("verify"),
        {"file": SimpleUploadedFile("court-document.pdf", data, "application/pdf")},
        headers={"Accept": "application/json"},
    )


def test_verify_finds_the_sealed_document_by_its_file(client, sealed):
    body = verify_json(client, sealed.pdf).json()

    assert body["matches_sealed_original"] is True
    assert body["verification_code"] == sealed.document.verification_code
    assert body["all_valid"] is True


def flipped_inside_a_signed_range(data: bytes) -> bytes:
    first_range_end = embedded(data)[0].byte_range[1]
    start = data.index(b"stream\n", 200) + len(b"stream\n") + 20
    assert start < first_range_end
    tampered = bytearray(data)
    tampered[start] ^= 0x01
    return bytes(tampered)


def test_a_tampered_copy_is_rejected_at_verify(client, sealed):
    tampered = flipped_inside_a_signed_range(sealed.pdf)

    body = verify_json(client, tampered).json()

    assert body["matches_sealed_original"] is False
    assert body["verification_code"] is None
    assert body["all_valid"] is False
    page = client.post(reverse("verify"), {"file": SimpleUploadedFile("x.pdf", tampered, "application/pdf")})
    text = page.content.decode()
    assert 'data-result="changed"' in text
    assert 'data-signatures="invalid"' in text


def test_the_verification_page_finds_the_document_by_its_code(client, sealed):
    response = client.get(reverse("verify_record", args=[sealed.document.verification_code.lower()]))

    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-court-document="confirmation_application"' in text
    assert "Application for judicial confirmation" in text
    assert sealed.document.sealed_blob_id in text
    # Names masked, as an agreement's.
    assert str(sealed.world.plaintiff) not in text
    assert client.get(reverse("verify_record", args=["NONE-SUCH-CODE"])).status_code == 404


def test_the_sealed_pdf_is_served_to_the_case_and_to_nobody_else(client, sealed):
    world = sealed.world
    url = reverse("court_document_pdf", args=[sealed.document.pk, "sealed"])
    for user in (world.plaintiff, world.defendant, world.mediator, world.judge):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content if response.streaming else [response.content]) == sealed.pdf
        assert response["Content-Disposition"].startswith("attachment")
    for outsider in (UserFactory(), staff(Role.MEDIATOR, DepartmentFactory(code="elsewhere"))):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.get(reverse("court_document_sign", args=[sealed.document.pk])).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_a_sealed_document_takes_no_more_signatures(sealed):
    plaintiff = sealed.world.plaintiff_participant.party
    assert court_documents.court_document_signer_slots(sealed.document, sealed.world.plaintiff) == []
    with pytest.raises(TransitionNotAllowed, match="not waiting for signatures"):
        sign(sealed.document, sealed.world.plaintiff, f"party-{plaintiff.pk}")


# Refusals, each on a fresh document ---------------------------------------------------------


@pytest.fixture
def world(db):
    return civil_world("R")


@pytest.fixture
def document(world):
    return prepare(world)


def snapshot(document) -> tuple:
    document = CourtDocument.objects.get(pk=document.pk)
    return (CourtSignature.objects.filter(document=document).count(), document.status, document.latest_blob_id)


def slot_of(participant) -> str:
    return f"party-{participant.party_id}"


def test_a_stranger_cannot_sign(world, document):
    stranger = UserFactory()
    before = snapshot(document)

    with pytest.raises(ActionForbidden, match="do not represent"):
        sign(document, stranger, slot_of(world.plaintiff_participant))
    assert court_documents.court_document_signer_slots(document, stranger) == []
    assert snapshot(document) == before


def test_the_other_side_cannot_sign_your_place(world, document):
    before = snapshot(document)

    with pytest.raises(ActionForbidden, match="do not represent"):
        sign(document, world.defendant, slot_of(world.plaintiff_participant))
    with pytest.raises(ActionForbidden, match="do not represent"):
        sign(document, world.mediator, slot_of(world.plaintiff_participant))
    assert snapshot(document) == before
    assert [e["slot"] for e in court_documents.court_document_signer_slots(document, world.defendant)] == [
        slot_of(world.defendant_participant)
    ]


def test_an_agent_without_special_authority_cannot_sign(db):
    department = DepartmentFactory(name="Civil N", code="civil-n")
    world = make_case(staff(Role.MEDIATOR, department), staff(Role.JUDGE, department), label="N")
    document = prepare(world)
    before = snapshot(document)

    with pytest.raises(NoAuthorityToSign) as refused:
        sign(document, world.plaintiff, slot_of(world.plaintiff_participant))
    assert refused.value.code == "no_power_of_attorney"
    assert court_documents.court_document_signer_slots(document, world.plaintiff) == []
    assert [r.code for r in court_documents.authority_refusals(document, world.plaintiff)] == ["no_power_of_attorney"]
    assert snapshot(document) == before


def test_a_place_is_signed_once(world, document):
    slot = slot_of(world.plaintiff_participant)
    sign(document, world.plaintiff, slot)

    with pytest.raises(TransitionNotAllowed, match="already been signed here"):
        sign(document, world.plaintiff, slot)
    assert CourtSignature.objects.filter(document=document).count() == 1
    assert CourtDocument.objects.get(pk=document.pk).status == CourtDocument.Status.AWAITING_SIGNATURES


def test_a_signature_on_content_other_than_the_documents_is_refused(world, document):
    before = snapshot(document)

    with pytest.raises(TransitionNotAllowed, match="changed since you opened it"):
        sign(document, world.plaintiff, slot_of(world.plaintiff_participant), content_hash="0" * 64)
    with pytest.raises(TransitionNotAllowed, match="no such signature place"):
        sign(document, world.plaintiff, "mediator")
    assert snapshot(document) == before


def test_a_wrong_password_signs_nothing_and_is_audited(world, document):
    before = snapshot(document)

    with pytest.raises(ReauthenticationFailed, match="password is not right"):
        sign(document, world.plaintiff, slot_of(world.plaintiff_participant), password="wrong")
    assert snapshot(document) == before
    entry = AuditEntry.objects.get(action="court_document.reauthentication_failed")
    assert entry.data["slot"] == slot_of(world.plaintiff_participant)
    assert entry.data["method"] == "password"
    assert "wrong" not in str(entry.data)


def with_verified_phone(user, number="+8613912345670"):
    from django.utils import timezone

    user.phone, user.phone_verified_at = number, timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def texted_code(sms_outbox) -> str:
    return re.search(r"(?<!\d)(\d{6})(?!\d)", sms_outbox[-1].body).group(1)


def test_a_texted_code_names_the_document_signs_it_and_a_wrong_code_counts(world, document, sms_outbox):
    with_verified_phone(world.defendant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        court_documents.send_court_document_code(world.defendant, document, client_address=IP)
    # In the signer's language (Chinese unless they chose English).
    assert "司法确认申请书" in sms_outbox[-1].body
    assert world.case.number in sms_outbox[-1].body
    code = texted_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    slot = slot_of(world.defendant_participant)

    with pytest.raises(ReauthenticationFailed, match="not right"):
        sign(document, world.defendant, slot, password="", sms_code=wrong)
    assert PhoneCode.objects.filter(phone=world.defendant.phone).latest("created_at").failed_attempts == 1
    assert snapshot(document)[0] == 0

    signature = sign(document, world.defendant, slot, password="", sms_code=code)
    assert signature.reauthenticated_by == "sms"


def test_a_code_texted_for_another_document_does_not_sign_this_one(world, document, sms_outbox):
    other = prepare(world)
    with_verified_phone(world.defendant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        court_documents.send_court_document_code(world.defendant, other, client_address=IP)
    # The same content makes the same hash: this one differs by its content.
    CourtDocument.objects.filter(pk=document.pk).update(content_hash="f" * 64)

    with pytest.raises((ReauthenticationFailed, TransitionNotAllowed)):
        sign(
            document,
            world.defendant,
            slot_of(world.defendant_participant),
            password="",
            sms_code=texted_code(sms_outbox),
        )
    assert snapshot(document)[0] == 0


def test_no_code_is_texted_to_someone_with_nothing_to_sign(world, document, sms_outbox):
    stranger = with_verified_phone(UserFactory(), "+8613912345671")

    with pytest.raises(ActionForbidden, match="nothing for you to sign"):
        court_documents.send_court_document_code(stranger, document, client_address=IP)
    assert not sms_outbox


def test_a_persons_place_is_signed_by_that_person_only(world):
    slots = [{"slot": "judge", "role": "judge", "user": world.judge.pk, "name": str(world.judge)}]
    document = prepare(world, slots=slots, kind=CourtDocument.Kind.RULING)

    with pytest.raises(ActionForbidden, match=r"for .* to sign"):
        sign(document, world.mediator, "judge")
    assert [e["slot"] for e in court_documents.court_document_signer_slots(document, world.judge)] == ["judge"]
    sign(document, world.judge, "judge")
    document.refresh_from_db()
    assert document.status == CourtDocument.Status.SEALED
    assert CourtSignature.objects.get(document=document).role == "judge"


def test_a_document_without_signers_is_sealed_when_made(world):
    document = prepare(world, slots=[], kind=CourtDocument.Kind.ENFORCEMENT_APPLICATION)

    assert document.status == CourtDocument.Status.SEALED
    report = verify_pdf(read_blob(document.sealed_blob))
    assert report.matches_sealed_original and report.all_valid
    assert [s.kind for s in report.signatures] == ["seal", "document_timestamp"]


def test_a_kind_may_refuse_signing_for_a_reason_of_its_own(world, document, monkeypatch):
    monkeypatch.setitem(
        court_documents._SIGNING_REFUSALS,
        document.kind,
        [lambda doc: TransitionNotAllowed("Closed for the test.")],
    )

    assert court_documents.court_document_signer_slots(document, world.plaintiff) == []
    with pytest.raises(TransitionNotAllowed, match="Closed for the test"):
        sign(document, world.plaintiff, slot_of(world.plaintiff_participant))


def test_a_voided_document_takes_no_signature(world, document):
    court_documents.void_court_document(document=document, actor=world.mediator, reason="withdrawn")

    with pytest.raises(TransitionNotAllowed, match="not waiting for signatures"):
        sign(document, world.plaintiff, slot_of(world.plaintiff_participant))
    assert AuditEntry.objects.filter(action="court_document.void").count() == 1


# The page -------------------------------------------------------------------------------------


def test_the_sign_page_lets_a_signer_sign_in_their_place(client, world, document):
    client.force_login(world.defendant)
    page = client.get(reverse("court_document_sign", args=[document.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "data-sign-form" in text
    assert f'data-place="{slot_of(world.defendant_participant)}" data-signed="no"' in text

    response = client.post(
        reverse("court_document_sign", args=[document.pk]),
        {
            "version_hash": document.content_hash,
            "slot": slot_of(world.defendant_participant),
            "method": "typed",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 302
    assert CourtSignature.objects.get(document=document).signer == world.defendant
    page = client.get(reverse("court_document_sign", args=[document.pk])).content.decode()
    assert f'data-place="{slot_of(world.defendant_participant)}" data-signed="yes"' in page
    assert "data-sign-form" not in page


def test_the_sign_page_shows_no_form_to_the_mediator_and_refuses_their_post(client, world, document):
    client.force_login(world.mediator)
    page = client.get(reverse("court_document_sign", args=[document.pk]))
    assert page.status_code == 200
    assert "data-sign-form" not in page.content.decode()

    response = client.post(
        reverse("court_document_sign", args=[document.pk]),
        {"version_hash": document.content_hash, "slot": slot_of(world.plaintiff_participant), "method": "typed"},
    )
    assert response.status_code == 403
    assert not CourtSignature.objects.filter(document=document).exists()


def test_the_latest_pdf_is_for_the_case_only(client, world, document):
    url = reverse("court_document_pdf", args=[document.pk, "latest"])
    client.force_login(world.plaintiff)
    assert client.get(url).status_code == 200
    assert client.get(reverse("court_document_pdf", args=[document.pk, "sealed"])).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


@pytest.fixture
def rate_limited(settings):
    """The rate limits of base settings (the test settings switch them off)."""
    from django.core.cache import cache

    from config.settings import base as base_settings

    settings.ACCOUNT_RATE_LIMITS = base_settings.ACCOUNT_RATE_LIMITS
    cache.clear()
    yield
    cache.clear()


def post_signature(client, document, slot, **fields):
    return client.post(
        reverse("court_document_sign", args=[document.pk]),
        {"version_hash": document.content_hash, "slot": slot, "method": "typed", **fields},
    )


def test_wrong_passwords_on_the_sign_page_are_throttled_like_logins(client, world, document, rate_limited):
    client.force_login(world.defendant)
    slot = slot_of(world.defendant_participant)
    for attempt in range(5):
        response = post_signature(client, document, slot, password=f"guess-{attempt}")
        assert response.status_code == 400, attempt
        assert "password is not right" in response.content.decode()

    response = post_signature(client, document, slot, password=PASSWORD)

    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert snapshot(document)[0] == 0
    assert AuditEntry.objects.filter(action="court_document.reauthentication_failed").count() == 5


def test_the_sign_page_texts_a_code_and_signs_with_it(client, world, document, sms_outbox):
    with_verified_phone(world.defendant, "+8613912345672")
    client.force_login(world.defendant)
    slot = slot_of(world.defendant_participant)

    with TestCase.captureOnCommitCallbacks(execute=True):
        page = post_signature(client, document, slot, send_code="1")
    assert page.status_code == 200
    assert "data-sms-code" in page.content.decode()
    assert snapshot(document)[0] == 0

    response = post_signature(client, document, slot, sms_code=texted_code(sms_outbox))

    assert response.status_code == 302
    assert CourtSignature.objects.get(document=document).reauthenticated_by == "sms"


def test_a_code_is_texted_to_nobody_with_nothing_to_sign_through_the_page(client, world, document, sms_outbox):
    with_verified_phone(world.plaintiff, "+8613912345673")
    sign(document, world.plaintiff, slot_of(world.plaintiff_participant))
    client.force_login(world.plaintiff)

    response = post_signature(client, document, slot_of(world.plaintiff_participant), send_code="1")

    assert response.status_code == 403
    assert "nothing for you to sign" in response.content.decode()
    assert not sms_outbox
