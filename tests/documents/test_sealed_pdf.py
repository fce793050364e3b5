"""The sealed agreement as a court, a party or a stranger checks it: pyHanko validates
every signature against the platform CA (days after the one-hour signer certificates
expired), the document timestamp covers the whole file, the Chinese text is real
text, and every kind of tampering is caught by `/verify/`.

One agreement is signed and sealed for the whole module, inside a transaction rolled
back at its end; the tests only read it (each in a savepoint of that transaction)."""

import datetime as dt
import io
import re
from contextlib import contextmanager
from urllib.parse import quote

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from documents.models import Agreement, Signature
from documents.pki import generate_platform_pki, load_platform_pki, write_platform_pki
from documents.reauthentication import Reauthentication
from documents.services import agreements
from documents.services.storage import read_blob
from documents.verification import verify_pdf
from mediation.models import MediationCase, Party, User
from mediation.roles import Role
from tests.cases import make_case
from tests.factories import PASSWORD, DepartmentFactory, staff
from tests.identities import valid_id_number, verify_in_person, verify_phone

pytestmark = pytest.mark.django_db

PLAINTIFF_NAME = "上海星河文化传媒有限公司"
DEFENDANT_NAME = "北京云图科技有限公司"
MEDIATOR_NAME = "刘洋"
PLAINTIFF_AGENT = "王志强"
DEFENDANT_AGENT = "赵丽华"
PLAINTIFF_AGENT_ID_NUMBER = valid_id_number("11010519800101001")


# The module's sealed agreement -------------------------------------------------------------


@pytest.fixture(scope="module")
def module_files(tmp_path_factory):
    return tmp_path_factory.mktemp("sealed-files")


def storages_at(location) -> dict:
    return {
        **django_settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }


@pytest.fixture(autouse=True)
def _module_files(settings, _isolated_files_and_keys, module_files):
    settings.STORAGES = storages_at(module_files)


