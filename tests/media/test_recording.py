"""Recording a room's media only with consent, with a real Janus and a real WebRTC
publisher (aiortc); the recording processed into one case document."""

from __future__ import annotations

import hashlib
import shutil
import time

import pytest
from django.utils import translation

from documents.access import visible_documents
from documents.models import Document
from documents.services.recordings import process_recording, process_waiting_recordings
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import AuditEntry
from rooms.media import recording as recording_service
from rooms.media.rules import media_refusal, recording_state
from rooms.media.servers import media_room_for
from rooms.models import MediaRecording, RecordingConsent, RoomEntry
from tests.cases import make_civil_case
from tests.media.publisher import publishing

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_civil_case()


def _wait_for_files(recording, count: int, seconds: float = 5) -> None:
    """Janus writes a publisher's files once its first packets arrive."""
    from pathlib import Path

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        files = list(Path(recording.folder).glob("*.mjr"))
        if len(files) >= count and all(path.stat().st_size > 1000 for path in files):
            return
        time.sleep(0.1)
    raise AssertionError(f"Janus wrote {list(Path(recording.folder).glob('*'))}")


def test_start_is_refused_until_everyone_present_consented_and_names_who_has_not(janus, world):
    media = media_room_for(world.joint)
    with (
        publishing(janus.url, media.janus_room, media.join_token, world.mediator),
        publishing(janus.url, media.janus_room, media.join_token, world.plaintiff),
    ):
        recording_service.consent_to_recording(room=world.joint, user=world.mediator)
        with translation.override("en"), pytest.raises(recording_service.RecordingRefused) as refused:
            recording_service.start_recording(room=world.joint, actor=world.mediator)
        assert refused.value.missing == [{"id": world.plaintiff.pk, "name": str(world.plaintiff)}]
        assert str(world.plaintiff) in refused.value.message
        assert str(world.mediator) not in refused.value.message
        assert not MediaRecording.objects.exists()

        # In the mediator's language.
        with translation.override("zh-hans"), pytest.raises(recording_service.RecordingRefused) as refused:
            recording_service.start_recording(room=world.joint, actor=world.mediator)
        assert "尚未同意录音录像" in refused.value.message

        recording_service.consent_to_recording(room=world.joint, user=world.plaintiff)
        recording = recording_service.start_recording(room=world.joint, actor=world.mediator)

    assert recording.status == MediaRecording.Status.RECORDING
    assert set(recording.consents.values_list("user_id", flat=True)) == {world.mediator.pk, world.plaintiff.pk}
    started = RoomEntry.objects.get(room=world.joint, kind="recording.started")
    assert sorted(started.data["consented"]) == sorted([str(world.mediator), str(world.plaintiff)])
    assert recording_state(world.plaintiff, world.joint) == {"active": True, "consented": True}
    recording_service.stop_recording(room=world.joint, actor=world.mediator)


def test_a_later_joiner_is_refused_until_they_consent_to_this_recording(janus, world):
    recording_service.consent_to_recording(room=world.joint, user=world.mediator)
    recording_service.start_recording(room=world.joint, actor=world.mediator)
    assert media_refusal(world.defendant, world.joint) == "consent_required"
    assert recording_state(world.defendant, world.joint) == {"active": True, "consented": False}
    # Not in another room, and not for the mediator who consented.
    assert media_refusal(world.defendant, world.defendant_caucus) == ""
    assert media_refusal(world.mediator, world.joint) == ""

    recording_service.consent_to_recording(room=world.joint, user=world.defendant)
    assert media_refusal(world.defendant, world.joint) == ""
    assert RoomEntry.objects.filter(room=world.joint, kind="recording.consented").count() == 2

    # The next recording needs their consent again.
    recording_service.stop_recording(room=world.joint, actor=world.mediator)
    assert recording_state(world.defendant, world.joint) == {"active": False, "consented": False}


def test_only_the_mediator_starts_and_stops(janus, world):
    recording_service.consent_to_recording(room=world.joint, user=world.plaintiff)
    for someone in (world.plaintiff, world.judge, world.defendant):
        with pytest.raises(ActionForbidden):
            recording_service.start_recording(room=world.joint, actor=someone)
    assert not MediaRecording.objects.exists()
    recording_service.start_recording(room=world.joint, actor=world.mediator)
    for someone in (world.plaintiff, world.judge):
        with pytest.raises(ActionForbidden):
            recording_service.stop_recording(room=world.joint, actor=someone)
    assert MediaRecording.objects.get().status == MediaRecording.Status.RECORDING
    with pytest.raises(TransitionNotAllowed):
        recording_service.start_recording(room=world.joint, actor=world.mediator)


