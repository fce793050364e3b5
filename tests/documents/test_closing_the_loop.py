"""Closing the loop: a hotline work order becomes a mediation case, the parties join by
invitation, the complaint is served, the agreement is signed and sealed, the case is
settled, the order comes back for confirmation, is closed (the webhook is queued) and
gets its return visit. And the JSON the parties' apps read."""

import base64
import datetime as dt
import html
import io
import json
import re
import uuid

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from PIL import Image, ImageDraw
from pypdf import PdfWriter

from documents.models import Agreement, Document, Service, ServiceStep, Signature
from documents.services import agreements, serving
from documents.services.uploads import upload_document
from documents.verification import verify_pdf
from mediation.models import MediationCase, Notification, Participant, User, WebhookDelivery, WebhookEndpoint, WorkOrder
from mediation.services import cases
from mediation.services import work_orders as order_services
from mediation.sms.backends.locmem import outbox as sms_outbox
from rooms.membership import member_of
from rooms.models import Room, RoomEntry
from rooms.store import PostRequest, store_messages
from tests.cases import make_case
from tests.factories import WorkOrderFactory, refresh

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status

PASSWORDS = {"agent@plaintiff.example.test": "Quiet-river-2026", "legal@defendant.example.test": "Calm-lake-2026"}
PHONES = {"agent@plaintiff.example.test": "+8613700137001", "legal@defendant.example.test": "+8613700137002"}


def pdf_file() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "起诉状"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def drawn_signature_data_url() -> str:
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(30, 200), (150, 40), (300, 190), (570, 60)], fill=(0, 0, 0, 255), width=7)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def shown_invitation_token(response) -> str:
    match = re.search(r'<input[^>]*value="([^"]+)"[^>]*data-invitation-link', response.content.decode())
    assert match, "no invitation link on the page"
    return re.search(r"/invite/([^/]+)/$", html.unescape(match.group(1))).group(1)


def invite_and_join(client, case, mediator, party, *, email, full_name, role) -> User:
    """The mediator invites on the case page; the person follows the link, creates an
    account through it and lands on the case."""
    client.force_login(mediator)
    response = client.post(
        reverse("case_action", args=[case.pk, "invite"]),
        {"invite-party": party.pk, "invite-role": role, "invite-full_name": full_name, "invite-email": email},
    )
    assert response.status_code == 200, response.content
    token = shown_invitation_token(response)
    client.logout()
    assert client.get(reverse("invitation", args=[token])).status_code == 200
    password = PASSWORDS[email]
    with TestCase.captureOnCommitCallbacks(execute=True):
        signed_up = client.post(
            reverse("account_signup"),
            {
                "phone": PHONES[email],
                "email": email,
                "password1": password,
                "password2": password,
                "full_name": full_name,
            },
        )
    assert signed_up["Location"] == reverse("account_verify_phone")
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms_outbox[-1].body).group(1)
    signed_up = client.post(reverse("account_verify_phone"), {"code": code})
    assert signed_up.status_code == 302
    assert signed_up["Location"] == reverse("case_detail", args=[case.pk])
    client.logout()
    return User.objects.get(email=email)


def sign_on_the_page(client, agreement, user, party, *, method="drawn", password) -> None:
    client.force_login(user)
    page = client.get(reverse("agreement_sign", args=[agreement.pk]))
    assert page.status_code == 200
    version_hash = page.context["form"].initial["version_hash"]
    response = client.post(
        reverse("agreement_sign", args=[agreement.pk]),
        {
            "version_hash": version_hash,
            "party": party.pk if party else "",
            "method": method,
            "signature": drawn_signature_data_url() if method == "drawn" else "",
            "password": password,
        },
        REMOTE_ADDR="203.0.113.50",
        HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) WeChat",
    )
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("agreement_detail", args=[agreement.pk])


def post_in_room(room: Room, user: User, body: str):
    [result] = store_messages(
        [PostRequest(room_id=room.pk, author=member_of(user, room), client_id=uuid.uuid4(), body=body)]
    )
    return result


