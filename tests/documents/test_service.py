"""Service of documents (送达): consent, electronic service and each of its steps,
service by other means, expiry, and the sealed proof of service."""

import datetime as dt
import io
import re
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image
from pypdf import PdfReader, PdfWriter

from documents.models import Document, Service, ServiceConsent, ServiceStep
from documents.services import serving
from documents.services.uploads import upload_document
from documents.verification import verify_pdf
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import Notification
from rooms.models import RoomEntry
from tests.cases import make_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MEDIATOR_IP = "198.51.100.10"
RECIPIENT_IP = "203.0.113.7"
Status = Service.Status


def pdf_file(text: str = "") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if text:
        writer.add_metadata({"/Title": text})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def complaint(world):
    return upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file("complaint"),
        filename="起诉状.pdf",
        title="起诉状",
        kind=Document.Kind.COMPLAINT,
    )


@pytest.fixture
def evidence(world):
    return upload_document(
        case=world.case,
        actor=world.plaintiff,
        data=pdf_file("evidence"),
        filename="contract.pdf",
        title="Production contract",
        kind=Document.Kind.EVIDENCE,
    )


@pytest.fixture
def consent(world):
    return serving.record_consent(case=world.case, user=world.defendant, email=world.defendant.email, ip=RECIPIENT_IP)


