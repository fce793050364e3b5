"""The recording endpoints of the room page, and who may see and download a stored
recording (its list, its download, the court's decision)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from documents.models import Blob, Document, StoredRecording
from documents.services.storage import store_blob
from mediation.models import AuditEntry
from rooms.models import MediaRecording, RecordingConsent
from tests.cases import make_civil_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_civil_case()


def _post(client, user, room, action):
    client.force_login(user)
    return client.post(reverse("media_recording", args=[room.pk, action]))


def test_consent_start_and_stop_through_the_endpoints(janus, client, world):
    answer = _post(client, world.plaintiff, world.joint, "consent")
    assert answer.status_code == 200
    assert answer.json() == {"recording": {"active": False, "consented": True}}

    assert _post(client, world.plaintiff, world.joint, "start").status_code == 403
    assert not MediaRecording.objects.exists()
    answer = _post(client, world.mediator, world.joint, "start")
    assert answer.status_code == 200
    assert answer.json()["recording"]["active"] is True
    # Starting again: not possible now.
    assert _post(client, world.mediator, world.joint, "start").json()["error"] == "already_recording"

    # The room page tells a reader who has not consented, with the endpoints.
    client.force_login(world.defendant)
    page = client.get(reverse("room", args=[world.joint.pk]))
    media = page.context["client_config"]["media"]["recording"]
    assert (media["active"], media["consented"]) == (True, False)
    assert media["consentUrl"] == reverse("media_recording", args=[world.joint.pk, "consent"])

    assert _post(client, world.judge, world.joint, "stop").status_code == 403
    answer = _post(client, world.mediator, world.joint, "stop")
    assert answer.json()["recording"]["active"] is False
    assert MediaRecording.objects.get().status == MediaRecording.Status.PROCESSING


def test_someone_outside_the_room_gets_404_and_changes_nothing(client, world):
    for action in ("consent", "start", "stop"):
        assert _post(client, world.defendant, world.plaintiff_caucus, action).status_code == 404
    assert _post(client, world.mediator, world.joint, "explode").status_code == 404
    client.force_login(world.mediator)
    assert client.get(reverse("media_recording", args=[world.joint.pk, "consent"])).status_code == 405
    assert not RecordingConsent.objects.exists()


def _stored_recording(world, room) -> Document:
    """A stored recording of `room`, as processing leaves it (its file a small stand-in)."""
    recording = MediaRecording.objects.create(
        room=room,
        started_by=world.mediator,
        started_at="2026-12-07T10:00:00Z",
        server="ws://127.0.0.1:1",
        janus_room=1,
        folder="/nonexistent",
        status=MediaRecording.Status.STORED,
    )
    blob = store_blob(b"\x1a\x45\xdf\xa3" + bytes(room.pk) + b"webm", "video/webm")
    side = {"joint": "case", "caucus_plaintiff": "plaintiff", "caucus_defendant": "defendant"}[room.kind]
    document = Document.objects.create(
        case=room.case,
        kind=Document.Kind.RECORDING,
        title="recording",
        original_name="recording.webm",
        blob=blob,
        visibility=side,
        uploaded_by=world.mediator,
    )
    StoredRecording.objects.create(recording=recording, document=document, duration=3)
    return document


def _listed(client, user, case) -> list[int]:
    client.force_login(user)
    return [document.pk for document in client.get(reverse("case_documents", args=[case.pk])).context["documents"]]


def _download(client, user, document) -> int:
    client.force_login(user)
    return client.get(reverse("document_file", args=[document.pk])).status_code


def test_the_parties_see_a_recording_only_once_the_judge_allows_it(client, world):
    joint = _stored_recording(world, world.joint)
    caucus = _stored_recording(world, world.plaintiff_caucus)

    # The court sees both, the caucus's too.
    for person in (world.mediator, world.judge):
        assert set(_listed(client, person, world.case)) >= {joint.pk, caucus.pk}
        assert _download(client, person, caucus) == 200
    # The parties: neither, before the court allows it.
    for person in (world.plaintiff, world.defendant):
        assert joint.pk not in _listed(client, person, world.case)
        assert caucus.pk not in _listed(client, person, world.case)
        assert _download(client, person, joint) == 404

    # A party cannot allow it; the judge can, with a button on the documents page.
    client.force_login(world.plaintiff)
    allow = reverse("recording_parties_access", args=[caucus.pk, "allow"])
    assert client.post(allow).status_code == 404
    client.force_login(world.judge)
    page = client.get(reverse("case_documents", args=[world.case.pk]))
    assert allow in page.content.decode()
    client.post(allow)
    client.post(reverse("recording_parties_access", args=[joint.pk, "allow"]))
    assert StoredRecording.objects.get(document=caucus).access_decided_by == world.judge
    assert AuditEntry.objects.filter(action="recording.parties_allowed").count() == 2

    # The plaintiff's side sees both now; the defendant's the joint room's only: a
    # caucus's recording never reaches the other side.
    assert set(_listed(client, world.plaintiff, world.case)) >= {joint.pk, caucus.pk}
    assert _download(client, world.plaintiff, caucus) == 200
    assert joint.pk in _listed(client, world.defendant, world.case)
    assert caucus.pk not in _listed(client, world.defendant, world.case)
    assert _download(client, world.defendant, caucus) == 404

    # Withdrawn: hidden again.
    client.force_login(world.judge)
    client.post(reverse("recording_parties_access", args=[caucus.pk, "withdraw"]))
    assert _download(client, world.plaintiff, caucus) == 404


def test_nobody_uploads_or_serves_a_recording(client, world):
    from django.core.exceptions import ValidationError

    from documents.forms import ServeForm, UploadForm
    from documents.services.uploads import upload_document
    from tests.cases import power_of_attorney_pdf

    assert "recording" not in dict(UploadForm().fields["kind"].choices)
    with pytest.raises(ValidationError):
        upload_document(
            case=world.case, actor=world.mediator, data=power_of_attorney_pdf(), filename="a.pdf", kind="recording"
        )
    document = _stored_recording(world, world.joint)
    assert document not in ServeForm(case=world.case).fields["documents"].queryset
    assert Blob.objects.count() == 1