def test_a_hotline_order_is_settled_by_a_sealed_agreement_and_closed_with_a_return_visit(
    client, people, settings, django_capture_on_commit_callbacks
):
    settings.ROOM_CLOSE_GRACE_MINUTES = 90
    liaison, judge, mediator = people["liaison"], people["judge"], people["mediator"]
    WebhookEndpoint.objects.create(name="hotline", url="http://127.0.0.1:9/hook", secret="hotline-secret")

    # A call to the 12368 hotline is dispatched to the judge, who refers it to mediation.
    order = WorkOrderFactory(channel="hotline", requester_name="张先生", content="视频制作费五十万元未付，请求调解。")
    order_services.dispatch_work_order(order=order, actor=liaison, department=judge.department, assignee=judge)
    client.force_login(judge)
    referred = client.post(
        reverse("work_order_action", args=[order.number, "refer_to_mediation"]),
        {
            "refer_to_mediation-mediator": mediator.pk,
            "refer_to_mediation-cause_of_action": "合同纠纷",
            "refer_to_mediation-claim_amount": "500000",
            "refer_to_mediation-facts": "",
        },
    )
    assert referred.status_code == 302
    case = MediationCase.objects.get(work_order=order)
    assert (case.mediator, case.judge, refresh(order).status) == (mediator, judge, Status.IN_PROGRESS)

    # The mediator adds the parties and invites their people, who join through the link.
    plaintiff_party = cases.add_party(
        case=case, actor=mediator, side="plaintiff", kind="organisation", name="上海星河文化传媒有限公司"
    )
    defendant_party = cases.add_party(
        case=case, actor=mediator, side="defendant", kind="organisation", name="北京云图科技有限公司"
    )
    plaintiff = invite_and_join(
        client, case, mediator, plaintiff_party, email="agent@plaintiff.example.test", full_name="王律师", role="agent"
    )
    defendant = invite_and_join(
        client,
        case,
        mediator,
        defendant_party,
        email="legal@defendant.example.test",
        full_name="赵总",
        role="legal_representative",
    )
    assert Participant.active.get(user=plaintiff).party == plaintiff_party
    assert Participant.active.get(user=defendant).party == defendant_party

    # The plaintiff's agent uploads the complaint; the defendant consents to electronic
    # service; the mediator serves it; the defendant opens and acknowledges it.
    client.force_login(plaintiff)
    uploaded = client.post(
        reverse("document_upload", args=[case.pk]),
        {
            "file": SimpleUploadedFile("起诉状.pdf", pdf_file()),
            "kind": "complaint",
            "title": "起诉状",
            "visibility": "case",
        },
        headers={"Accept": "application/json"},
    )
    assert uploaded.status_code == 201
    complaint = Document.objects.get(pk=uploaded.json()["id"])
    client.force_login(defendant)
    client.post(reverse("service_consent", args=[case.pk]), {"email": defendant.email, "agree": "on"})
    client.force_login(mediator)
    defendant_participant = Participant.active.get(user=defendant)
    with django_capture_on_commit_callbacks(execute=True):
        served = client.post(
            reverse("service_new", args=[case.pk]),
            {"recipient": defendant_participant.pk, "documents": [complaint.pk], "method": "electronic"},
        )
    service = Service.objects.get()
    assert served["Location"] == reverse("service_detail", args=[service.pk])
    client.force_login(defendant)
    assert client.get(reverse("document_file", args=[complaint.pk])).status_code == 200
    client.post(reverse("service_action", args=[service.pk, "acknowledge"]))
    service.refresh_from_db()
    assert service.status == Service.Status.ACKNOWLEDGED
    assert list(service.steps.values_list("step", flat=True)) == [
        "prepared",
        "sent",
        "delivered",
        "opened",
        "acknowledged",
    ]
    joint = Room.objects.get(case=case, kind="joint")
    assert RoomEntry.objects.filter(room=joint, kind="document.served").exists()

    # The mediator drafts the agreement on its page and locks it.
    client.force_login(mediator)
    started = client.post(reverse("agreement_for_case", args=[case.pk]))
    agreement = Agreement.objects.get(case=case)
    assert started["Location"] == reverse("agreement_edit", args=[agreement.pk])
    edited = client.post(
        reverse("agreement_edit", args=[agreement.pk]),
        {
            "facts": "原告为被告制作宣传视频，被告未支付制作费五十万元。",
            "costs": "本次调解不收取费用。",
            "effectiveness": "本协议经各方签署并由平台加盖时间戳后生效。",
            "judicial_confirmation": "on",
            "terms-TOTAL_FORMS": "1",
            "terms-INITIAL_FORMS": "0",
            "terms-0-kind": "payment",
            "terms-0-obligor": defendant_party.pk,
            "terms-0-obligee": plaintiff_party.pk,
            "terms-0-amount": "500000",
            "terms-0-method": "银行转账",
            "terms-0-due_date": "2026-12-31",
        },
    )
    assert edited.status_code == 302, edited.content.decode()
    preview = client.get(reverse("agreement_preview", args=[agreement.pk])).content.decode()
    assert "500,000.00" in preview
    client.post(reverse("agreement_lock", args=[agreement.pk]))
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.LOCKED

    # The mediator signs first, then both parties; the last signature seals it.
    sign_on_the_page(client, agreement, mediator, None, method="typed", password="correct-horse-battery")
    sign_on_the_page(client, agreement, plaintiff, plaintiff_party, password=PASSWORDS[plaintiff.email])
    with django_capture_on_commit_callbacks(execute=True):
        sign_on_the_page(client, agreement, defendant, defendant_party, password=PASSWORDS[defendant.email])

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SEALED
    signatures = list(Signature.objects.filter(version=agreement.current_version))
    assert [(s.signer, s.party) for s in signatures] == [
        (mediator, None),
        (plaintiff, plaintiff_party),
        (defendant, defendant_party),
    ]
    assert {s.user_agent for s in signatures} == {"Mozilla/5.0 (Linux; Android 14) WeChat"}
    report = verify_pdf(client.get(reverse("agreement_pdf", args=[agreement.pk, "sealed"])).content)
    assert report.matches_sealed_original and report.all_valid
    assert report.verification_code == agreement.verification_code

    # The case is settled; the joint room records the seal and closes after the grace period.
    case.refresh_from_db()
    assert case.status == MediationCase.Status.SETTLED
    sealed_event = RoomEntry.objects.get(room=joint, kind="agreement.sealed")
    assert sealed_event.data["verification_code"] == agreement.verification_code
    assert sealed_event.data["sha256"] == agreement.sealed_blob_id
    joint.refresh_from_db()
    assert joint.closes_at == agreement.sealed_at + dt.timedelta(minutes=90)
    assert post_in_room(joint, plaintiff, "谢谢调解员。").outcome == "stored"
    with time_machine.travel(joint.closes_at + dt.timedelta(seconds=1), tick=False):
        late = post_in_room(joint, plaintiff, "还有一个问题")
    assert (late.outcome, late.code) == ("refused", "room_closed")
    assert not RoomEntry.objects.filter(room=joint, body="还有一个问题").exists()

    # The work order has the outcome and the agreement on its timeline; nobody has told
    # the requester yet, so no answer is recorded and the order is still the judge's.
    order = refresh(order)
    assert order.status == Status.IN_PROGRESS
    assert (order.replied_at, order.replies.count()) == (None, 0)
    outcome_event = order.events.get(action="mediation_outcome")
    assert outcome_event.to_status == Status.IN_PROGRESS
    assert outcome_event.data["agreement"] == agreement.pk
    assert outcome_event.data["verification_code"] == agreement.verification_code
    assert outcome_event.data["sha256"] == agreement.sealed_blob_id
    assert outcome_event.data["outcome"] == MediationCase.Status.SETTLED
    concluded = set(Notification.objects.filter(kind="case.concluded").values_list("recipient", flat=True))
    assert {people["liaison"].pk, people["dept_liaison"].pk} <= concluded
    assert people["outside_judge"].pk not in concluded

    # The judge calls the requester and records it; the department reports back.
    order_services.reply_to_requester(order=order, actor=judge, content="已电话告知调解成功。", channel="phone")
    order_services.submit_for_confirmation(order=order, actor=people["dept_liaison"])

    # The general liaison confirms and closes it: the webhook is queued.
    client.force_login(liaison)
    closed = client.post(
        reverse("work_order_action", args=[order.number, "close"]), {"close-outcome": "调解结案，协议已签署。"}
    )
    assert closed.status_code == 302
    order = refresh(order)
    assert order.status == Status.CLOSED
    [delivery] = WebhookDelivery.objects.filter(event="work_order.closed")
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert json.loads(delivery.body)["data"]["number"] == order.number

    # The return visit is now due, and the liaison records it.
    assert order.return_visited_at is None
    page = client.get(reverse("work_order_detail", args=[order.number]))
    assert "return_visit" in page.context["action_forms"]
    visited = client.post(
        reverse("work_order_action", args=[order.number, "return_visit"]),
        {
            "return_visit-reached": "yes",
            "return_visit-resolved": "yes",
            "return_visit-satisfaction": "satisfied",
            "return_visit-comment": "款项已按期支付。",
        },
    )
    assert visited.status_code == 302
    order = refresh(order)
    assert order.return_visited_at is not None
    assert order.return_visit_satisfaction == "satisfied"
    assert order.status == Status.CLOSED

    # The parties' app sees the case, the service with its steps and the sealed agreement.
    client.force_login(defendant)
    body = client.get(reverse("api_my_case", args=[case.pk])).json()
    assert body["case"]["status"] == "settled"
    [api_agreement] = body["agreements"]
    assert api_agreement["status"] == "sealed"
    assert api_agreement["version_hash"] == agreement.current_version.content_hash
    assert api_agreement["verification_code"] == agreement.verification_code
    assert api_agreement["sealed_sha256"] == agreement.sealed_blob_id
    sealed_pdf = client.get(api_agreement["sealed_pdf_url"])
    assert sealed_pdf.status_code == 200 and sealed_pdf.content.startswith(b"%PDF-")
    certificate = client.get(api_agreement["signing_certificate_url"])
    assert verify_pdf(certificate.content).document == "signing_certificate"
    [api_service] = body["services"]
    assert [step["step"] for step in api_service["steps"]] == [
        "prepared",
        "sent",
        "delivered",
        "opened",
        "acknowledged",
    ]


