"""The mediation record (调解笔录) of a session: what the mediator wrote of it (time,
mode, place, who attended in which capacity, what each side stated and asked, what
was agreed and what is still in dispute, the mediator's note), kept structured while
it is a draft, then laid out as a court document (CourtDocument, kind
MEDIATION_RECORD) that each attending party and the mediator sign and the platform
seals (documents.services.mediation_records)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from documents.models.court_documents import CourtDocument
from mediation.models import MediationCase, MediationSession


class MediationRecord(models.Model):
    class Mode(models.TextChoices):
        VIDEO = "video", _("Online, by video")
        AUDIO = "audio", _("Online, by audio")
        TEXT = "text", _("Online, in writing")
        IN_PERSON = "in_person", _("In person")
        MIXED = "mixed", _("Mixed (some in person, some online)")

    class Status(models.TextChoices):
        # Written and edited by the case's mediator; nobody else sees it.
        DRAFT = "draft", _("Draft")
        # Laid out as a court document (`document`), which is signed, then sealed.
        SENT = "sent", _("Sent for signature")

    case = models.ForeignKey(MediationCase, on_delete=models.PROTECT, related_name="mediation_records")
    # One record per session: the session fixes the room (joint or a side's caucus),
    # hence who may read the record.
    session = models.OneToOneField(MediationSession, on_delete=models.PROTECT, related_name="record")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    place = models.CharField(_("place"), max_length=200, blank=True, default="")
    recorder = models.CharField(_("recorder"), max_length=100, blank=True, default="")
    # Who attended, as codes: [{"participant": id} | {"staff": "mediator"|"judge"} |
    # {"name": text, "capacity": text}] (documents.services.mediation_records.attendees).
    attendance = models.JSONField(default=list, blank=True)
    # Per side ("plaintiff", "defendant", "third"): {"statements": text, "claims": text}.
    statements = models.JSONField(default=dict, blank=True)
    agreed = models.TextField(_("points agreed"), blank=True, default="")
    disputed = models.TextField(_("points still in dispute"), blank=True, default="")
    mediator_note = models.TextField(_("mediator's note"), blank=True, default="")
    document = models.OneToOneField(
        CourtDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="mediation_record"
    )
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("mediation record")
        verbose_name_plural = _("mediation records")

    def __str__(self):
        return f"record of session {self.session_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT
