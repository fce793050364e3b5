"""A room's recording as a case document (docs/media.md "Recording").

- `process_recording`: a stopped recording's .mjr files are processed into one WebM
  file (rooms.media.processing) and stored as a case document, content-addressed,
  with its SHA-256 in the audit trail. A failure marks the recording failed with the
  reason and keeps its files; `manage.py process_recordings` tries again. One
  processor at a time per recording (a claim, stale after CLAIM_STALE).
- `decide_parties_access`: the judge or the general liaison allows the parties to see
  a recording, or withdraws that; the mediator and the judge always see it.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import Document, StoredRecording
from documents.services.storage import store_blob_file
from mediation import audit, policy
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import User
from mediation.participation import SIDE_OF_CAUCUS
from rooms.media import processing
from rooms.models import MediaRecording

logger = logging.getLogger(__name__)

# A processor that claimed a recording this long ago and did not finish has died.
CLAIM_STALE = dt.timedelta(hours=2)
WAITING = (MediaRecording.Status.PROCESSING, MediaRecording.Status.FAILED)


def _claim(recording_id: int) -> MediaRecording | None:
    """Take the recording for processing, unless it is done or another processor has it."""
    with transaction.atomic():
        recording = (
            MediaRecording.objects.select_for_update()
            .select_related("room", "room__case")
            .filter(pk=recording_id, status__in=WAITING)
            .first()
        )
        now = timezone.now()
        if recording is None or (recording.claimed_at is not None and recording.claimed_at > now - CLAIM_STALE):
            return None
        recording.claimed_at = now
        recording.attempts += 1
        recording.save(update_fields=["claimed_at", "attempts"])
        return recording


def process_recording(recording_id: int) -> MediaRecording | None:
    """Process a stopped (or failed) recording into a stored case document. Returns
    the recording as it ends (stored or failed), None if it was not this caller's to
    process (done already, or claimed by another processor)."""
    recording = _claim(recording_id)
    if recording is None:
        return None
    names = {publisher: (person or {}).get("name") or "" for publisher, person in recording.publishers.items()}
    try:
        with tempfile.TemporaryDirectory(prefix=f"recording-{recording.pk}-") as work:
            target = Path(work) / _file_name(recording)
            combined = processing.process_folder(Path(recording.folder), Path(work), target, names)
            try:
                blob = store_blob_file(target, processing.CONTENT_TYPE)
            except Exception as error:
                raise processing.ProcessingFailed("storage_failed", f"{type(error).__name__}: {error}") from error
            return _stored(recording, blob, target.name, combined)
    except processing.ProcessingFailed as failure:
        logger.error("Recording %s could not be processed: %s", recording.pk, failure)
        return _failed(recording, failure)


def _file_name(recording: MediaRecording) -> str:
    started = timezone.localtime(recording.started_at).strftime("%Y%m%d-%H%M%S")
    return f"recording-{recording.room.case.number}-{recording.room.kind}-{started}.webm".replace("/", "-")


@transaction.atomic
def _stored(recording: MediaRecording, blob, name: str, combined: processing.Combined) -> MediaRecording:
    recording = MediaRecording.objects.select_for_update().select_related("room", "room__case").get(pk=recording.pk)
    room = recording.room
    side = SIDE_OF_CAUCUS.get(room.kind)
    document = Document.objects.create(
        case=room.case,
        kind=Document.Kind.RECORDING,
        # The file's name: the page shows a recording's title from its room and time,
        # in the reader's language (StoredRecording).
        title=Path(name).stem[:200],
        original_name=name,
        blob=blob,
        # A caucus's recording is that side's (and the court's); the joint room's, the case's.
        visibility=side or Document.Visibility.CASE,
        # The document is the product of the recording its mediator started.
        uploaded_by=recording.started_by,
    )
    StoredRecording.objects.create(recording=recording, document=document, duration=combined.duration)
    recording.status = MediaRecording.Status.STORED
    recording.failure = ""
    recording.failure_detail = ""
    recording.claimed_at = None
    recording.save(update_fields=["status", "failure", "failure_detail", "claimed_at"])
    audit.record(
        actor=None,
        action="recording.stored",
        target=recording,
        data={
            "case": room.case_id,
            "room": room.pk,
            "document": document.pk,
            "sha256": blob.sha256,
            "size": blob.size,
            "tracks": combined.tracks,
            "duration": combined.duration,
        },
    )
    return recording


@transaction.atomic
def _failed(recording: MediaRecording, failure: processing.ProcessingFailed) -> MediaRecording:
    recording = MediaRecording.objects.select_for_update().get(pk=recording.pk)
    recording.status = MediaRecording.Status.FAILED
    recording.failure = failure.code
    recording.failure_detail = failure.detail
    recording.claimed_at = None
    recording.save(update_fields=["status", "failure", "failure_detail", "claimed_at"])
    audit.record(
        actor=None,
        action="recording.failed",
        target=recording,
        data={"case": recording.room.case_id, "room": recording.room_id, "failure": failure.code},
    )
    return recording


def process_waiting_recordings() -> list[MediaRecording]:
    """Process every recording that waits (stopped, failed, or left half done by a
    processor that died); what `manage.py process_recordings` runs."""
    done = []
    for recording_id in MediaRecording.objects.filter(status__in=WAITING).values_list("pk", flat=True):
        result = process_recording(recording_id)
        if result is not None:
            done.append(result)
    return done


def process_in_background(recording_id: int) -> threading.Thread | None:
    """Process a just-stopped recording in a thread of this process (after the stop's
    commit), if RECORDING_PROCESS_AFTER_STOP; the command finds it otherwise."""
    if not settings.RECORDING_PROCESS_AFTER_STOP:
        return None

    def run():
        try:
            process_recording(recording_id)
        except Exception:  # the command tries again
            logger.exception("Processing recording %s failed", recording_id)
        finally:
            close_old_connections()

    thread = threading.Thread(target=run, name=f"recording-{recording_id}", daemon=True)
    thread.start()
    return thread


# -- who may see a recording ---------------------------------------------------------


def may_decide_parties_access(user: User, case) -> bool:
    """The court decides whether the parties may see a case's recordings: its judge,
    or the general liaison."""
    return bool(user.is_authenticated and (policy.is_case_judge(user, case) or policy.is_general_liaison(user)))


@transaction.atomic
def decide_parties_access(*, stored: StoredRecording, actor: User, allowed: bool) -> StoredRecording:
    """Allow the parties (their own side's recordings only: a caucus's stays with its
    side) to see a recording, or withdraw that."""
    stored = StoredRecording.objects.select_for_update().select_related("document", "document__case").get(pk=stored.pk)
    case = stored.document.case
    if not may_decide_parties_access(actor, case):
        raise ActionForbidden(_("Only the case's judge or the general liaison can decide this."))
    if stored.parties_may_see == allowed:
        raise TransitionNotAllowed(
            _("The parties may already see this recording.") if allowed else _("The parties cannot see this recording.")
        )
    stored.parties_may_see = allowed
    stored.access_decided_by = actor
    stored.access_decided_at = timezone.now()
    stored.save(update_fields=["parties_may_see", "access_decided_by", "access_decided_at"])
    audit.record(
        actor=actor,
        action="recording.parties_allowed" if allowed else "recording.parties_withdrawn",
        target=stored.document,
        data={"case": case.pk, "recording": stored.recording_id},
    )
    return stored