# The JSON API ----------------------------------------------------------------------------------


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def other_world(people):
    return make_case(people["mediator"], None, label="B")


@pytest.fixture
def served(world):
    complaint = upload_document(
        case=world.case, actor=world.mediator, data=pdf_file(), filename="起诉状.pdf", kind="complaint"
    )
    serving.record_consent(case=world.case, user=world.plaintiff, ip="203.0.113.9")
    return serving.serve_electronically(
        case=world.case, actor=world.mediator, recipient=world.plaintiff, documents=[complaint], ip="198.51.100.1"
    )


def test_a_party_lists_only_their_own_cases(client, world, other_world):
    client.force_login(world.plaintiff)
    response = client.get(reverse("api_my_cases"))
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": world.case.pk,
            "number": world.case.number,
            "status": world.case.status,
            "cause_of_action": "合同纠纷",
        }
    ]


def test_a_case_shows_its_parties_services_with_steps_and_the_agreement(client, world, served):
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    client.force_login(world.plaintiff)

    body = client.get(reverse("api_my_case", args=[world.case.pk])).json()

    assert body["case"]["number"] == world.case.number
    assert {(p["side"], p["name"]) for p in body["parties"]} == {
        ("plaintiff", "Shanghai Culture Media A"),
        ("defendant", "Beijing Tech A"),
    }
    [service] = body["services"]
    assert (service["id"], service["status"], service["method"]) == (served.pk, "delivered", "electronic")
    assert service["documents"] == [{"title": "起诉状", "sha256": served.documents.get().blob_id}]
    # The IP addresses of the steps are the court's (see the test of them below).
    assert [s["step"] for s in service["steps"]] == ["prepared", "sent", "delivered"]
    assert not [s for s in service["steps"] if "ip" in s]
    assert service["proof_of_service_url"].endswith(reverse("service_proof", args=[served.pk]))
    [api_agreement] = body["agreements"]
    assert api_agreement["id"] == agreement.pk
    assert (api_agreement["status"], api_agreement["version"], api_agreement["version_hash"]) == ("draft", 1, "")
    assert api_agreement["verification_code"] == agreement.verification_code
    assert api_agreement["sealed_pdf_url"] is None
    assert api_agreement["signing_certificate_url"] is None


def test_the_other_side_does_not_see_a_service_of_a_document_hidden_from_it(client, world):
    private = upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file(),
        filename="plaintiff-only.pdf",
        kind="evidence",
        visibility="plaintiff",
    )
    serving.record_consent(case=world.case, user=world.plaintiff)
    serving.serve_electronically(case=world.case, actor=world.mediator, recipient=world.plaintiff, documents=[private])
    client.force_login(world.defendant)
    assert client.get(reverse("api_my_case", args=[world.case.pk])).json()["services"] == []
    client.force_login(world.plaintiff)
    assert len(client.get(reverse("api_my_case", args=[world.case.pk])).json()["services"]) == 1


def test_another_case_is_404_and_anonymous_is_refused(client, world, other_world, served):
    client.force_login(world.plaintiff)
    assert client.get(reverse("api_my_case", args=[other_world.case.pk])).status_code == 404
    assert client.get(reverse("api_my_case", args=[999999])).status_code == 404
    client.force_login(other_world.defendant)
    assert client.get(reverse("api_my_case", args=[world.case.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("api_my_cases")).status_code in (401, 403)
    assert client.get(reverse("api_my_case", args=[world.case.pk])).status_code in (401, 403)
    assert ServiceStep.objects.filter(service=served).count() == 3
