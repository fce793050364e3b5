from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mediation.models import MediationCase, Party


class Blob(models.Model):
    """File content, stored once under its SHA-256 and never overwritten."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    storage_name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.sha256[:12]} ({self.content_type}, {self.size} bytes)"


class Document(models.Model):
    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        EVIDENCE = "evidence", _("Evidence")
        ID_DOCUMENT = "id_document", _("Identity document")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
        SERVICE_EVIDENCE = "service_evidence", _("Evidence of service by other means")
        # What an obligor shows to prove an agreed term performed (a transfer receipt).
        PERFORMANCE_EVIDENCE = "performance_evidence", _("Evidence of performance")
        # The court's sealed ruling on an application for judicial confirmation, as served.
        RULING = "ruling", _("Civil ruling")
        # The sealed application for enforcement, with what it carries.
        ENFORCEMENT_APPLICATION = "enforcement_application", _("Application for enforcement")
        # The scan of a paper a party signed in person (documents.InPersonAct).
        IN_PERSON_SCAN = "in_person_scan", _("Scan of a paper signed in person")
        # A room's audio and video, recorded with everyone's consent (StoredRecording).
        RECORDING = "recording", _("Audio/video recording")
        OTHER = "other", _("Other")

    class Visibility(models.TextChoices):
        CASE = "case", _("Everyone in the case")
        PLAINTIFF = "plaintiff", _("The plaintiff's side and the mediator")
        DEFENDANT = "defendant", _("The defendant's side and the mediator")

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="documents")
    visibility = models.CharField(_("visible to"), max_length=12, choices=Visibility.choices, default=Visibility.CASE)
    party = models.ForeignKey(
        Party, verbose_name=_("concerns the party"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self):
        return self.title

    @property
    def sha256(self) -> str:
        return self.blob_id


class ServiceConsent(models.Model):
    """A recipient's consent to electronic service (Civil Procedure Law art. 90), once
    per case, with the addresses it covers."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="service_consents")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    platform_account = models.BooleanField(_("my account on this platform"), default=True)
    email = models.EmailField(_("my email address"), blank=True, default="")
    consented_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="service_consent_once_per_case")]

    def __str__(self):
        return f"{self.user_id} consents in {self.case_id}"


class Service(models.Model):
    """Service of documents (送达) on one recipient."""

    class Method(models.TextChoices):
        ELECTRONIC = "electronic", _("Electronic, through the platform")
        POST = "post", _("By post")
        IN_PERSON = "in_person", pgettext_lazy("service of documents", "In person")

    class Status(models.TextChoices):
        # Recorded by the mediator; a step, not a state a service stays in.
        PREPARED = "prepared", _("Prepared")
        # Sent to the recipient (by the platform, by post, in person); a step too.
        SENT = "sent", pgettext_lazy("service of documents", "Sent")
        # In the recipient's account, or handed over (service by other means, which
        # stays here): the date of service.
        DELIVERED = "delivered", pgettext_lazy("service of documents", "Delivered")
        # The recipient opened a served document.
        OPENED = "opened", _("Opened")
        # The recipient acknowledged receipt: final.
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        # The recipient refused the documents, saying why: final.
        REFUSED = "refused", _("Refused")
        # Not acknowledged by the deadline: final.
        EXPIRED = "expired", _("Expired")

    # Recipients may still open, acknowledge or refuse in these states.
    AWAITING_RECIPIENT = (Status.DELIVERED, Status.OPENED)
    # What each step after delivery needs and leads to. A recipient served by post or
    # in person may open the documents on the platform too; the other steps are for a
    # service made through the platform only (ELECTRONIC_ONLY).
    TRANSITIONS = {
        "open": ((Status.DELIVERED,), Status.OPENED),
        "acknowledge": (AWAITING_RECIPIENT, Status.ACKNOWLEDGED),
        "refuse": (AWAITING_RECIPIENT, Status.REFUSED),
        "expire": (AWAITING_RECIPIENT, Status.EXPIRED),
    }
    ELECTRONIC_ONLY = ("acknowledge", "refuse", "expire")

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="services")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    documents = models.ManyToManyField(Document, related_name="services")
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.PREPARED)
    acknowledge_by = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    # The period the mediator chose for acknowledging an electronic service, in
    # calendar days from the date of service; `acknowledge_by` is computed from it.
    # Empty on services made before the period was chosen.
    acknowledge_days = models.PositiveSmallIntegerField(_("days to acknowledge"), null=True, blank=True)
    # The mediator's note to the recipient when serving. The deadline is never written
    # here: it is rendered from `acknowledge_by` and `acknowledge_days` beside the note.
    note = models.TextField(_("note"), blank=True, default="")
    served_at = models.DateTimeField(_("date of service"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True, default="")
    evidence = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("evidence")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The sealed proof of service (送达回证) for the steps as they stood when it was
    # made; a new step makes a new proof. The court's copy lists the IP address of
    # each step; the parties' copy, the same proof without them, is kept beside it.
    proof_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proof_state = models.CharField(max_length=64, blank=True, default="")
    party_proof_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    party_proof_state = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service of documents")
        verbose_name_plural = _("services of documents")
        indexes = [models.Index(fields=["status", "acknowledge_by"], name="service_expiry_idx")]

    def __str__(self):
        return f"service {self.pk} on {self.recipient_id}"

    def allows(self, action: str) -> bool:
        """Whether `action` (a key of TRANSITIONS) is possible in the current state."""
        if action in self.ELECTRONIC_ONLY and self.method != self.Method.ELECTRONIC:
            return False
        return self.status in self.TRANSITIONS[action][0]

    @property
    def acknowledged_without_opening(self) -> bool:
        """The recipient acknowledged receipt without opening the documents here."""
        return (
            self.status == self.Status.ACKNOWLEDGED
            and self.steps.filter(step=self.Status.ACKNOWLEDGED, without_opening=True).exists()
        )

    @property
    def awaits_recipient(self) -> bool:
        """The recipient may still acknowledge or refuse it."""
        return self.allows("acknowledge")


class ServiceStep(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=14, choices=Service.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=12, choices=Service.Method.choices)
    note = models.TextField(blank=True, default="")
    # On the acknowledged step: the recipient acknowledged receipt without having
    # opened any of the served documents on the platform. No "opened" step is written
    # for them: the record says what happened.
    without_opening = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "step"], name="service_step_once")]

    def __str__(self):
        return f"{self.service_id} {self.step}"

    @property
    def label(self) -> str:
        """The step as it reads on the service page and the proof of service."""
        if self.step == Service.Status.ACKNOWLEDGED and self.method == Service.Method.IN_PERSON:
            # Only an act done in person (documents.InPersonAct), witnessed by the
            # mediator (the step's actor) and confirmed by other staff, writes this.
            return _("Acknowledged in person before the mediator, confirmed by a second member of staff")
        if self.step == Service.Status.ACKNOWLEDGED and self.without_opening:
            return _("Acknowledged without opening the documents")
        return self.get_step_display()