@pytest.fixture
def served(world, complaint, evidence, consent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return serving.serve_electronically(
            case=world.case,
            actor=world.mediator,
            recipient=world.defendant,
            documents=[complaint, evidence],
            ip=MEDIATOR_IP,
        )


def steps_of(service) -> list[str]:
    return list(ServiceStep.objects.filter(service=service).values_list("step", flat=True))


def refreshed(service) -> Service:
    return Service.objects.get(pk=service.pk)


# Consent ------------------------------------------------------------------------------


def test_consent_is_recorded_once_per_case_with_time_and_ip(client, world):
    client.force_login(world.defendant)
    url = reverse("service_consent", args=[world.case.pk])
    before = timezone.now()

    first = client.post(url, {"email": "Zhou.Jie@Example.test", "agree": "on"}, REMOTE_ADDR=RECIPIENT_IP)
    consent = ServiceConsent.objects.get()
    second = client.post(url, {"email": "other@example.test", "agree": "on"}, REMOTE_ADDR="192.0.2.99", follow=True)

    assert first.status_code == 302
    assert (consent.case, consent.user, consent.platform_account) == (world.case, world.defendant, True)
    assert consent.email == "zhou.jie@example.test"
    assert consent.ip_address == RECIPIENT_IP
    assert before <= consent.consented_at <= timezone.now()
    # The second consent is refused and changes nothing.
    assert "already consented" in second.content.decode()
    assert list(ServiceConsent.objects.values_list("pk", "email", "ip_address", "consented_at")) == [
        (consent.pk, "zhou.jie@example.test", RECIPIENT_IP, consent.consented_at)
    ]
    with pytest.raises(TransitionNotAllowed):
        serving.record_consent(case=world.case, user=world.defendant)


def test_consent_needs_the_box_ticked(client, world):
    client.force_login(world.defendant)
    client.post(reverse("service_consent", args=[world.case.pk]), {"email": ""})
    assert not ServiceConsent.objects.exists()


@pytest.mark.parametrize("who", ["mediator", "judge"])
def test_only_a_participant_consents(world, who):
    with pytest.raises(ActionForbidden):
        serving.record_consent(case=world.case, user=getattr(world, who))
    assert not ServiceConsent.objects.exists()


# Electronic service -------------------------------------------------------------------------


def test_electronic_service_without_consent_is_refused_and_nothing_is_stored(
    world, complaint, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    entries_before = RoomEntry.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionNotAllowed) as refused:
        serving.serve_electronically(
            case=world.case, actor=world.mediator, recipient=world.defendant, documents=[complaint]
        )
    assert refused.value.code == "no_consent"
    assert "not consented" in refused.value.message
    assert not Service.objects.exists()
    assert not ServiceStep.objects.exists()
    assert not Notification.objects.filter(kind="document.served").exists()
    assert RoomEntry.objects.count() == entries_before
    assert mail.outbox == []


def test_the_serve_form_refuses_without_consent_with_a_message(client, world, complaint):
    client.force_login(world.mediator)
    response = client.post(
        reverse("service_new", args=[world.case.pk]),
        {"recipient": world.defendant_participant.pk, "documents": [complaint.pk], "method": "electronic"},
        follow=True,
    )
    assert "has not consented to electronic service" in response.content.decode()
    assert not Service.objects.exists()


def test_an_electronic_service_is_prepared_sent_and_delivered_at_once(world, served, complaint, evidence):
    service = refreshed(served)
    steps = list(ServiceStep.objects.filter(service=service))

    assert [s.step for s in steps] == [Status.PREPARED, Status.SENT, Status.DELIVERED]
    assert [s.actor for s in steps] == [world.mediator, world.mediator, None]
    assert [s.ip_address for s in steps] == [MEDIATOR_IP, MEDIATOR_IP, None]
    assert {s.method for s in steps} == {Service.Method.ELECTRONIC}
    assert service.status == Status.DELIVERED
    assert service.served_at == steps[-1].at
    assert service.acknowledge_by == service.served_at + dt.timedelta(days=3)
    assert set(service.documents.all()) == {complaint, evidence}


def test_the_recipient_is_notified_in_the_app_and_by_email(world, served):
    notification = Notification.objects.get(kind="document.served")
    assert notification.recipient == world.defendant
    assert notification.url == reverse("service_detail", args=[served.pk])
    assert notification.params["number"] == world.case.number
    [message] = [m for m in mail.outbox if world.case.number in m.body]
    assert message.to == [world.defendant.email]
    assert reverse("service_detail", args=[served.pk]) in message.body
    # In the court's name, signed with its contact, like every mail of the platform.
    assert message.subject.startswith(f"[{settings.COURT_NAME}] ")
    assert settings.COURT_CONTACT_PHONE in message.body


def test_without_an_email_in_the_consent_the_recipient_is_notified_in_the_app_only(
    world, complaint, django_capture_on_commit_callbacks
):
    serving.record_consent(case=world.case, user=world.plaintiff, email="")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        serving.serve_electronically(
            case=world.case, actor=world.mediator, recipient=world.plaintiff, documents=[complaint]
        )
    assert Notification.objects.filter(kind="document.served", recipient=world.plaintiff).count() == 1
    assert mail.outbox == []


def test_the_joint_room_records_the_service_as_a_persisted_event(world, served):
    joint = RoomEntry.objects.get(room=world.joint, kind="document.served")
    assert joint.data["service"] == served.pk
    assert joint.data["recipient"] == {"id": world.defendant.pk, "name": str(world.defendant)}
    assert joint.data["documents"] == ["起诉状", "Production contract"]
    assert joint.data["actor"]["id"] == world.mediator.pk
    # The recipient's caucus hears of it too; the other side's caucus does not.
    assert RoomEntry.objects.filter(room=world.defendant_caucus, kind="document.served").count() == 1
    assert not RoomEntry.objects.filter(room=world.plaintiff_caucus, kind="document.served").exists()


def test_the_mediator_serves_through_the_page(client, world, complaint, consent):
    client.force_login(world.mediator)
    response = client.post(
        reverse("service_new", args=[world.case.pk]),
        {"recipient": world.defendant_participant.pk, "documents": [complaint.pk], "method": "electronic"},
        REMOTE_ADDR=MEDIATOR_IP,
    )
    service = Service.objects.get()
    assert response["Location"] == reverse("service_detail", args=[service.pk])
    assert service.status == Status.DELIVERED
    assert ServiceStep.objects.get(service=service, step=Status.SENT).ip_address == MEDIATOR_IP


@pytest.mark.parametrize("who", ["judge", "plaintiff"])
def test_only_the_mediator_serves(world, complaint, consent, who):
    with pytest.raises(ActionForbidden):
        serving.serve_electronically(
            case=world.case, actor=getattr(world, who), recipient=world.defendant, documents=[complaint]
        )
    assert not Service.objects.exists()


def test_a_document_the_recipient_may_not_see_cannot_be_served_on_them(world, consent):
    private = upload_document(
        case=world.case,
        actor=world.plaintiff,
        data=pdf_file("private"),
        filename="notes.pdf",
        kind="evidence",
        visibility=Document.Visibility.PLAINTIFF,
    )
    with pytest.raises(ValidationError) as refused:
        serving.serve_electronically(
            case=world.case, actor=world.mediator, recipient=world.defendant, documents=[private]
        )
    assert "documents" in refused.value.message_dict
    assert not Service.objects.exists()


# The recipient's steps -------------------------------------------------------------------------


def test_the_recipient_opening_a_document_records_opened_once(client, world, served, complaint, evidence):
    client.force_login(world.mediator)
    assert client.get(reverse("document_file", args=[complaint.pk])).status_code == 200
    assert refreshed(served).status == Status.DELIVERED

    client.force_login(world.defendant)
    first = client.get(reverse("document_file", args=[complaint.pk]), REMOTE_ADDR=RECIPIENT_IP)
    client.get(reverse("document_file", args=[evidence.pk]), REMOTE_ADDR="192.0.2.1")
    client.get(reverse("document_file", args=[complaint.pk]), REMOTE_ADDR="192.0.2.2")

    assert first.status_code == 200
    opened = ServiceStep.objects.get(service=served, step=Status.OPENED)
    assert (opened.actor, opened.ip_address) == (world.defendant, RECIPIENT_IP)
    assert steps_of(served) == [Status.PREPARED, Status.SENT, Status.DELIVERED, Status.OPENED]
    assert refreshed(served).status == Status.OPENED


def test_the_recipient_acknowledges_receipt(client, world, served):
    client.force_login(world.defendant)
    client.get(reverse("document_file", args=[served.documents.first().pk]))

    response = client.post(reverse("service_action", args=[served.pk, "acknowledge"]), REMOTE_ADDR=RECIPIENT_IP)

    assert response.status_code == 302
    service = refreshed(served)
    assert service.status == Status.ACKNOWLEDGED
    acknowledged = ServiceStep.objects.get(service=service, step=Status.ACKNOWLEDGED)
    assert (acknowledged.actor, acknowledged.ip_address) == (world.defendant, RECIPIENT_IP)
    assert steps_of(service) == [Status.PREPARED, Status.SENT, Status.DELIVERED, Status.OPENED, Status.ACKNOWLEDGED]
    assert RoomEntry.objects.filter(room=world.joint, kind="document.acknowledged").count() == 1
    # A second acknowledgement is refused and changes nothing.
    again = client.post(reverse("service_action", args=[served.pk, "acknowledge"]), follow=True)
    assert "can no longer be acknowledged" in again.content.decode()
    assert len(steps_of(service)) == 5


def in_language(user, language: str):
    user.language = language
    user.save(update_fields=["language"])
    return user


def test_acknowledging_without_opening_is_recorded_as_such_and_no_opening_is_invented(client, world, served):
    client.force_login(in_language(world.defendant, "zh-hans"))
    before = client.get(reverse("service_detail", args=[served.pk])).content.decode()
    # The recipient is told before acknowledging what the record will say.
    assert "如现在签收，记录将载明您未查阅文书即签收" in before

    client.post(reverse("service_action", args=[served.pk, "acknowledge"]), REMOTE_ADDR=RECIPIENT_IP)

    assert steps_of(served) == [Status.PREPARED, Status.SENT, Status.DELIVERED, Status.ACKNOWLEDGED]
    assert ServiceStep.objects.get(service=served, step=Status.ACKNOWLEDGED).without_opening
    assert refreshed(served).status == Status.ACKNOWLEDGED
    page = client.get(reverse("service_detail", args=[served.pk])).content.decode()
    assert page.count("未查阅文书即签收") == 2  # the status and the step
    assert "已查阅" not in page
    # The case's rooms say so too, in each reader's language.
    entry = RoomEntry.objects.get(room=world.joint, kind="document.acknowledged_unopened")
    assert not RoomEntry.objects.filter(kind="document.acknowledged").exists()
    from rooms.events import render_event

    with translation.override("zh-hans"):
        assert "未查阅" in render_event(entry.kind, {"name": str(world.defendant)}, entry.data)
    with translation.override("en"):
        assert "without opening them" in render_event(entry.kind, {"name": str(world.defendant)}, entry.data)
    # Both copies of the proof of service.
    party_copy = squashed(pdf_text(client.get(proof_url(served)).content))
    client.force_login(world.mediator)
    court_copy = squashed(pdf_text(client.get(proof_url(served)).content))
    for copy in (party_copy, court_copy):
        assert "未查阅文书即签收" in copy
        assert "已查阅" not in copy


def test_acknowledging_after_opening_is_a_plain_acknowledgement(client, world, served, complaint):
    client.force_login(in_language(world.defendant, "zh-hans"))
    client.get(reverse("document_file", args=[complaint.pk]))
    page = client.get(reverse("service_detail", args=[served.pk])).content.decode()
    assert "未查阅文书即签收" not in page

    client.post(reverse("service_action", args=[served.pk, "acknowledge"]))

    assert not ServiceStep.objects.get(service=served, step=Status.ACKNOWLEDGED).without_opening
    assert "未查阅文书即签收" not in client.get(reverse("service_detail", args=[served.pk])).content.decode()
    assert "未查阅文书即签收" not in squashed(pdf_text(client.get(proof_url(served)).content))
    assert RoomEntry.objects.filter(room=world.joint, kind="document.acknowledged").count() == 1


def test_refusing_needs_a_reason(client, world, served):
    client.force_login(world.defendant)

    empty = client.post(reverse("service_action", args=[served.pk, "refuse"]), {"reason": "  "}, follow=True)

    assert "Say why you refuse" in empty.content.decode()
    assert refreshed(served).status == Status.DELIVERED
    assert Status.REFUSED not in steps_of(served)
    with pytest.raises(ValidationError):
        serving.refuse_service(service=served, user=world.defendant, reason="")


def test_the_recipient_refuses_with_a_reason_and_the_mediator_is_told(client, world, served):
    client.force_login(world.defendant)
    client.post(
        reverse("service_action", args=[served.pk, "refuse"]),
        {"reason": "Not addressed to our company."},
        REMOTE_ADDR=RECIPIENT_IP,
    )
    service = refreshed(served)
    assert (service.status, service.refusal_reason) == (Status.REFUSED, "Not addressed to our company.")
    refused = ServiceStep.objects.get(service=service, step=Status.REFUSED)
    assert (refused.actor, refused.ip_address, refused.note) == (
        world.defendant,
        RECIPIENT_IP,
        "Not addressed to our company.",
    )
    assert Notification.objects.filter(kind="document.refused", recipient=world.mediator).count() == 1
    with pytest.raises(TransitionNotAllowed):
        serving.acknowledge_service(service=service, user=world.defendant)


@pytest.mark.parametrize("who", ["mediator", "judge", "plaintiff"])
def test_only_the_recipient_may_acknowledge_or_refuse(client, world, served, who):
    user = getattr(world, who)
    with pytest.raises(PermissionDenied):
        serving.acknowledge_service(service=served, user=user)
    with pytest.raises(PermissionDenied):
        serving.refuse_service(service=served, user=user, reason="Not mine")
    client.force_login(user)
    assert client.post(reverse("service_action", args=[served.pk, "acknowledge"])).status_code == 403
    assert client.post(reverse("service_action", args=[served.pk, "refuse"]), {"reason": "x"}).status_code == 403
    assert refreshed(served).status == Status.DELIVERED
    assert steps_of(served) == [Status.PREPARED, Status.SENT, Status.DELIVERED]


def test_strangers_cannot_see_a_service(client, world, served, people):
    other = make_case(people["mediator"], None, label="B")
    for user in (UserFactory(), other.defendant, people["other_judge"]):
        client.force_login(user)
        assert client.get(reverse("service_detail", args=[served.pk])).status_code == 404
        assert client.post(reverse("service_action", args=[served.pk, "acknowledge"])).status_code == 404
    assert refreshed(served).status == Status.DELIVERED


# Expiry ---------------------------------------------------------------------------------------


def test_unacknowledged_services_expire_after_the_deadline_and_the_command_is_idempotent(
    world, served, complaint, capsys
):
    serving.record_consent(case=world.case, user=world.plaintiff)
    acknowledged = serving.serve_electronically(
        case=world.case, actor=world.mediator, recipient=world.plaintiff, documents=[complaint]
    )
    serving.acknowledge_service(service=acknowledged, user=world.plaintiff)

    with time_machine.travel(served.acknowledge_by - dt.timedelta(minutes=1), tick=False):
        call_command("expire_services")
    assert refreshed(served).status == Status.DELIVERED
    assert "services expired: 0" in capsys.readouterr().out

    deadline = served.served_at + dt.timedelta(days=3, seconds=1)
    with time_machine.travel(deadline, tick=False):
        call_command("expire_services")
        first = capsys.readouterr().out
        call_command("expire_services")
        second = capsys.readouterr().out

    assert "services expired: 1" in first
    assert "services expired: 0" in second
    service = refreshed(served)
    assert service.status == Status.EXPIRED
    expired = ServiceStep.objects.get(service=service, step=Status.EXPIRED)
    assert expired.actor is None
    assert expired.at == deadline
    assert steps_of(service).count(Status.EXPIRED) == 1
    assert refreshed(acknowledged).status == Status.ACKNOWLEDGED
    with pytest.raises(TransitionNotAllowed):
        serving.acknowledge_service(service=service, user=world.defendant)


def test_the_acknowledgement_deadline_is_configurable(world, complaint, consent, settings):
    settings.SERVICE_ACKNOWLEDGE_DAYS = 7
    service = serving.serve_electronically(
        case=world.case, actor=world.mediator, recipient=world.defendant, documents=[complaint]
    )
    assert service.acknowledge_by == service.served_at + dt.timedelta(days=7)


# The mediator's note and the deadline ------------------------------------------------------


def serve_with(world, complaint, **kwargs) -> Service:
    return serving.serve_electronically(
        case=world.case, actor=world.mediator, recipient=world.defendant, documents=[complaint], **kwargs
    )


def test_the_note_is_shown_beside_the_deadline_to_the_recipient_the_mediator_and_on_the_proof(
    client, world, complaint, consent, django_capture_on_commit_callbacks
):
    in_language(world.defendant, "zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        service = serve_with(world, complaint, acknowledge_days=5, note="请核对证据清单，如有疑问请联系调解员。")
    assert service.acknowledge_by == service.served_at + dt.timedelta(days=5)
    deadline = timezone.localtime(service.acknowledge_by).strftime("%Y-%m-%d %H:%M")
    # The email of the service says both too.
    [message] = mail.outbox
    assert f"请于{deadline}前签收（自送达之日起5日内，按自然日计算）。" in message.body
    assert "调解员附言：请核对证据清单，如有疑问请联系调解员。" in message.body

    for user in (world.defendant, world.mediator):
        client.force_login(in_language(user, "zh-hans"))
        page = client.get(reverse("service_detail", args=[service.pk])).content.decode()
        assert "请核对证据清单，如有疑问请联系调解员。" in page
        assert f"{deadline}前（自送达之日起5日内，按自然日计算）" in page
    client.force_login(in_language(world.defendant, "en"))
    page = client.get(reverse("service_detail", args=[service.pk])).content.decode()
    assert f"{deadline} (5 calendar days from the date of service)" in page

    proof = squashed(pdf_text(client.get(proof_url(service)).content))
    assert squashed("请核对证据清单，如有疑问请联系调解员。") in proof
    assert squashed(f"{deadline}前（自送达之日起5日内，按自然日计算）") in proof


@pytest.mark.parametrize(
    "note",
    [
        "请在7日内确认收到",
        "请于七天内签收",
        "Please confirm within 7 days.",
        "请在3个工作日内签收",
        "within 3 working days",
    ],
)
def test_a_note_stating_another_period_than_the_deadline_is_refused(world, complaint, consent, note):
    with pytest.raises(ValidationError) as error:
        serve_with(world, complaint, acknowledge_days=3, note=note)
    assert "note" in error.value.message_dict
    assert not Service.objects.exists()


@pytest.mark.parametrize("note", ["请在3日内确认收到", "请于三天内签收", "Please confirm within 3 days.", "请及时查收"])
def test_a_note_agreeing_with_the_deadline_is_accepted(world, complaint, consent, note):
    assert serve_with(world, complaint, acknowledge_days=3, note=note).note == note


def test_the_serve_form_refuses_a_contradicting_note_with_a_message(client, world, complaint, consent):
    client.force_login(world.mediator)
    data = {"recipient": world.defendant_participant.pk, "documents": [complaint.pk], "method": "electronic"}

    response = client.post(
        reverse("service_new", args=[world.case.pk]),
        {**data, "acknowledge_days": "3", "note": "请在7日内确认"},
        follow=True,
    )

    assert "The note states a different period from the 3 calendar days you chose" in response.content.decode()
    assert not Service.objects.exists()
    for days in ("0", "31"):
        client.post(reverse("service_new", args=[world.case.pk]), {**data, "acknowledge_days": days})
        assert not Service.objects.exists()
    client.post(
        reverse("service_new", args=[world.case.pk]), {**data, "acknowledge_days": "7", "note": "请在7日内确认"}
    )
    service = Service.objects.get()
    assert (service.acknowledge_days, service.note) == (7, "请在7日内确认")


# Service by other means --------------------------------------------------------------------


@pytest.fixture
def postal_receipt(world):
    return upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file("receipt"),
        filename="EMS-receipt.pdf",
        title="EMS receipt 1234",
        kind=Document.Kind.SERVICE_EVIDENCE,
    )


def test_service_by_post_is_recorded_with_its_evidence_without_consent(world, complaint, postal_receipt):
    posted_at = timezone.now() - dt.timedelta(days=2)

    service = serving.record_service_by_other_means(
        case=world.case,
        actor=world.mediator,
        recipient=world.defendant,
        documents=[complaint],
        method=Service.Method.POST,
        served_at=posted_at,
        evidence=postal_receipt,
        note="EMS 1234",
        ip=MEDIATOR_IP,
    )

    service = refreshed(service)
    assert (service.method, service.status, service.served_at, service.evidence) == (
        Service.Method.POST,
        Status.DELIVERED,
        posted_at,
        postal_receipt,
    )
    steps = list(ServiceStep.objects.filter(service=service).order_by("id"))
    assert [s.step for s in steps] == [Status.PREPARED, Status.SENT, Status.DELIVERED]
    assert {s.method for s in steps} == {Service.Method.POST}
    assert {s.actor for s in steps} == {world.mediator}
    assert postal_receipt.blob_id in steps[-1].note
    assert not ServiceConsent.objects.exists()


def test_service_in_person_through_the_page(client, world, complaint, postal_receipt):
    client.force_login(world.mediator)
    client.post(
        reverse("service_new", args=[world.case.pk]),
        {
            "recipient": world.defendant_participant.pk,
            "documents": [complaint.pk],
            "method": "in_person",
            "served_at": timezone.localtime(timezone.now() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "evidence": postal_receipt.pk,
        },
    )
    service = Service.objects.get()
    assert (service.method, service.status, service.evidence) == ("in_person", Status.DELIVERED, postal_receipt)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": Service.Method.ELECTRONIC}, "method"),
        ({"served_at": "future"}, "served_at"),
        ({"evidence": None}, "evidence"),
    ],
)
def test_a_service_by_other_means_needs_a_method_a_past_date_and_evidence(
    world, complaint, postal_receipt, changes, field
):
    arguments = {
        "case": world.case,
        "actor": world.mediator,
        "recipient": world.defendant,
        "documents": [complaint],
        "method": Service.Method.POST,
        "served_at": timezone.now() - dt.timedelta(days=1),
        "evidence": postal_receipt,
        **changes,
    }
    if arguments["served_at"] == "future":
        arguments["served_at"] = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        serving.record_service_by_other_means(**arguments)
    assert field in refused.value.message_dict
    assert not Service.objects.exists()


