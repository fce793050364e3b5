"""Side-only facts of a case stay on their side: a document shared with one side, the
service of it and its acknowledgement reach only that side's caucus (and the mediator),
by every channel the other side reads: the room's history API, the room page, a live
socket and a resumed one."""

import datetime as dt
import io
import json

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfWriter

from documents.models import Document
from documents.services import serving
from documents.services.uploads import upload_document
from rooms.models import RoomEntry
from tests.cases import make_case
from tests.rooms.conftest import connect  # noqa: F401 (the socket fixture)

SECRET_TITLE = "Defendant's bottom line 8000 yuan"
SHARED_TITLE = "起诉状"


def pdf_file(text: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_world(people):
    world = make_case(people["mediator"], people["judge"])
    world.secret = upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file("secret"),
        filename="bottom-line.pdf",
        title=SECRET_TITLE,
        kind=Document.Kind.EVIDENCE,
        visibility=Document.Visibility.DEFENDANT,
    )
    world.complaint = upload_document(
        case=world.case,
        actor=world.mediator,
        data=pdf_file("complaint"),
        filename="complaint.pdf",
        title=SHARED_TITLE,
        kind=Document.Kind.COMPLAINT,
    )
    serving.record_consent(case=world.case, user=world.defendant)
    return world


def serve(world, *documents):
    return serving.serve_electronically(
        case=world.case, actor=world.mediator, recipient=world.defendant, documents=list(documents)
    )