class Agreement(models.Model):
    """A settlement agreement (调解协议书) of a case, through its versions."""

    class Status(models.TextChoices):
        # Being written by the mediator.
        DRAFT = "draft", _("Draft")
        # Content hash fixed and PDF rendered; nobody has signed yet.
        LOCKED = "locked", _("Locked for signing")
        # At least one signature collected on the locked version.
        SIGNING = "signing", _("Being signed")
        # Every signature and the platform's timestamp are on: final.
        SEALED = "sealed", _("Sealed")

    # Signatures are collected (and a party may decline) in these states.
    WAITING_FOR_SIGNATURES = (Status.LOCKED, Status.SIGNING)
    # Which actions each state allows, and the state they lead to. Who may act is
    # decided by the services (the mediator drafts, documents.agreement_rules signs).
    TRANSITIONS = {
        # The mediator changes the content: on a locked version, a new draft version.
        "edit": ((Status.DRAFT, Status.LOCKED, Status.SIGNING), Status.DRAFT),
        "lock": ((Status.DRAFT,), Status.LOCKED),
        # A party declines the locked version: a new draft version.
        "decline": (WAITING_FOR_SIGNATURES, Status.DRAFT),
        "sign": (WAITING_FOR_SIGNATURES, Status.SIGNING),
        "seal": ((Status.SIGNING,), Status.SEALED),
    }

    case = models.ForeignKey(MediationCase, on_delete=models.PROTECT, related_name="agreements")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    verification_code = models.CharField(_("verification code"), max_length=16, unique=True)
    current_version = models.ForeignKey(
        "AgreementVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sealed_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    certificate_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("settlement agreement")
        verbose_name_plural = _("settlement agreements")
        constraints = [
            # One agreement in progress per case; sealed ones stay as the record.
            models.UniqueConstraint(fields=["case"], condition=~Q(status="sealed"), name="one_open_agreement_per_case")
        ]

    def __str__(self):
        return f"agreement {self.verification_code}"

    def allows(self, action: str) -> bool:
        """Whether `action` (a key of TRANSITIONS) is possible in the current state."""
        return self.status in self.TRANSITIONS[action][0]

    @property
    def is_waiting_for_signatures(self) -> bool:
        return self.allows("sign")

    @property
    def is_sealed(self) -> bool:
        return self.status == self.Status.SEALED


class AgreementVersion(models.Model):
    """One version's content. Once locked, `content` and `content_hash` never change;
    a change makes a new version and voids what was signed on this one."""

    class Status(models.TextChoices):
        # Being written; its content may change.
        DRAFT = "draft", _("Draft")
        # Content and hash fixed, the PDF rendered; signatures are collected on it.
        LOCKED = "locked", _("Locked")
        # Replaced by a newer version (changed or declined); its signatures are void.
        VOID = "void", _("Void")
        # Signed by everyone and sealed: the agreement.
        SEALED = "sealed", _("Sealed")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    content = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64, blank=True, default="")
    # The locked, unsigned PDF, then each revision as signatures are added.
    locked_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    latest_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signature_slots = models.JSONField(default=list, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement_id", "number"]
        constraints = [models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_number")]

    def __str__(self):
        return f"{self.agreement_id} v{self.number}"


class SignatureRecord(models.Model):
    """One person's PAdES signature in a place (`slot`) of a platform PDF: who, for
    whom, when, from where, re-authenticated how, at which identity level, with which
    one-hour certificate, and the file's revision it made. A settlement agreement's
    signatures (`Signature`) and a court document's (`CourtSignature`) are both."""

    class Method(models.TextChoices):
        DRAWN = "drawn", _("Drawn by hand")
        TYPED = "typed", _("Typed name")

    slot = models.CharField(max_length=40)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=24)
    party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True, default="")
    reauthenticated_by = models.CharField(max_length=12)
    # The signer's identity level when they signed (mediation.models.IdentityLevel),
    # and for a real name, through which verifier: the signing certificate page tells
    # what was verified then, whatever changes later. "" for signatures from before
    # levels were recorded.
    identity_level = models.CharField(max_length=12, blank=True, default="")
    identity_verifier = models.CharField(max_length=40, blank=True, default="")
    method = models.CharField(max_length=8, choices=Method.choices)
    image = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    certificate_pem = models.TextField()
    certificate_serial = models.CharField(max_length=64)
    revision_hash = models.CharField(max_length=64)

    class Meta:
        abstract = True