# Proof of service --------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def proof_url(service) -> str:
    return reverse("service_proof", args=[service.pk])


def test_the_proof_of_service_lists_case_documents_recipient_and_every_step_and_is_sealed(
    client, world, served, complaint, evidence
):
    client.force_login(world.mediator)

    response = client.get(proof_url(served))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = response.content
    text = squashed(pdf_text(data))
    assert squashed(world.case.number) in text
    for document in (complaint, evidence):
        assert squashed(document.title) in text
        assert document.blob_id in text
    assert squashed(str(world.defendant)) in text
    assert squashed(world.defendant_participant.party.name) in text
    with translation.override("zh-hans"):
        labels = {step.step: str(step.get_step_display()) for step in served.steps.all()}
    assert set(labels) == {Status.PREPARED, Status.SENT, Status.DELIVERED}
    for step in served.steps.all():
        assert squashed(labels[step.step]) in text, labels[step.step]
        assert timezone.localtime(step.at).strftime("%Y-%m-%d%H:%M:%S") in text
    assert MEDIATOR_IP in text
    report = verify_pdf(data)
    assert report.matches_sealed_original
    assert report.document == "proof_of_service"
    assert report.signatures
    assert all(s.intact and s.valid and s.trusted and not s.modified_after for s in report.signatures)
    assert report.all_valid


