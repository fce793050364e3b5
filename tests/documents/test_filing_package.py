"""When mediation fails (调解不成): the mediator records the facts both sides accepted,
the platform seals the filing package for the case-filing division (PDF with the
complaint and the proofs of service embedded, and the same data as JSON), only the
court reads it, and the work order goes back to its handler with a link to it."""

import io
import json

import pytest
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from documents.models import CourtDocument, Service
from documents.pki import load_platform_pki
from documents.services.serving import proof_of_service
from documents.services.storage import read_blob
from mediation.models import CaseEvent, MediationCase, Notification, WorkOrder
from mediation.selectors.work_orders import my_orders
from tests.failure import PLAINTIFF_ID_NUMBER, REASON, UNDISPUTED, fail, failing_world

pytestmark = pytest.mark.django_db


def package_of(case) -> CourtDocument:
    return CourtDocument.objects.get(case=case, kind=CourtDocument.Kind.FILING_PACKAGE)


def pdf_text(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return text.replace("\n", "").replace(" ", "")


def squeezed(value: str) -> str:
    return value.replace("\n", "").replace(" ", "")


def json_of(client, case) -> dict:
    response = client.get(reverse("filing_package_json", args=[case.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(b"".join(response.streaming_content) if response.streaming else response.content)


def platform_context() -> ValidationContext:
    return ValidationContext(trust_roots=[load_platform_pki().authority.asn1_certificate], allow_fetching=False)


@pytest.fixture
def world(people):
    return failing_world(people)


# The package ----------------------------------------------------------------------------


def test_failing_seals_one_filing_package_whose_pdf_and_json_say_the_same(client, world):
    case = fail(world)

    assert case.status == MediationCase.Status.FAILED and case.undisputed_facts == UNDISPUTED
    package = package_of(case)
    assert package.status == CourtDocument.Status.SEALED and package.signature_slots == []
    client.force_login(world.mediator)
    data = json_of(client, case)
    content = data["content"]
    assert data["verification_code"] == package.verification_code and data["pdf_sha256"] == package.sealed_blob_id
    # The JSON is the sealed content, with the ID numbers as the PDF prints them.
    assert {k: v for k, v in content.items() if k != "parties"} == {
        k: v for k, v in package.content.items() if k != "parties"
    }
    assert content["case_number"] == case.number
    assert content["failure"]["reason"] == REASON
    assert content["failure"]["recorded_by"]["name"] == str(world.mediator)
    assert content["undisputed_facts"] == {"text": UNDISPUTED, "none_accepted": False}
    assert content["claims"]["facts"] == "原告向被告出售设备一批，被告尚欠货款。"
    assert content["claims"]["claim_amount"] == "500000.00"
    plaintiff, defendant = content["parties"]
    assert (plaintiff["name"], plaintiff["id_number"], plaintiff["phone"]) == (
        "张三",
        PLAINTIFF_ID_NUMBER,
        "+8613812345678",
    )
    assert (defendant["credit_code"], defendant["legal_representative"]) == ("91310000MA1FL0000X", "李四")
    assert "id_number_hash" not in plaintiff
    # The stored record carries no ID number in clear.
    assert PLAINTIFF_ID_NUMBER not in json.dumps(package.content)
    assert [row["sha256"] for row in content["evidence"]] == [world.evidence.blob_id]
    assert content["evidence"][0]["submitted_by"] == {"name": "张三", "standing": "plaintiff", "party": "张三"}
    [complaint] = content["complaints"]
    assert complaint["sha256"] == world.complaint.blob_id and complaint["served"][0]["recipient"] == "李四"
    [service] = content["services"]
    assert [step["step"] for step in service["steps"]] == ["prepared", "sent", "delivered", "acknowledged"]

    # The Chinese PDF says what the JSON says.
    text = pdf_text(read_blob(package.sealed_blob))
    for words in (
        "调解不成移送立案材料",
        "无争议事实",
        "证据清单",
        "送达地址确认",
        content["case_number"],
        content["failure"]["reason"],
        content["undisputed_facts"]["text"],
        content["claims"]["facts"],
        content["mediator"]["name"],
        plaintiff["name"],
        plaintiff["id_number"],
        plaintiff["address"],
        defendant["name"],
        defendant["credit_code"],
        content["evidence"][0]["title"],
        content["evidence"][0]["sha256"][:16],
        complaint["title"],
        complaint["sha256"][:16],
        "lisi@example.com",
        package.verification_code,
    ):
        assert squeezed(words) in text, words


def test_the_package_is_sealed_and_timestamped_over_its_embedded_files_and_verifiable(client, world):
    package = package_of(fail(world))
    pdf = read_blob(package.sealed_blob)

    seal, timestamp = list(PdfFileReader(io.BytesIO(pdf)).embedded_signatures)
    assert seal.field_name == "platform-seal"
    assert seal.signer_cert.serial_number == load_platform_pki().seal.certificate.serial_number
    status = validate_pdf_signature(seal, platform_context(), ts_validation_context=platform_context())
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    stamp = validate_pdf_timestamp(timestamp, validation_context=platform_context())
    assert (stamp.intact, stamp.valid, stamp.trusted) == (True, True, True)
    assert stamp.coverage == SignatureCoverageLevel.ENTIRE_FILE

    page = client.get(reverse("verify_record", args=[package.verification_code]))
    assert page.status_code == 200 and 'data-court-document="filing_package"' in page.content.decode()
    assert "张三" not in page.content.decode()  # names masked


def test_the_complaint_and_the_proof_of_service_are_embedded_byte_for_byte(world):
    package = package_of(fail(world))

    embedded = {
        name: data[0] for name, data in PdfReader(io.BytesIO(read_blob(package.sealed_blob))).attachments.items()
    }
    assert embedded == {
        "complaint-1.pdf": world.complaint_bytes,
        # The court's copy of the proof, as kept for the service's state.
        "service-proof-1.pdf": proof_of_service(Service.objects.get(pk=world.service.pk), for_court=True),
    }
    assert read_blob(world.complaint.blob) == world.complaint_bytes
    assert {a["filename"]: a["sha256"] for a in package.content["attachments"]}["complaint-1.pdf"] == (
        world.complaint.blob_id
    )


def test_a_party_who_confirmed_no_address_is_said_to_have_none(client, world):
    package = package_of(fail(world))

    plaintiff, defendant = package.content["service_addresses"]
    assert (plaintiff["name"], plaintiff["confirmed"], plaintiff["electronic"]) == ("张三", False, [])
    assert plaintiff["postal"] == {"address": "北京市朝阳区建国路1号", "confirmed": False}
    assert defendant["confirmed"] is True
    [address] = defendant["electronic"]
    assert (address["person"], address["email"], address["platform_account"]) == ("李四", "lisi@example.com", True)
    text = pdf_text(read_blob(package.sealed_blob))
    assert "张三未在平台确认送达地址" in text
    assert "未经当事人在平台确认" in text


def test_evidence_one_side_gave_the_mediator_alone_stays_out_of_the_package(world):
    package = package_of(fail(world))

    assert world.side_only_evidence.blob_id not in json.dumps(package.content)
    assert "内部对账单" not in pdf_text(read_blob(package.sealed_blob))


def test_a_mediator_who_records_no_undisputed_fact_says_so_and_the_package_says_so(world):
    package = package_of(fail(world, undisputed_facts=""))

    assert package.content["undisputed_facts"] == {"text": "", "none_accepted": True}
    assert "调解员记录双方当事人没有无争议事实" in pdf_text(read_blob(package.sealed_blob))


def test_a_case_without_a_work_order_gets_its_package_too(client, people):
    world = failing_world(people, with_order=False)
    case = fail(world)

    package = package_of(case)
    assert package.content["work_order"] is None and package.content["claims"]["application"] is None
    assert CaseEvent.objects.filter(case=case, action="filing_package", actor=None).count() == 1
    client.force_login(world.mediator)
    assert client.get(reverse("filing_package_pdf", args=[case.pk])).status_code == 200


def test_settling_or_withdrawing_makes_no_filing_package(people):
    from mediation.services import cases

    world = failing_world(people)
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="撤回")
    assert not CourtDocument.objects.filter(case=world.case, kind=CourtDocument.Kind.FILING_PACKAGE).exists()


# Who reads it --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mediator", "judge", "liaison", "head", "dept_liaison"])
def test_the_court_downloads_the_package(client, people, world, who):
    case = fail(world)
    client.force_login(people[who])

    pdf = client.get(reverse("filing_package_pdf", args=[case.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
    assert body == read_blob(package_of(case).sealed_blob)
    assert json_of(client, case)["content"]["case_number"] == case.number


@pytest.mark.parametrize("who", ["plaintiff", "defendant"])
def test_the_parties_cannot_download_the_package_by_any_way(client, world, who):
    case = fail(world)
    package = package_of(case)
    client.force_login(getattr(world, who))

    assert client.get(reverse("filing_package_pdf", args=[case.pk])).status_code == 404
    assert client.get(reverse("filing_package_json", args=[case.pk])).status_code == 404
    assert client.get(reverse("court_document_pdf", args=[package.pk, "sealed"])).status_code == 404
    assert client.get(reverse("court_document_sign", args=[package.pk])).status_code == 404
    page = client.get(reverse("case_detail", args=[case.pk]))
    assert page.status_code == 200 and "data-filing-package" not in page.content.decode()


@pytest.mark.parametrize("who", ["other_judge", "outside_judge", "nobody"])
def test_court_staff_of_other_cases_cannot_download_the_package(client, people, world, who):
    case = fail(world)
    client.force_login(people[who])

    assert client.get(reverse("filing_package_pdf", args=[case.pk])).status_code == 404
    assert client.get(reverse("filing_package_json", args=[case.pk])).status_code == 404


def test_an_open_case_has_no_package_to_download(client, world):
    client.force_login(world.mediator)
    assert client.get(reverse("filing_package_pdf", args=[world.case.pk])).status_code == 404


def test_the_failed_case_page_shows_the_package_to_the_court(client, world):
    case = fail(world)
    client.force_login(world.judge)

    text = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert f'data-filing-package="{package_of(case).verification_code}"' in text
    assert reverse("filing_package_pdf", args=[case.pk]) in text
    assert reverse("filing_package_json", args=[case.pk]) in text
    # The court documents' own pages serve it to the court as well.
    package = package_of(case)
    assert client.get(reverse("court_document_pdf", args=[package.pk, "sealed"])).status_code == 200
    assert client.get(reverse("court_document_sign", args=[package.pk])).status_code == 200


# The fail action's form ----------------------------------------------------------------------


def test_the_mediator_must_write_the_undisputed_facts_or_say_there_are_none(client, world):
    client.force_login(world.mediator)
    url = reverse("case_action", args=[world.case.pk, "fail"])

    response = client.post(url, {"fail-reason": REASON})
    assert response.status_code == 400
    response = client.post(url, {"fail-reason": REASON, "fail-undisputed_facts": "x", "fail-no_undisputed_facts": "on"})
    assert response.status_code == 400
    assert MediationCase.objects.get(pk=world.case.pk).status == MediationCase.Status.IN_MEDIATION
    assert not CourtDocument.objects.filter(case=world.case).exists()

    response = client.post(url, {"fail-reason": REASON, "fail-undisputed_facts": UNDISPUTED})
    assert response.status_code == 302
    case = MediationCase.objects.get(pk=world.case.pk)
    assert case.status == MediationCase.Status.FAILED and case.undisputed_facts == UNDISPUTED
    assert package_of(case).content["undisputed_facts"]["text"] == UNDISPUTED


# The work order -------------------------------------------------------------------------------


def test_the_work_order_records_the_outcome_with_the_package_and_goes_back_to_its_handler(client, people, world):
    case = fail(world)
    order = WorkOrder.objects.get(pk=world.order.pk)
    package = package_of(case)

    event = order.events.get(action="mediation_outcome")
    assert event.data["outcome"] == MediationCase.Status.FAILED
    assert event.data["filing_package"] == {
        "court_document": package.pk,
        "verification_code": package.verification_code,
        "sha256": package.sealed_blob_id,
    }
    # Back with its handler, the judge, as an open to-do whose clock runs again.
    assert order.status == WorkOrder.Status.IN_PROGRESS and order.assignee == world.judge
    assert not order.is_in_mediation_pause and order.paused_at is None
    assert order in my_orders(world.judge)
    notice = Notification.objects.get(recipient=world.judge, kind="case.failed.answer_requester")
    assert notice.params["case"] == case.number
    # The order's page links to the package for whoever handles it.
    client.force_login(world.judge)
    text = client.get(reverse("work_order_detail", args=[order.number])).content.decode()
    assert "data-filing-package-link" in text and reverse("filing_package_pdf", args=[case.pk]) in text
    assert package.verification_code in text


def test_an_order_whose_requester_was_answered_goes_back_to_its_handler_to_report(people):
    from mediation.services import work_orders

    world = failing_world(people)
    work_orders.reply_to_requester(order=world.order, actor=world.judge, content="已电话告知", channel="phone")
    fail(world)

    order = WorkOrder.objects.get(pk=world.order.pk)
    assert order.status == WorkOrder.Status.REPLIED
    assert Notification.objects.filter(recipient=world.judge, kind="case.failed.back_to_handler").count() == 1
    assert not Notification.objects.filter(recipient=world.judge, kind="case.failed.answer_requester").exists()


def test_undisputed_facts_beyond_the_limit_are_refused_and_nothing_changes(world):
    from django.core.exceptions import ValidationError

    from mediation.services import cases

    with pytest.raises(ValidationError) as refused:
        cases.fail_case(case=world.case, actor=world.mediator, reason=REASON, undisputed_facts="事" * 20001)
    assert "undisputed_facts" in refused.value.message_dict
    case = MediationCase.objects.get(pk=world.case.pk)
    assert case.status == MediationCase.Status.IN_MEDIATION and case.undisputed_facts == ""
    assert not CourtDocument.objects.filter(case=case).exists()