class Signature(SignatureRecord):
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="signatures")
    version_hash = models.CharField(max_length=64)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "slot"], condition=Q(voided_at__isnull=True), name="one_signature_per_slot"
            )
        ]

    def __str__(self):
        return f"{self.signer_id} signed {self.version_id} ({self.slot})"


class PowerOfAttorney(models.Model):
    """A power of attorney (授权委托书) an agent (a lawyer, `ParticipantRole.AGENT`)
    acts under: the file they (or the mediator for them) uploaded, and what the
    mediator found when checking it. An agent signs a settlement agreement only under
    an accepted one that gives special authority (特别授权) to settle and to sign, and
    that has not expired (`documents.agreement_rules.signing_authority_refusal`).

    A fact of the agent's side: shown to that side and the case's court staff only."""

    class Status(models.TextChoices):
        # Uploaded; the mediator has not checked it yet.
        SUBMITTED = "submitted", pgettext_lazy("power of attorney", "Waiting for the mediator's check")
        # Checked by the mediator, who recorded its scope and validity: final.
        ACCEPTED = "accepted", pgettext_lazy("power of attorney", "Checked")
        # Refused by the mediator, with the reason: final (the agent uploads another).
        REJECTED = "rejected", pgettext_lazy("power of attorney", "Rejected")

    TRANSITIONS = {
        "accept": ((Status.SUBMITTED,), Status.ACCEPTED),
        "reject": ((Status.SUBMITTED,), Status.REJECTED),
    }

    participant = models.ForeignKey(
        "mediation.Participant", on_delete=models.PROTECT, related_name="powers_of_attorney"
    )
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    # The scope the mediator read in it (special authority, 特别授权).
    may_change_claims = models.BooleanField(_("to admit, waive or change claims"), default=False)
    may_settle = models.BooleanField(_("to settle (mediation and settlement)"), default=False)
    may_sign_agreement = models.BooleanField(_("to sign the settlement agreement"), default=False)
    # The last day it is valid; empty when it runs until the mediation ends.
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True, default="")

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("power of attorney")
        verbose_name_plural = _("powers of attorney")

    def __str__(self):
        return f"power of attorney {self.pk} of participant {self.participant_id}"

    def allows(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action][0]

    @property
    def gives_authority_to_settle(self) -> bool:
        """The scope covers what signing a settlement is: settling, and signing it."""
        return self.may_settle and self.may_sign_agreement

    def has_expired(self, today) -> bool:
        return self.valid_until is not None and self.valid_until < today


# After the seal: court documents, judicial confirmation, performance of the terms.
from documents.models.confirmation import ConfirmationReview, JudicialConfirmation  # noqa: E402
from documents.models.court_documents import CourtDocument, CourtSignature  # noqa: E402
from documents.models.in_person import InPersonAct  # noqa: E402
from documents.models.performance import Obligation, ObligationStep  # noqa: E402
from documents.models.recordings import StoredRecording  # noqa: E402

__all__ = [
    "Agreement",
    "AgreementVersion",
    "Blob",
    "ConfirmationReview",
    "CourtDocument",
    "CourtSignature",
    "Document",
    "InPersonAct",
    "JudicialConfirmation",
    "Obligation",
    "ObligationStep",
    "PowerOfAttorney",
    "Service",
    "ServiceConsent",
    "ServiceStep",
    "Signature",
    "SignatureRecord",
    "StoredRecording",
]