def test_a_new_step_makes_a_new_proof_and_the_same_state_returns_the_same_bytes(client, world, served, monkeypatch):
    client.force_login(world.defendant)
    first = client.get(proof_url(served)).content
    serving.acknowledge_service(service=served, user=world.defendant, ip=RECIPIENT_IP)

    second = client.get(proof_url(served)).content
    client.force_login(world.mediator)
    court_copy = client.get(proof_url(served)).content

    assert second != first
    with translation.override("zh-hans"):
        acknowledged = str(Service.Status.ACKNOWLEDGED.label)
    assert squashed(acknowledged) in squashed(pdf_text(second))
    assert squashed(acknowledged) in squashed(pdf_text(court_copy))
    # The court's copy lists the addresses of the steps; the parties' copy does not.
    assert RECIPIENT_IP in pdf_text(court_copy)
    assert RECIPIENT_IP not in pdf_text(second)
    # Asking again renders nothing: the stored copy for this state comes back.
    monkeypatch.setattr("documents.rendering.render_pdf", lambda *args, **kwargs: pytest.fail("rendered again"))
    client.force_login(world.judge)
    assert client.get(proof_url(served)).content == court_copy
    client.force_login(world.defendant)
    assert client.get(proof_url(served)).content == second
    assert verify_pdf(second).matches_sealed_original
    assert verify_pdf(court_copy).matches_sealed_original


