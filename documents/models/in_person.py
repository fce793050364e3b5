"""What a party did in person (线下参与), at the court or at the mediation
organisation, recorded by the mediator: consent to mediation, acknowledgement of
service, or signing a paper copy of the agreement. Each act has the scan as
evidence, the mediator as witness and a second staff member's confirmation; only a
confirmed act counts (a paper signature fills its slot of the agreement only then)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from documents.models import AgreementVersion, Document, Service
from mediation.models import MediationCase, Party


class InPersonAct(models.Model):
    class Kind(models.TextChoices):
        # 同意调解: the party consents to pre-litigation mediation.
        CONSENT = "consent", _("Consent to mediation")
        # 签收: the party acknowledges receipt of a served document (`service`).
        SERVICE_ACKNOWLEDGEMENT = "service_acknowledgement", _("Acknowledgement of service")
        # The party signed a paper copy of the locked agreement version (`agreement_version`).
        PAPER_SIGNATURE = "paper_signature", _("Signature on a paper copy of the agreement")
        # The party signed a paper copy of a mediation record (`court_document`).
        RECORD_PAPER_SIGNATURE = "record_paper_signature", _("Signature on a paper copy of the mediation record")

    class Place(models.TextChoices):
        COURT = "court", _("At the court")
        ORGANISATION = "organisation", _("At the mediation organisation")

    case = models.ForeignKey(MediationCase, on_delete=models.PROTECT, related_name="in_person_acts")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="in_person_acts")
    kind = models.CharField(_("what was done"), max_length=24, choices=Kind.choices)
    # Who acted for the party, and in which capacity (ParticipantRole: the party in
    # person, their legal representative, guardian or agent).
    person_name = models.CharField(_("name of the person"), max_length=100)
    capacity = models.CharField(_("capacity"), max_length=24)
    place = models.CharField(_("place"), max_length=12, choices=Place.choices)
    place_detail = models.CharField(_("where exactly"), max_length=200, blank=True, default="")
    occurred_at = models.DateTimeField(_("when"))
    # For a paper signature: the version signed, its hash when signed and the slot it fills.
    agreement_version = models.ForeignKey(
        AgreementVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="in_person_acts"
    )
    content_hash = models.CharField(max_length=64, blank=True, default="")
    slot = models.CharField(max_length=40, blank=True, default="")
    # For a paper signature of a mediation record: the court document signed (its
    # content hash and slot as above).
    court_document = models.ForeignKey(
        "documents.CourtDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="in_person_acts"
    )
    # For an acknowledgement of service: the service acknowledged.
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="in_person_acts")
    # The scan of the signed paper, as a case document (kind IN_PERSON_SCAN).
    scan = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    # The mediator, who witnessed it and recorded it.
    witness = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))
    # A second member of staff (not the witness) who checked the scan.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # Withdrawn before confirmation (a wrong scan): never counts.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("act done in person")
        verbose_name_plural = _("acts done in person")
        indexes = [models.Index(fields=["case", "kind"], name="in_person_case_kind_idx")]

    def __str__(self):
        return f"{self.case_id} {self.kind} by {self.person_name}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None and self.withdrawn_at is None
