from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation.models import MediationCase, RoomKind
from mediation.participation import side_of_room


class Room(models.Model):
    """A case's joint room or one side's caucus room (背对背调解). `last_seq` is the
    sequence number of the room's newest entry; it is incremented in the transaction
    that inserts the entry, so sequence numbers rise by exactly one."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="rooms")
    kind = models.CharField(_("kind"), max_length=20, choices=RoomKind.choices)
    last_seq = models.PositiveBigIntegerField(default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A room closes to new messages after the settlement's grace period, if set.
    closes_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "id"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="one_room_of_a_kind_per_case")]

    def __str__(self):
        return f"{self.case_id}/{self.kind}"

    @property
    def is_closed(self) -> bool:
        """The one rule of a closed room, as of now: closed by the mediator
        (`closed_at`), or past `closes_at` (the end of the grace period after the
        agreement's seal). The room page, the case page, the rooms API and the socket
        (4408) all read it; the store's SQL states it again for speed, and
        tests/rooms/test_participation_rule.py holds the two to the same rows."""
        return self.is_closed_at(timezone.now())

    def is_closed_at(self, moment) -> bool:
        return self.closed_at is not None or (self.closes_at is not None and self.closes_at <= moment)

    @property
    def side(self) -> str | None:
        """The side a caucus room belongs to; None for the joint room."""
        return side_of_room(self.kind)


class RoomEntry(models.Model):
    """One line of a room's history: a participant's message (`kind="message"`) or a
    system event (joined, left, session started, document served ...). Both share the
    room's sequence so that a reconnecting client resumes from one number."""

    MESSAGE = "message"

    # No index of its own: the unique index on (room, seq) serves lookups by room, and
    # every message stored would otherwise update one more.
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="entries", db_index=False)
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40, default=MESSAGE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True)
    body = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["room_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="room_entry_seq_unique"),
            models.UniqueConstraint(
                fields=["room", "author", "client_id"],
                condition=Q(client_id__isnull=False),
                name="room_entry_client_id_once",
            ),
        ]

    def __str__(self):
        return f"{self.room_id}#{self.seq} {self.kind}"

    @property
    def is_message(self) -> bool:
        return self.kind == self.MESSAGE


class RoomMute(models.Model):
    """A participant the mediator has muted in a room; they may read but not post."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    muted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    muted_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], condition=Q(lifted_at__isnull=True), name="room_mute_once")
        ]

    def __str__(self):
        return f"{self.user_id} muted in {self.room_id}"


class ReadMark(models.Model):
    """How far a user has read in a room: unread counts and read receipts."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="read_marks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="read_mark_once")]

    def __str__(self):
        return f"{self.user_id} read {self.room_id} to {self.seq}"


class MediaRoom(models.Model):
    """Where a room's audio and video live: a VideoRoom on one of the court's Janus
    servers, chosen by the platform when the room's media is first needed and
    recorded here (rooms.media.servers). The secret and the join token never leave
    the server: the media socket adds them to what browsers send."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, related_name="media")
    # The Janus server's WebSocket URL, one of JANUS_SERVERS when chosen.
    server = models.CharField(_("media server"), max_length=200)
    # The VideoRoom's id on that server (below 2**53, as browsers' numbers hold).
    janus_room = models.PositiveBigIntegerField()
    # The room's secret on Janus: what kicking, muting and recording need.
    secret = models.CharField(max_length=64)
    # The one token in the VideoRoom's allowed list: no join without it.
    join_token = models.CharField(max_length=64)
    placed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("media room")
        verbose_name_plural = _("media rooms")
        constraints = [models.UniqueConstraint(fields=["server", "janus_room"], name="one_media_room_per_janus_room")]

    def __str__(self):
        return f"{self.room_id} on {self.server}#{self.janus_room}"


class MediaModeration(models.Model):
    """The mediator's word on a person in a room's media, while it lasts: muted (their
    microphone is cut on every feed, and again when they publish anew) or removed
    (their media sockets are closed and they may not join again) until lifted."""

    class Kind(models.TextChoices):
        # Their audio is cut on Janus; they stay in the media room and hear the others.
        MUTE = "mute", _("muted")
        # Out of the room's media; readmitted by the mediator only.
        REMOVAL = "removal", _("removed")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="media_moderations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user", "kind"], condition=Q(lifted_at__isnull=True), name="media_moderation_once"
            )
        ]

    def __str__(self):
        return f"{self.user_id} {self.kind} in {self.room_id}"


class MediaRecording(models.Model):
    """One recording session (录音录像) of a room's media: from the moment its mediator
    started it, with the consent of everyone then in the media room, to the moment it
    stopped (the mediator, or the platform when the room closed or the case ended).
    Janus writes one .mjr file per publisher and stream into `folder`; after the stop
    they are processed into one file, stored as a case document
    (documents.StoredRecording: rooms know nothing of documents)."""

    class Status(models.TextChoices):
        # Janus is recording the room now.
        RECORDING = "recording", _("Recording")
        # Stopped; the files wait to be (or are being) processed into one.
        PROCESSING = "processing", _("Processing")
        # The combined file is a case document: final.
        STORED = "stored", _("Stored")
        # Processing failed (`failure`): the .mjr files are kept and
        # `manage.py process_recordings` tries again.
        FAILED = "failed", _("Failed")

    class StopReason(models.TextChoices):
        MEDIATOR = "mediator", _("Stopped by the mediator")
        ROOM_CLOSED = "room_closed", _("The room closed")
        CASE_ENDED = "case_ended", _("The case ended")
        # The room's media moved to another server (its server stopped).
        SERVER_LOST = "server_lost", _("The media server stopped")

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="recordings")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECORDING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started at"))
    # The media server and VideoRoom that recorded, and where its files are.
    server = models.CharField(max_length=200)
    janus_room = models.PositiveBigIntegerField()
    folder = models.CharField(max_length=500)
    # Janus's publisher id -> the platform's person {"id", "name"}, as listed in the
    # media room while recording: which person each file is of.
    publishers = models.JSONField(default=dict, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    # None when the platform stopped it (the room closed, the case ended).
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stop_reason = models.CharField(max_length=12, choices=StopReason.choices, blank=True, default="")
    # Why processing failed: a code (rooms.media.processing.FAILURES) and the detail
    # for the operator (the converter's last words).
    failure = models.CharField(max_length=40, blank=True, default="")
    failure_detail = models.TextField(blank=True, default="")
    # A processor working on it since then (another one leaves it alone until stale).
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        constraints = [
            models.UniqueConstraint(
                fields=["room"], condition=Q(status="recording"), name="one_recording_at_a_time_per_room"
            )
        ]

    def __str__(self):
        return f"recording {self.pk} of {self.room_id} ({self.status})"


class RecordingConsent(models.Model):
    """A person's consent to the room being recorded, given in the platform.

    A consent is for one recording session: given while the room is recording, it is
    for that recording; given before (when the mediator asks), it waits
    (`recording` empty) and becomes the consent to the next recording of the room
    when it starts. Once that recording stops, the next one needs everyone's consent
    again."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="recording_consents")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recording = models.ForeignKey(
        MediaRecording, null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    consented_at = models.DateTimeField(_("consented at"))

    class Meta:
        ordering = ["consented_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "user"], name="one_consent_per_recording"),
            models.UniqueConstraint(
                fields=["room", "user"], condition=Q(recording__isnull=True), name="one_waiting_consent_per_room"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} consents to recording {self.recording_id or 'next'} of {self.room_id}"
