"""The paper signer's box in the sealed agreement: the platform fills the field of a
party who signed a paper copy in person with its own signature, whose appearance says
so; verification names it as the platform's record, never as the party's signature."""

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from documents import paper_box
from documents.agreement_rendering import paper_signature_rows
from documents.agreement_rules import MEDIATOR_SLOT, party_slot
from documents.models import Agreement
from documents.models.in_person import InPersonAct
from documents.pki import load_platform_pki
from documents.services.storage import read_blob
from documents.signing import SEAL_FIELD
from documents.verification import verify_pdf
from tests.cases import make_case
from tests.in_person import confirm, fresh, locked_agreement, record, sign

pytestmark = pytest.mark.django_db

PAPER = InPersonAct.Kind.PAPER_SIGNATURE


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


@pytest.fixture
def mixed(world, people):
    """Sealed: the mediator and the plaintiff's agent signed digitally, the defendant
    signed a paper copy at the court, witnessed by the mediator, confirmed by the judge."""
    agreement = locked_agreement(world)
    sign(agreement, world.mediator)
    sign(agreement, world.plaintiff, world.plaintiff_participant.party)
    act = record(world, kind=PAPER, agreement=agreement, person_name="赵老伯")
    confirm(act, people["judge"])
    agreement = fresh(agreement)
    assert agreement.status == Agreement.Status.SEALED
    act = InPersonAct.objects.select_related("party", "witness", "confirmed_by", "scan").get(pk=act.pk)
    return agreement, act


def signature_fields(pdf: bytes) -> dict:
    reader = PdfFileReader(io.BytesIO(pdf))
    return {name: (value, field) for name, value, field in enumerate_sig_fields(reader, filled_status=True)}


def appearance_images(field) -> list:
    """The images drawn in a signature field's widget appearance, however nested."""
    field = field.get_object() if isinstance(field, generic.IndirectObject) else field
    found = []

    def walk(xobject):
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Image":
            found.append(xobject)
            return
        resources = xobject.get("/Resources")
        if resources is None:
            return
        for child in resources.get_object().get("/XObject", {}).values():
            walk(child)

    walk(field["/AP"]["/N"])
    return found


def test_the_paper_signers_box_shows_that_it_was_signed_on_paper_in_person(world, mixed):
    agreement, act = mixed
    sealed = read_blob(agreement.sealed_blob)
    slot = party_slot(world.defendant_participant.party)
    assert act.slot == slot

    fields = signature_fields(sealed)

    # The box is filled, with an appearance that is the paper statement in Chinese.
    assert slot in fields
    with translation.override("zh-hans"):
        row = paper_signature_rows([act])[0]
        heading, lines = paper_box.paper_box_lines(act, row)
        expected = paper_box.paper_box_stamp(act, row)
    assert heading == "纸质签署（线下）"
    assert lines[0] == "赵老伯（当事人本人）"
    assert "于法院，第三调解室" in lines[1]
    assert lines[2] == f"见证：{world.mediator}　复核：{act.confirmed_by}"
    assert lines[3].startswith("扫描件 SHA-256") and act.scan.blob_id[:12] in lines[3]
    images = [image for image in appearance_images(fields[slot][1]) if image["/Width"] == expected.width]
    assert len(images) == 1
    assert images[0].data == expected.convert("RGB").tobytes()
    assert images[0]["/SMask"].get_object().data == expected.getchannel("A").tobytes()


def test_the_paper_box_is_signed_by_the_platform_and_says_it_records_a_paper_signature(world, mixed):
    agreement, act = mixed
    sealed = read_blob(agreement.sealed_blob)
    reader = PdfFileReader(io.BytesIO(sealed))
    embedded = {signature.field_name: signature for signature in reader.embedded_signatures}
    paper = embedded[act.slot]
    pki = load_platform_pki()

    status = validate_pdf_signature(paper, ValidationContext(trust_roots=[pki.authority.asn1_certificate]))

    # Never a certificate in the party's name: the platform's own seal certificate.
    assert status.signing_cert.dump() == pki.seal.asn1_certificate.dump()
    assert act.party.name not in status.signing_cert.subject.human_friendly
    assert status.intact and status.valid
    reason = str(paper.sig_object["/Reason"])
    assert "纸质文本" in reason and act.party.name in reason
    # Filled before the court's seal and the timestamp, after the digital signatures.
    order = [s.field_name for s in sorted(embedded.values(), key=lambda s: s.signed_revision)]
    assert order.index(act.slot) > order.index(MEDIATOR_SLOT)
    assert order.index(act.slot) < order.index(SEAL_FIELD)


