"""Builders of recordings (rooms.media.recording) for the tests that need one stored
without a media server."""

from __future__ import annotations

from documents.models import Document, StoredRecording
from documents.services.storage import store_blob
from rooms.models import MediaRecording, Room

SIDE_OF_ROOM = {"joint": "case", "caucus_plaintiff": "plaintiff", "caucus_defendant": "defendant"}


def stored_recording(world, room: Room) -> Document:
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
    blob = store_blob(b"\x1a\x45\xdf\xa3" + str(room.pk).encode() + b"webm", "video/webm")
    document = Document.objects.create(
        case=room.case,
        kind=Document.Kind.RECORDING,
        title="recording",
        original_name="recording.webm",
        blob=blob,
        visibility=SIDE_OF_ROOM[room.kind],
        uploaded_by=world.mediator,
    )
    StoredRecording.objects.create(recording=recording, document=document, duration=3)
    return document
