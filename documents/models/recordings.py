"""A room's recording stored as a case document (rooms.MediaRecording is the session;
this is its file and who may see it)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredRecording(models.Model):
    """The one file a recording session was processed into, as a case document
    (Document.Kind.RECORDING, its visibility the room's: the whole case for the joint
    room, one side for a caucus). The mediator and the judge see it; the parties' people
    only while the court allows it (`parties_may_see`, set by the judge or the general
    liaison), and a caucus recording never reaches the other side (its visibility)."""

    recording = models.OneToOneField("rooms.MediaRecording", on_delete=models.PROTECT, related_name="stored")
    document = models.OneToOneField("documents.Document", on_delete=models.PROTECT, related_name="recording")
    # Seconds from the first to the last packet recorded.
    duration = models.FloatField(default=0)
    parties_may_see = models.BooleanField(_("the parties may see it"), default=False)
    # Who last allowed or withdrew it, and when (the audit trail keeps every change).
    access_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    access_decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stored recording")
        verbose_name_plural = _("stored recordings")

    def __str__(self):
        return f"recording {self.recording_id} as document {self.document_id}"