def test_a_stranger_cannot_consent(world):
    with pytest.raises(Exception) as refused:
        recording_service.consent_to_recording(room=world.plaintiff_caucus, user=world.defendant)
    assert getattr(refused.value, "code", "") == "not_member"
    assert not RecordingConsent.objects.exists()


def test_a_recording_becomes_one_case_document_with_its_sha256_audited(janus, world):
    media = media_room_for(world.plaintiff_caucus)
    for person in (world.mediator, world.plaintiff):
        recording_service.consent_to_recording(room=world.plaintiff_caucus, user=person)
    with (
        publishing(janus.url, media.janus_room, media.join_token, world.mediator),
        publishing(janus.url, media.janus_room, media.join_token, world.plaintiff),
    ):
        recording = recording_service.start_recording(room=world.plaintiff_caucus, actor=world.mediator)
        _wait_for_files(recording, 4)
        time.sleep(1.5)
        recording_service.stop_recording(room=world.plaintiff_caucus, actor=world.mediator)

    recording.refresh_from_db()
    assert recording.status == MediaRecording.Status.PROCESSING
    assert RoomEntry.objects.filter(room=world.plaintiff_caucus, kind="recording.stopped").exists()

    recording = process_recording(recording.pk)
    assert recording.status == MediaRecording.Status.STORED, recording.failure_detail
    document = Document.objects.get(kind=Document.Kind.RECORDING)
    assert document.visibility == "plaintiff"
    from documents.services.storage import documents_storage

    with documents_storage().open(document.blob.storage_name, "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == document.blob_id
    assert data[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    entry = AuditEntry.objects.get(action="recording.stored")
    assert entry.data["sha256"] == document.blob_id
    assert entry.data["tracks"] == 4

    import av

    with av.open(str(documents_storage().path(document.blob.storage_name))) as container:
        kinds = sorted(stream.type for stream in container.streams)
        assert kinds == ["audio", "audio", "video", "video"]
        assert 1 < float(container.duration or 0) / 1_000_000 < 10

    # The court sees it; the parties only once allowed; the other side never.
    assert visible_documents(world.mediator, world.case).filter(pk=document.pk).exists()
    assert visible_documents(world.judge, world.case).filter(pk=document.pk).exists()
    assert not visible_documents(world.plaintiff, world.case).filter(pk=document.pk).exists()
    from documents.services.recordings import decide_parties_access

    decide_parties_access(stored=document.recording, actor=world.judge, allowed=True)
    assert visible_documents(world.plaintiff, world.case).filter(pk=document.pk).exists()
    assert not visible_documents(world.defendant, world.case).filter(pk=document.pk).exists()
    # The .mjr files are kept.
    assert len(list(__import__("pathlib").Path(recording.folder).glob("*.mjr"))) == 4


def test_a_failed_conversion_is_marked_failed_keeps_the_files_and_is_retried(janus, world, settings, monkeypatch):
    media = media_room_for(world.joint)
    recording_service.consent_to_recording(room=world.joint, user=world.mediator)
    with publishing(janus.url, media.janus_room, media.join_token, world.mediator):
        recording = recording_service.start_recording(room=world.joint, actor=world.mediator)
        _wait_for_files(recording, 2)
        recording_service.stop_recording(room=world.joint, actor=world.mediator)

    from rooms.media import processing

    monkeypatch.setattr(processing, "CONVERTER", "/nonexistent/janus-pp-rec")
    failed = process_recording(recording.pk)
    assert failed.status == MediaRecording.Status.FAILED
    assert failed.failure == "conversion_failed"
    assert AuditEntry.objects.filter(action="recording.failed").exists()
    assert not Document.objects.filter(kind=Document.Kind.RECORDING).exists()

    monkeypatch.setattr(processing, "CONVERTER", shutil.which("janus-pp-rec"))
    (stored,) = process_waiting_recordings()
    assert stored.status == MediaRecording.Status.STORED
    assert stored.attempts == 2


def test_a_recording_beyond_the_size_limit_is_refused(janus, world, settings):
    media = media_room_for(world.joint)
    recording_service.consent_to_recording(room=world.joint, user=world.mediator)
    with publishing(janus.url, media.janus_room, media.join_token, world.mediator):
        recording = recording_service.start_recording(room=world.joint, actor=world.mediator)
        _wait_for_files(recording, 2)
        recording_service.stop_recording(room=world.joint, actor=world.mediator)
    settings.RECORDING_MAX_BYTES = 1000
    failed = process_recording(recording.pk)
    assert (failed.status, failed.failure) == (MediaRecording.Status.FAILED, "too_large")


def test_closing_the_room_stops_its_recording(janus, world):
    from rooms.services import close_room

    recording_service.consent_to_recording(room=world.joint, user=world.mediator)
    recording = recording_service.start_recording(room=world.joint, actor=world.mediator)
    close_room(room=world.joint, actor=world.mediator)
    recording.refresh_from_db()
    assert recording.status == MediaRecording.Status.PROCESSING
    assert recording.stop_reason == "room_closed"
    assert recording.stopped_by is None


def test_the_case_ending_stops_its_recordings(janus, world):
    from mediation.services import cases

    recording_service.consent_to_recording(room=world.plaintiff_caucus, user=world.mediator)
    recording = recording_service.start_recording(room=world.plaintiff_caucus, actor=world.mediator)
    cases.withdraw_case(case=world.case, actor=world.mediator, reason="The plaintiff withdrew.")
    recording.refresh_from_db()
    assert (recording.status, recording.stop_reason) == (MediaRecording.Status.PROCESSING, "case_ended")
    assert RoomEntry.objects.filter(room=world.plaintiff_caucus, kind="recording.stopped").exists()


def test_the_command_stops_a_recording_of_a_room_closed_by_the_clock_and_processes_it(janus, world):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from rooms.models import Room

    recording_service.consent_to_recording(room=world.joint, user=world.mediator)
    recording = recording_service.start_recording(room=world.joint, actor=world.mediator)
    Room.objects.filter(pk=world.joint.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    call_command("process_recordings")
    recording.refresh_from_db()
    assert recording.stop_reason == "room_closed"
    # Nobody published: Janus wrote nothing, and the recording says so.
    assert (recording.status, recording.failure) == (MediaRecording.Status.FAILED, "no_files")


@pytest.mark.django_db(transaction=True)
def test_a_stopped_recording_is_processed_in_a_thread_after_the_commit(janus, settings):
    import threading

    settings.RECORDING_PROCESS_AFTER_STOP = True
    world = make_civil_case()
    media = media_room_for(world.joint)
    recording_service.consent_to_recording(room=world.joint, user=world.mediator)
    with publishing(janus.url, media.janus_room, media.join_token, world.mediator):
        recording = recording_service.start_recording(room=world.joint, actor=world.mediator)
        _wait_for_files(recording, 2)
        recording_service.stop_recording(room=world.joint, actor=world.mediator)
    for thread in threading.enumerate():
        if thread.name == f"recording-{recording.pk}":
            thread.join(30)
    recording.refresh_from_db()
    assert recording.status == MediaRecording.Status.STORED, recording.failure_detail
    assert recording.stored.document.kind == Document.Kind.RECORDING


def test_someone_joining_while_the_recording_starts_stops_it_from_starting(janus, world, monkeypatch):
    """The plaintiff joins the media room after the mediator's start asked Janus who is
    there and before it switched recording on: the start is refused, not a recording
    of someone who never consented."""
    from contextlib import ExitStack

    media = media_room_for(world.joint)
    recording_service.consent_to_recording(room=world.joint, user=world.mediator)
    listed = recording_service.present_in_media_room
    late = ExitStack()

    def listed_then_someone_joins(media_room):
        present = listed(media_room)
        if not late._exit_callbacks:
            late.enter_context(publishing(janus.url, media.janus_room, media.join_token, world.plaintiff))
        return present

    from rooms.media.servers import recordings_dir

    folders_before = set(recordings_dir(media).glob("recording-*"))
    monkeypatch.setattr(recording_service, "present_in_media_room", listed_then_someone_joins)
    with late, publishing(janus.url, media.janus_room, media.join_token, world.mediator):
        with pytest.raises(recording_service.RecordingRefused) as refused:
            recording_service.start_recording(room=world.joint, actor=world.mediator)
        assert refused.value.missing == [{"id": world.plaintiff.pk, "name": str(world.plaintiff)}]
        assert not MediaRecording.objects.exists()
        # Nothing of it is kept: Janus wrote into no folder that stays.
        assert set(recordings_dir(media).glob("recording-*")) == folders_before