def test_verification_accepts_the_mixed_agreement_and_names_the_paper_record(world, mixed):
    agreement, act = mixed

    report = verify_pdf(read_blob(agreement.sealed_blob))

    assert report.matches_sealed_original
    assert report.all_valid
    kinds = {check.field: check.kind for check in report.signatures}
    assert kinds[act.slot] == "paper_signature"
    assert kinds[MEDIATOR_SLOT] == "signature"
    assert kinds[party_slot(world.plaintiff_participant.party)] == "signature"
    assert kinds[SEAL_FIELD] == "seal"
    assert sorted(kinds.values()).count("document_timestamp") == 1
    assert len(report.signatures) == 5
    digital = [check for check in report.signatures if check.kind == "signature"]
    assert all(check.intact and check.valid and check.trusted and not check.modified_after for check in digital)


@override_settings(VERIFY_THROTTLE_REQUESTS=100)
def test_the_verify_page_says_the_box_is_the_platforms_record_not_the_partys_signature(world, mixed, client):
    agreement, _act = mixed
    sealed = read_blob(agreement.sealed_blob)

    page = client.post(
        reverse("verify"),
        {"file": SimpleUploadedFile("agreement.pdf", sealed, "application/pdf")},
        headers={"Accept-Language": "zh-hans"},
    ).content.decode()
    body = client.post(
        reverse("verify"),
        {"file": SimpleUploadedFile("agreement.pdf", sealed, "application/pdf")},
        headers={"Accept": "application/json"},
    ).json()

    assert 'data-signatures="valid"' in page
    assert "data-paper-signature" in page
    assert "平台对该签署的记录，并非签署人本人的电子签名" in page
    assert body["all_valid"] is True
    assert [s["kind"] for s in body["signatures"]].count("paper_signature") == 1


def test_the_record_page_by_code_still_shows_the_paper_signature(world, mixed, client):
    agreement, act = mixed

    page = client.get(reverse("verify_record", args=[agreement.verification_code])).content.decode()

    assert "data-paper-signature" in page
    assert act.scan.blob_id in page


def test_an_agreement_signed_only_digitally_gets_no_paper_record(world, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no paper box to fill")

    monkeypatch.setattr(paper_box, "sign_field", refuse)
    agreement = locked_agreement(world)
    sign(agreement, world.mediator)
    sign(agreement, world.plaintiff, world.plaintiff_participant.party)
    sign(agreement, world.defendant, world.defendant_participant.party)

    agreement = fresh(agreement)

    assert agreement.status == Agreement.Status.SEALED
    report = verify_pdf(read_blob(agreement.sealed_blob))
    assert report.all_valid
    assert "paper_signature" not in {check.kind for check in report.signatures}


def test_without_paper_signatures_the_file_is_left_untouched():
    pdf = b"%PDF-1.7 not even parsed"

    assert paper_box.fill_paper_boxes(pdf, []) is pdf


def test_the_box_names_the_party_when_someone_signed_for_it():
    act = SimpleNamespace(capacity="legal_representative")
    row = {
        "person": "王经理",
        "capacity": "法定代表人",
        "party": "北京科技有限公司",
        "place": "调解组织，二楼调解室",
        "occurred_at": dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC),
        "witness": "马建国",
        "confirmed_by": "张伟",
        "scan_sha256": "0123456789abcdef" * 4,
    }

    with translation.override("zh-hans"):
        heading, lines = paper_box.paper_box_lines(act, row)

    assert heading == "纸质签署（线下）"
    assert lines == [
        "王经理（法定代表人）代北京科技有限公司",
        "2026-12-07 于调解组织，二楼调解室",
        "见证：马建国　复核：张伟",
        "扫描件 SHA-256 前12位 0123456789ab…",
    ]
