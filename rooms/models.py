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