@pytest.mark.parametrize("who", ["stranger", "other_case_party", "other_judge"])
def test_strangers_get_404_for_the_proof(client, world, served, people, who):
    users = {
        "stranger": lambda: UserFactory(),
        "other_case_party": lambda: make_case(people["mediator"], None, label="B").plaintiff,
        "other_judge": lambda: people["other_judge"],
    }
    client.force_login(users[who]())
    assert client.get(proof_url(served)).status_code == 404
    assert refreshed(served).proof_blob_id is None
    assert refreshed(served).party_proof_blob_id is None


# The visible seal and the file's name ------------------------------------------------------


def seal_images(data: bytes) -> list[tuple[int, int]]:
    """The images in the appearance of the platform's seal field, with the field's page."""
    reader = PdfReader(io.BytesIO(data))
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/T") == "platform-seal" and annotation.get("/AP"):
                resources = annotation["/AP"]["/N"].get_object()["/Resources"]
                for xobject in resources["/XObject"].values():
                    xobject = xobject.get_object()
                    if xobject.get("/Subtype") == "/Image":
                        found.append((int(xobject["/Width"]), int(xobject["/Height"])))
    return found


def test_the_proof_of_service_shows_the_court_seal_over_its_name_and_date(client, world, served):
    client.force_login(world.mediator)

    data = client.get(proof_url(served)).content

    # The seal signature's appearance is the court's seal, drawn on the server.
    assert seal_images(data) == [(600, 600)]
    report = verify_pdf(data)
    assert [s.field for s in report.signatures] == ["platform-seal"]
    assert report.all_valid
    text = squashed(pdf_text(data))
    assert squashed(settings.COURT_NAME) in text
    assert f"{timezone.localtime():%Y}年" in text


def test_an_operator_may_configure_the_seal_image(client, world, served, settings, tmp_path):
    path = tmp_path / "seal.png"
    Image.new("RGBA", (321, 321), (200, 20, 30, 255)).save(path)
    settings.COURT_SEAL_IMAGE = str(path)
    client.force_login(world.mediator)

    assert seal_images(client.get(proof_url(served)).content) == [(321, 321)]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "送达回证-(2026)京0107民诉前调1号-{name}.pdf"),
        ("en", "proof-of-service-(2026)京0107民诉前调1号-{name}.pdf"),
    ],
)
def test_the_proof_is_named_in_the_readers_language(client, world, served, language, expected):
    client.force_login(in_language(world.defendant, language))
    world.case.number = "(2026)京0107民诉前调1号"
    world.case.save(update_fields=["number"])

    disposition = client.get(proof_url(served))["Content-Disposition"]

    name = expected.format(name=world.defendant)
    assert disposition.isascii()
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    # Clients that do not read filename* get an ASCII name still saying what it is.
    fallback = re.search(r'filename="([^"]*)"', disposition).group(1)
    assert fallback.endswith(".pdf") and "2026" in fallback