@contextmanager
def module_transaction(django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def drawn_signature(seed: int) -> bytes:
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    points = [(40 + 100 * i, 60 + ((i * 37 + seed * 53) % 140)) for i in range(6)]
    ImageDraw.Draw(image).line(points, fill=(10, 20, 120, 255), width=9)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Sealed:
    agreement: Agreement
    pdf: bytes
    case: MediationCase
    signers: list[User]


def seal_one_agreement() -> Sealed:
    department = DepartmentFactory(name="民事审判第二庭", code="civil-sealed")
    mediator = staff(Role.MEDIATOR, department, full_name=MEDIATOR_NAME)
    world = make_case(mediator, staff(Role.JUDGE, department, full_name="张伟"), label="Z", agent_authority=True)
    plaintiff, defendant = world.plaintiff_participant.party, world.defendant_participant.party
    Party.objects.filter(pk=plaintiff.pk).update(name=PLAINTIFF_NAME, credit_code="91310000MA1FL0000X")
    Party.objects.filter(pk=defendant.pk).update(name=DEFENDANT_NAME, address="北京市海淀区中关村大街1号")
    User.objects.filter(pk=world.plaintiff.pk).update(full_name=PLAINTIFF_AGENT)
    User.objects.filter(pk=world.defendant.pk).update(full_name=DEFENDANT_AGENT)
    plaintiff_user, defendant_user = User.objects.get(pk=world.plaintiff.pk), User.objects.get(pk=world.defendant.pk)
    # Identity levels when signing: the plaintiff's agent verified in person by the
    # mediator, the defendant's representative by SMS code only, the mediator neither.
    plaintiff_user = verify_in_person(
        verify_phone(plaintiff_user, "+8613800138001"),
        by=mediator,
        full_name=PLAINTIFF_AGENT,
        id_number=PLAINTIFF_AGENT_ID_NUMBER,
        case=world.case,
    )
    defendant_user = verify_phone(defendant_user, "+8613800138002")
    agreement = agreements.start_agreement(case=world.case, actor=mediator)
    instalments = [
        {
            "kind": "payment",
            "obligor": defendant.pk,
            "obligee": plaintiff.pk,
            "amount": "50000",
            "method": "银行转账至原告指定账户",
            "due_date": f"2027-{month:02d}-15",
        }
        for month in range(1, 11)
    ]
    agreements.update_draft(
        agreement=agreement,
        actor=mediator,
        facts="\n".join(["原告与被告于2025年签订视频制作合同，约定由原告为被告制作宣传视频，制作费五十万元。"] * 6),
        terms=instalments,
        costs="本次调解不收取费用。",
        effectiveness="本协议经双方当事人及调解员签署并经平台加盖时间戳后生效。",
        judicial_confirmation=True,
        default_clause={"enabled": True, "grace_days": 15, "penalty": "interest", "rate": "6"},
    )
    version = agreements.lock_agreement(agreement=agreement, actor=mediator)
    signers = [
        (mediator, None),
        (plaintiff_user, Party.objects.get(pk=plaintiff.pk)),
        (defendant_user, Party.objects.get(pk=defendant.pk)),
    ]
    with TestCase.captureOnCommitCallbacks(execute=True):
        for index, (user, party) in enumerate(signers):
            agreements.sign_agreement(
                agreement=Agreement.objects.get(pk=agreement.pk),
                actor=user,
                version_hash=version.content_hash,
                party=party,
                method="drawn",
                image_png=drawn_signature(index),
                reauthentication=Reauthentication(password=PASSWORD),
                ip="203.0.113.5",
                user_agent="pytest",
            )
    sealed = Sealed()
    sealed.agreement = Agreement.objects.select_related("case").get(pk=agreement.pk)
    assert sealed.agreement.status == Agreement.Status.SEALED
    sealed.pdf = read_blob(sealed.agreement.sealed_blob)
    sealed.case = sealed.agreement.case
    sealed.signers = [user for user, _party in signers]
    return sealed


@pytest.fixture(scope="module")
def sealed(django_db_setup, django_db_blocker, module_files, _platform_keys):
    with module_transaction(django_db_blocker):
        with (
            django_db_blocker.unblock(),
            override_settings(STORAGES=storages_at(module_files), **_platform_keys),
        ):
            load_platform_pki.cache_clear()
            built = seal_one_agreement()
            load_platform_pki.cache_clear()
        yield built


def platform_context(**kwargs) -> ValidationContext:
    return ValidationContext(
        trust_roots=[load_platform_pki().authority.asn1_certificate], allow_fetching=False, **kwargs
    )


def embedded(data: bytes):
    return list(PdfFileReader(io.BytesIO(data)).embedded_signatures)


# pyHanko, directly ---------------------------------------------------------------------------


def test_one_signature_per_signer_mediator_first_then_a_document_timestamp(sealed):
    signatures = embedded(sealed.pdf)
    plaintiff, defendant = sealed.case.parties.get(side="plaintiff"), sealed.case.parties.get(side="defendant")

    assert [s.sig_object_type for s in signatures] == ["/Sig", "/Sig", "/Sig", "/Sig", "/DocTimeStamp"]
    assert [s.field_name for s in signatures[:4]] == [
        "mediator",
        f"party-{plaintiff.pk}",
        f"party-{defendant.pk}",
        "platform-seal",
    ]
    names = [s.signer_cert.subject.native["common_name"] for s in signatures[:3]]
    assert names == [MEDIATOR_NAME, PLAINTIFF_AGENT, DEFENDANT_AGENT]
    assert [s.signer_cert.serial_number for s in signatures[:3]] == [
        int(serial, 16)
        for serial in Signature.objects.filter(version__agreement=sealed.agreement)
        .order_by("signed_at")
        .values_list("certificate_serial", flat=True)
    ]
    # The mediator's is a certification signature that allows form filling only.
    assert signatures[0].docmdp_level == MDPPerm.FILL_FORMS
    assert "/Perms" in PdfFileReader(io.BytesIO(sealed.pdf)).root


def test_each_signature_is_intact_valid_and_trusted_against_the_platform_ca(sealed):
    for signature in embedded(sealed.pdf)[:3]:
        status = validate_pdf_signature(signature, platform_context(), ts_validation_context=platform_context())
        assert (status.intact, status.valid, status.trusted) == (True, True, True), signature.field_name
        assert status.bottom_line, status.pretty_print_details()
        assert status.docmdp_ok is not False
        assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        assert status.timestamp_validity is not None and status.timestamp_validity.trusted
        issuer = status.signing_cert.issuer
        assert issuer == load_platform_pki().authority.asn1_certificate.subject


def test_the_document_timestamp_covers_the_entire_file(sealed):
    timestamp = embedded(sealed.pdf)[-1]
    status = validate_pdf_timestamp(timestamp, validation_context=platform_context())
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    byte_range = timestamp.byte_range
    assert byte_range[0] == 0
    assert byte_range[2] + byte_range[3] == len(sealed.pdf)


def test_still_trusted_two_days_later_although_signer_certificates_lived_one_hour(sealed):
    later = timezone.now() + dt.timedelta(days=2)
    for signature in embedded(sealed.pdf)[:3]:
        not_after = signature.signer_cert.not_valid_after
        assert not_after - signature.signer_cert.not_valid_before == dt.timedelta(hours=1)
        assert not_after < later
    with time_machine.travel(later, tick=False):
        report = verify_pdf(sealed.pdf)
    assert report.all_valid
    assert [s.trusted for s in report.signatures] == [True, True, True, True, True]
    assert report.matches_sealed_original


def test_the_signature_images_are_in_each_signature_appearance(sealed):
    reader = PdfReader(io.BytesIO(sealed.pdf))
    images = {}
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/FT") == "/Sig":
                appearance = annotation.get("/AP")
                found = list(_images_in(appearance["/N"].get_object())) if appearance else []
                images[str(annotation["/T"])] = found
    party_fields = [f"party-{party.pk}" for party in sealed.case.parties.all()]
    assert set(images) >= {"mediator", *party_fields}
    for name in ["mediator", *party_fields]:
        assert images[name], f"no image in the appearance of {name}"
        width, height = images[name][0]
        assert width >= 300 and height >= 100


def _seal_annotations(data: bytes) -> list:
    return [
        annotation.get_object()
        for page in PdfReader(io.BytesIO(data)).pages
        for annotation in page.get("/Annots") or []
        if annotation.get_object().get("/T") == "platform-seal"
    ]


def test_the_court_seal_shows_where_the_platform_sealed_after_every_signer(sealed):
    seal = embedded(sealed.pdf)[3]
    assert seal.field_name == "platform-seal"
    assert seal.signer_cert.serial_number == load_platform_pki().seal.certificate.serial_number
    status = validate_pdf_signature(seal, platform_context(), ts_validation_context=platform_context())
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    [annotation] = _seal_annotations(sealed.pdf)
    assert list(_images_in(annotation["/AP"]["/N"].get_object())) == [(600, 600)]
    # Before sealing the place is there, empty: no seal shows on a version in signing.
    [empty] = _seal_annotations(read_blob(sealed.agreement.current_version.locked_blob))
    assert "/V" not in empty
    assert "/AP" not in empty or not list(_images_in(empty["/AP"]["/N"].get_object()))


@pytest.mark.parametrize(
    ("language", "which", "expected"),
    [
        ("zh-hans", "sealed", "调解协议书-{number}.pdf"),
        ("en", "sealed", "mediation-agreement-{number}.pdf"),
        ("zh-hans", "certificate", "签署证书-{number}.pdf"),
        ("en", "certificate", "signing-certificate-{number}.pdf"),
    ],
)
def test_the_agreement_files_are_named_in_the_readers_language(client, sealed, language, which, expected):
    reader = sealed.signers[1]
    User.objects.filter(pk=reader.pk).update(language=language)
    client.force_login(reader)

    response = client.get(reverse("agreement_pdf", args=[sealed.agreement.pk, which]))

    assert response.status_code == 200
    name = expected.format(number=sealed.case.number)
    assert f"filename*=UTF-8''{quote(name, safe='')}" in response["Content-Disposition"]
    assert response["Content-Disposition"].isascii()


def _images_in(xobject, seen=None):
    seen = set() if seen is None else seen
    resources = xobject.get("/Resources", {})
    resources = resources.get_object() if resources else {}
    for child in (resources.get("/XObject") or {}).values():
        child_object = child.get_object()
        key = id(child_object)
        if key in seen:
            continue
        seen.add(key)
        if child_object.get("/Subtype") == "/Image":
            yield int(child_object["/Width"]), int(child_object["/Height"])
        elif child_object.get("/Subtype") == "/Form":
            yield from _images_in(child_object, seen)


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_chinese_party_names_are_real_text_in_the_pdf(sealed):
    text = squashed("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(sealed.pdf)).pages))
    for name in (PLAINTIFF_NAME, DEFENDANT_NAME, PLAINTIFF_AGENT, DEFENDANT_AGENT, sealed.case.number):
        assert squashed(name) in text
    assert "50,000.00" in text


def pdf_text(data: bytes) -> str:
    return squashed("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_the_sealed_pdf_names_the_parties_plaintiff_and_defendant_as_the_case_does(sealed):
    text = pdf_text(sealed.pdf)

    assert f"原告：{PLAINTIFF_NAME}" in text
    assert f"被告：{DEFENDANT_NAME}" in text
    assert "申请人" not in text


def test_the_sealed_pdf_states_where_it_was_signed_and_the_certificate_the_day_it_took_effect(sealed):
    text = pdf_text(sealed.pdf)
    assert "签订地点：北京市石景山区人民法院在线调解平台" in text
    assert "签订日期：以下列最后一方签名之日为准" in text

    certificate = pdf_text(read_blob(sealed.agreement.certificate_blob))
    sealed_on = timezone.localdate(sealed.agreement.sealed_at)
    assert "北京市石景山区人民法院在线调解平台" in certificate
    assert f"签订日期（生效日期）{sealed_on.year}年{sealed_on.month}月{sealed_on.day}日" in certificate


def test_each_signature_records_the_signers_identity_level_when_signing(sealed):
    signatures = Signature.objects.filter(version__agreement=sealed.agreement).order_by("signed_at", "id")
    assert [(signature.identity_level, signature.identity_verifier) for signature in signatures] == [
        ("account", ""),
        ("real_name", "in_person"),
        ("mobile", ""),
    ]


def test_a_real_name_verified_signers_certificate_carries_the_keyed_hash_of_their_id_number_only(sealed):
    from cryptography.x509.oid import NameOID

    from documents.pki import ID_NUMBER_HASH_PREFIX
    from mediation.id_numbers import keyed_hash

    by_signer = {
        signature.signer_id: x509.load_pem_x509_certificate(signature.certificate_pem.encode())
        for signature in Signature.objects.filter(version__agreement=sealed.agreement)
    }
    mediator, plaintiff, defendant = sealed.signers

    pseudonyms = by_signer[plaintiff.pk].subject.get_attributes_for_oid(NameOID.PSEUDONYM)
    assert [attribute.value for attribute in pseudonyms] == [
        ID_NUMBER_HASH_PREFIX + keyed_hash(PLAINTIFF_AGENT_ID_NUMBER)
    ]
    assert by_signer[plaintiff.pk].subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == PLAINTIFF_AGENT
    for certificate in by_signer.values():
        assert PLAINTIFF_AGENT_ID_NUMBER not in certificate.public_bytes(serialization.Encoding.PEM).decode()
        assert PLAINTIFF_AGENT_ID_NUMBER.encode() not in certificate.public_bytes(serialization.Encoding.DER)
    # Those whose real name is not verified have no ID-number hash in theirs.
    for user in (mediator, defendant):
        assert by_signer[user.pk].subject.get_attributes_for_oid(NameOID.PSEUDONYM) == []
    assert PLAINTIFF_AGENT_ID_NUMBER.encode() not in sealed.pdf


def test_the_signing_certificate_page_shows_each_signers_identity_level(sealed):
    certificate = pdf_text(read_blob(sealed.agreement.certificate_blob))

    assert "签署时身份核验" in certificate
    rows = {name: certificate.index(squashed(name)) for name in (MEDIATOR_NAME, PLAINTIFF_AGENT, DEFENDANT_AGENT)}
    # Each signer's row holds their level, in the order they signed.
    mediator_row = certificate[rows[MEDIATOR_NAME] : rows[PLAINTIFF_AGENT]]
    plaintiff_row = certificate[rows[PLAINTIFF_AGENT] : rows[DEFENDANT_AGENT]]
    defendant_row = certificate[rows[DEFENDANT_AGENT] :]
    assert "仅注册账号" in mediator_row
    assert "已实名认证" in plaintiff_row and "法院工作人员当面核验" in plaintiff_row
    assert "手机号已验证" in defendant_row.split("已签署文件的修订")[0]
    # The ID number itself is never on the page.
    assert PLAINTIFF_AGENT_ID_NUMBER not in certificate


def test_the_sealed_pdf_holds_the_default_and_acceleration_clause_after_the_instalments(sealed):
    text = pdf_text(sealed.pdf)

    clause = (
        f"11.{DEFENDANT_NAME}如有上述任何一期款项逾期超过15日或未足额支付，剩余未付款项全部提前到期，"
        f"{PLAINTIFF_NAME}有权就全部未付款项申请强制执行。{DEFENDANT_NAME}并应按年利率6%向{PLAINTIFF_NAME}"
        "支付逾期款项的利息"
    )
    assert clause in text


def test_every_page_shows_the_verification_code(sealed):
    pages = PdfReader(io.BytesIO(sealed.pdf)).pages
    assert len(pages) >= 2
    url_path = reverse("verify_record", args=[sealed.agreement.verification_code])
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert sealed.agreement.verification_code in text, f"page {number}"
        assert url_path in squashed(text), f"page {number}"
        assert f"{number} / {len(pages)}" in text


# Tampering, caught by /verify/ -----------------------------------------------------------------


def verify_json(client, data: bytes, name="agreement.pdf"):
    response = client.post(
        reverse("verify"),
        {"file": SimpleUploadedFile(name, data, "application/pdf")},
        headers={"Accept": "application/json"},
    )
    return response


def verify_page(client, data: bytes) -> str:
    response = client.post(reverse("verify"), {"file": SimpleUploadedFile("agreement.pdf", data, "application/pdf")})
    return response


def flipped_inside_a_signed_range(data: bytes) -> bytes:
    """One byte of the first page's content stream changed: still a readable PDF."""
    first_range_end = embedded(data)[0].byte_range[1]
    start = data.index(b"stream\n", 200) + len(b"stream\n") + 20
    assert start < first_range_end
    tampered = bytearray(data)
    tampered[start] ^= 0x01
    return bytes(tampered)


def with_page_content_appended(data: bytes) -> bytes:
    """An incremental update that draws over the first page (a changed amount)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    stream = generic.StreamObject(stream_data=b"q 1 0 0 rg 100 700 200 40 re f Q")
    writer.add_stream_to_page(0, writer.add_object(stream))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def truncated_last_revision(data: bytes) -> bytes:
    """The file cut inside its last revision (the document timestamp)."""
    timestamp = embedded(data)[-1]
    cut = timestamp.byte_range[1] + (timestamp.byte_range[2] - timestamp.byte_range[1]) // 2
    return data[:cut]


TAMPERS = {
    "flipped_byte": flipped_inside_a_signed_range,
    "appended_update": with_page_content_appended,
    "truncated": truncated_last_revision,
}


def test_the_untouched_file_is_the_sealed_original_and_all_valid(client, sealed):
    response = verify_json(client, sealed.pdf)

    assert response.status_code == 200
    body = response.json()
    assert body["matches_sealed_original"] is True
    assert body["verification_code"] == sealed.agreement.verification_code
    assert body["all_valid"] is True
    assert [s["signer"] for s in body["signatures"][:3]] == [MEDIATOR_NAME, PLAINTIFF_AGENT, DEFENDANT_AGENT]
    assert len(body["signatures"]) == 5
    assert all(s["intact"] and s["valid"] and s["trusted"] and not s["modified_after"] for s in body["signatures"])
    page = verify_page(client, sealed.pdf).content.decode()
    assert 'data-result="original"' in page
    assert 'data-signatures="valid"' in page


def test_a_byte_flipped_inside_a_signed_range_is_detected(client, sealed):
    tampered = flipped_inside_a_signed_range(sealed.pdf)

    body = verify_json(client, tampered).json()

    assert body["matches_sealed_original"] is False
    assert body["verification_code"] is None
    assert body["all_valid"] is False
    assert not all(s["intact"] for s in body["signatures"])
    page = verify_page(client, tampered).content.decode()
    assert 'data-result="changed"' in page
    assert 'data-signatures="invalid"' in page


def test_an_appended_update_changing_page_content_is_detected(client, sealed):
    tampered = with_page_content_appended(sealed.pdf)
    assert tampered.startswith(sealed.pdf)

    body = verify_json(client, tampered).json()

    assert body["matches_sealed_original"] is False
    assert body["all_valid"] is False
    # The signatures themselves are intact; what follows them is not allowed.
    assert all(s["intact"] for s in body["signatures"])
    assert all(s["modified_after"] for s in body["signatures"])
    page = verify_page(client, tampered).content.decode()
    assert 'data-result="changed"' in page
    assert 'data-signatures="invalid"' in page


def test_a_truncated_last_revision_is_detected(client, sealed):
    tampered = truncated_last_revision(sealed.pdf)

    response = verify_json(client, tampered)

    # Cut inside the platform's timestamp, the file has no end: it is refused as
    # unreadable, which says neither "original" nor "valid".
    assert response.status_code == 400
    assert "not a readable PDF" in response.json()["error"]
    page = verify_page(client, tampered)
    assert page.status_code == 400
    assert "not a readable PDF" in page.content.decode()
    assert 'data-result="original"' not in page.content.decode()
    assert 'data-signatures="valid"' not in page.content.decode()
    report = verify_pdf(tampered)
    assert (report.readable, report.matches_sealed_original, report.all_valid) == (False, False, False)


def test_validation_against_another_root_is_not_trusted(client, sealed, tmp_path, settings):
    other = generate_platform_pki()

    report = verify_pdf(sealed.pdf, trust_roots=[other.authority.asn1_certificate])

    assert report.matches_sealed_original
    assert report.signatures and not any(s.trusted for s in report.signatures)
    assert not report.all_valid
    # A platform whose CA is another one says the same through /verify/.
    settings.PKI_AUTHORITY_FILE = str(tmp_path / "authority.p12")
    settings.PKI_TIMESTAMPING_FILE = str(tmp_path / "timestamping.p12")
    settings.PKI_SEAL_FILE = str(tmp_path / "seal.p12")
    write_platform_pki(other)
    load_platform_pki.cache_clear()
    body = verify_json(client, sealed.pdf).json()
    assert body["all_valid"] is False
    assert not any(s["trusted"] for s in body["signatures"])
    assert 'data-signatures="invalid"' in verify_page(client, sealed.pdf).content.decode()


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_verify_pdf_reports_every_tampered_file(sealed, tamper):
    report = verify_pdf(TAMPERS[tamper](sealed.pdf))
    assert not report.matches_sealed_original
    assert not report.all_valid


def test_a_file_that_is_not_a_pdf_gets_a_clear_error(client):
    response = verify_json(client, b"not a pdf at all")
    assert response.status_code == 400
    assert "not a readable PDF" in response.json()["error"]
    assert verify_json(client, b"", name="empty.pdf").status_code == 400


def test_verifying_changes_nothing_and_needs_no_sign_in(client, sealed):
    before = (Agreement.objects.count(), Signature.objects.count())
    verify_json(client, flipped_inside_a_signed_range(sealed.pdf))
    assert (Agreement.objects.count(), Signature.objects.count()) == before


# The public record ------------------------------------------------------------------------------


def test_the_verification_record_shows_case_masked_parties_signers_and_the_final_hash(client, sealed):
    response = client.get(reverse("verify_record", args=[sealed.agreement.verification_code]))

    assert response.status_code == 200
    page = response.content.decode()
    assert sealed.case.number in page
    assert sealed.agreement.sealed_blob_id in page
    for full_name in (PLAINTIFF_NAME, DEFENDANT_NAME, PLAINTIFF_AGENT, DEFENDANT_AGENT, MEDIATOR_NAME):
        assert full_name not in page
    assert "上海" in page and "公司" in page
    assert PLAINTIFF_NAME[:2] + "*" in page
    assert "刘*" in page
    for signature in Signature.objects.filter(version__agreement=sealed.agreement):
        assert timezone.localtime(signature.signed_at).strftime("%Y-%m-%d %H:%M:%S") in page
    # The code is not case sensitive; an unknown code is a clear 404.
    assert client.get(reverse("verify_record", args=[sealed.agreement.verification_code.lower()])).status_code == 200
    unknown = client.get(reverse("verify_record", args=["AAAA-BBBB-CCCC"]))
    assert unknown.status_code == 404
    assert "No document has this verification code" in unknown.content.decode()


def test_the_verification_record_tells_each_signers_identity_level_when_signing(client, sealed):
    import re

    page = client.get(reverse("verify_record", args=[sealed.agreement.verification_code])).content.decode()

    assert re.findall(r'data-identity-level="(\w+)"', page) == ["account", "real_name", "mobile"]
    assert "Real name verified" in page and "Mobile number verified" in page
    assert PLAINTIFF_AGENT_ID_NUMBER not in page


def test_the_ca_certificate_is_downloadable(client):
    response = client.get(reverse("verify_ca"))
    assert response.status_code == 200
    certificate = x509.load_pem_x509_certificate(response.content)
    assert certificate == load_platform_pki().authority.certificate
    assert "attachment" in response["Content-Disposition"]