def history(client, user, room) -> str:
    client.force_login(user)
    response = client.get(reverse("api_room_history", args=[room.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
class TestThroughPagesAndHistory:
    @pytest.fixture
    def world(self, people):
        return make_world(people)

    def test_the_plaintiff_never_reads_the_title_of_a_defendant_only_document_served(self, client, world):
        service = serve(world, world.secret)

        joint = history(client, world.plaintiff, world.joint)
        assert SECRET_TITLE not in joint
        assert '"document.served"' not in joint
        # Nor do the joint room's sequence numbers count it.
        world.joint.refresh_from_db()
        assert world.joint.last_seq == RoomEntry.objects.filter(room=world.joint).count()
        assert not RoomEntry.objects.filter(room=world.joint, data__service=service.pk).exists()
        client.force_login(world.plaintiff)
        page = client.get(reverse("room", args=[world.joint.pk]))
        assert page.status_code == 200 and SECRET_TITLE not in page.content.decode()
        # The defendant's side and the mediator read it in the defendant's caucus.
        assert SECRET_TITLE in history(client, world.defendant, world.defendant_caucus)
        assert SECRET_TITLE in history(client, world.mediator, world.defendant_caucus)
        assert SECRET_TITLE not in history(client, world.mediator, world.plaintiff_caucus)

    def test_a_service_mixing_shared_and_side_only_documents_stays_on_the_side(self, client, world):
        serve(world, world.complaint, world.secret)

        joint = history(client, world.plaintiff, world.joint)
        assert SECRET_TITLE not in joint and '"document.served"' not in joint
        assert SECRET_TITLE in history(client, world.defendant, world.defendant_caucus)

    def test_a_service_of_case_wide_documents_is_still_announced_to_the_whole_case(self, client, world):
        serve(world, world.complaint)

        assert SHARED_TITLE in history(client, world.plaintiff, world.joint)
        assert SHARED_TITLE in history(client, world.defendant, world.defendant_caucus)
        assert SHARED_TITLE not in history(client, world.plaintiff, world.plaintiff_caucus)

    def test_acknowledging_a_side_only_service_is_not_announced_in_the_joint_room(self, client, world):
        service = serve(world, world.secret)
        serving.acknowledge_service(service=service, user=world.defendant)

        # Neither kind of acknowledgement (opened or not) reaches the joint room.
        assert '"document.acknowledged' not in history(client, world.plaintiff, world.joint)
        assert '"document.acknowledged_unopened"' in history(client, world.defendant, world.defendant_caucus)

    def test_acknowledging_a_case_wide_service_is_announced_in_the_joint_room(self, client, world):
        service = serve(world, world.complaint)
        serving.acknowledge_service(service=service, user=world.defendant)

        assert '"document.acknowledged_unopened"' in history(client, world.plaintiff, world.joint)

    def test_the_plaintiff_is_not_notified_and_counts_nothing_new(self, client, world):
        client.force_login(world.plaintiff)
        before = client.get(reverse("api_my_rooms")).json()

        serve(world, world.secret)

        after = client.get(reverse("api_my_rooms")).json()
        assert after == before
        count = client.get(reverse("notification_count"))
        assert SECRET_TITLE not in count.content.decode()
        notifications = client.get(reverse("notifications")).content.decode()
        assert SECRET_TITLE not in notifications and "served" not in notifications.lower()


# Through the socket: live, and on resume -----------------------------------------------


@pytest.fixture
def socket_world(transactional_db, people):
    return make_world(people)


async def frames_until_quiet(client, timeout=0.5) -> list[dict]:
    """Every frame the socket receives until it has been quiet for `timeout` (a
    receive that times out would end the application)."""
    frames = []
    while not await client.communicator.receive_nothing(timeout=timeout):
        frames.append(await client.receive())
    return frames


@pytest.mark.django_db(transaction=True)
async def test_the_other_side_never_receives_a_side_only_service_live_or_on_resume(socket_world, connect):  # noqa: F811
    world = socket_world
    plaintiff, code = await connect(world.plaintiff, world.joint)
    assert code is None
    defendant_caucus, code = await connect(world.defendant, world.defendant_caucus)
    assert code is None

    await database_sync_to_async(serve)(world, world.secret)

    served = await defendant_caucus.receive_until("event", kind="document.served")
    assert served["data"]["documents"] == [SECRET_TITLE]
    live = await frames_until_quiet(plaintiff)
    assert not [frame for frame in live if frame.get("type") == "event"], live
    assert SECRET_TITLE not in json.dumps(live, ensure_ascii=False)

    await plaintiff.send({"type": "resume", "after_seq": 0})
    resumed = await frames_until_quiet(plaintiff)
    assert any(frame.get("type") == "resume.page" for frame in resumed), resumed
    assert SECRET_TITLE not in json.dumps(resumed, ensure_ascii=False)
    assert "document.served" not in json.dumps(resumed)


# The case page: sessions and their notes -------------------------------------------------

PRIVATE_NOTE = "PRIVATE: plaintiff will accept 60 percent"


@pytest.mark.django_db
class TestSessionsOnTheCasePage:
    @pytest.fixture
    def world(self, people, liaison):
        from mediation.models import RoomKind
        from mediation.services import sessions

        world = make_case(people["mediator"], people["judge"])
        world.liaison = liaison
        starts = timezone.now() + dt.timedelta(days=1)
        world.sessions = {
            kind: sessions.schedule_session(
                case=world.case,
                actor=world.mediator,
                starts_at=starts + dt.timedelta(hours=hour),
                room_kind=kind,
                note=f"{PRIVATE_NOTE} ({kind})",
            )
            for hour, kind in enumerate(RoomKind.values)
        }
        # The defendant's caucus is in progress: its live status is a side-only fact too.
        sessions.start_session(session=world.sessions[RoomKind.CAUCUS_DEFENDANT], actor=world.mediator)
        return world

    def sessions_seen(self, client, user, world) -> tuple[set[str], str]:
        client.force_login(user)
        response = client.get(reverse("case_detail", args=[world.case.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        section = page.split('id="sessions-heading"', 1)[1].split("</section>", 1)[0]
        labels = {"Joint room": "joint", "Plaintiff caucus": "caucus_plaintiff", "Defendant caucus": "caucus_defendant"}
        return {kind for label, kind in labels.items() if label in section}, section

    def test_each_side_sees_the_joint_sessions_and_its_own_caucus_only(self, client, world):
        seen, section = self.sessions_seen(client, world.plaintiff, world)
        assert seen == {"joint", "caucus_plaintiff"}
        assert "In progress" not in section

        seen, section = self.sessions_seen(client, world.defendant, world)
        assert seen == {"joint", "caucus_defendant"}
        assert "In progress" in section

    def test_a_party_never_reads_the_mediators_notes(self, client, world):
        for user in (world.plaintiff, world.defendant):
            _seen, section = self.sessions_seen(client, user, world)
            assert "PRIVATE" not in section
            client.force_login(user)
            assert PRIVATE_NOTE not in client.get(reverse("case_detail", args=[world.case.pk])).content.decode()
            assert PRIVATE_NOTE not in client.get(reverse("api_my_case", args=[world.case.pk])).content.decode()

    def test_court_staff_see_every_session_with_its_note(self, client, world):
        for user in (world.mediator, world.judge, world.liaison):
            seen, section = self.sessions_seen(client, user, world)
            assert seen == {"joint", "caucus_plaintiff", "caucus_defendant"}, user
            assert PRIVATE_NOTE in section

    def test_a_party_is_told_of_the_sessions_of_their_rooms_only_and_never_of_a_note(self, world):
        from mediation.models import Notification

        # The joint session and their own caucus's, not the other side's.
        for user in (world.plaintiff, world.defendant):
            assert Notification.objects.filter(recipient=user, kind="session.scheduled").count() == 2
        for notification in Notification.objects.filter(recipient__in=[world.plaintiff, world.defendant]):
            assert "PRIVATE" not in json.dumps(notification.params, ensure_ascii=False)


# Service records: the IP addresses of the steps are the court's ---------------------------

MEDIATOR_IP = "198.51.100.10"
DEFENDANT_IP = "203.0.113.7"


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
class TestAddressesOnServiceRecords:
    @pytest.fixture
    def world(self, people):
        world = make_world(people)
        world.service = serving.serve_electronically(
            case=world.case,
            actor=world.mediator,
            recipient=world.defendant,
            documents=[world.complaint],
            ip=MEDIATOR_IP,
        )
        serving.acknowledge_service(service=world.service, user=world.defendant, ip=DEFENDANT_IP)
        return world

    def record(self, client, user, world) -> tuple[str, list[dict], str]:
        client.force_login(user)
        page = client.get(reverse("service_detail", args=[world.service.pk]))
        assert page.status_code == 200
        [api_service] = [
            service
            for service in client.get(reverse("api_my_case", args=[world.case.pk])).json()["services"]
            if service["id"] == world.service.pk
        ]
        proof = client.get(reverse("service_proof", args=[world.service.pk]))
        assert proof.status_code == 200
        return page.content.decode(), api_service["steps"], pdf_text(proof.content)

    def test_the_other_party_never_sees_the_addresses_on_the_page_the_api_or_the_proof(self, client, world):
        page, steps, proof = self.record(client, world.plaintiff, world)

        for address in (DEFENDANT_IP, MEDIATOR_IP):
            assert address not in page
            assert address not in json.dumps(steps)
            assert address not in proof
        # The steps themselves are there: what happened, when and by whom (the defendant
        # acknowledged without opening the documents, and no opening is invented).
        assert [step["step"] for step in steps] == ["prepared", "sent", "delivered", "acknowledged"]
        assert steps[-1]["without_opening"] is True
        assert str(world.defendant) in page and str(world.defendant) in proof

    def test_the_recipient_sees_the_steps_without_addresses(self, client, world):
        page, steps, proof = self.record(client, world.defendant, world)

        assert MEDIATOR_IP not in page and MEDIATOR_IP not in json.dumps(steps) and MEDIATOR_IP not in proof
        assert not [step for step in steps if "ip" in step]

    def test_the_mediator_and_the_judge_see_every_address(self, client, world):
        for user in (world.mediator, world.judge):
            page, steps, proof = self.record(client, user, world)

            assert DEFENDANT_IP in page and MEDIATOR_IP in page
            assert [step["ip"] for step in steps] == [MEDIATOR_IP, MEDIATOR_IP, None, DEFENDANT_IP]
            assert DEFENDANT_IP in proof and MEDIATOR_IP in proof
