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
        COMPLAINT = "complaint", _("Complaint (起诉状)")
        EVIDENCE = "evidence", _("Evidence")
        ID_DOCUMENT = "id_document", _("Identity document")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
        SERVICE_EVIDENCE = "service_evidence", _("Evidence of service by other means")
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
        PREPARED = "prepared", _("Prepared")
        SENT = "sent", pgettext_lazy("service of documents", "Sent")
        DELIVERED = "delivered", pgettext_lazy("service of documents", "Delivered")
        OPENED = "opened", _("Opened")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        REFUSED = "refused", _("Refused")
        EXPIRED = "expired", _("Expired")

    # Recipients may still open, acknowledge or refuse in these states.
    AWAITING_RECIPIENT = (Status.DELIVERED, Status.OPENED)

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="services")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    documents = models.ManyToManyField(Document, related_name="services")
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.PREPARED)
    acknowledge_by = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
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

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "step"], name="service_step_once")]

    def __str__(self):
        return f"{self.service_id} {self.step}"


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

    @property
    def is_waiting_for_signatures(self) -> bool:
        return self.status in self.WAITING_FOR_SIGNATURES


class AgreementVersion(models.Model):
    """One version's content. Once locked, `content` and `content_hash` never change;
    a change makes a new version and voids what was signed on this one."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LOCKED = "locked", _("Locked")
        VOID = "void", _("Void")
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


class Signature(models.Model):
    class Method(models.TextChoices):
        DRAWN = "drawn", _("Drawn by hand")
        TYPED = "typed", _("Typed name")

    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="signatures")
    slot = models.CharField(max_length=40)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=24)
    party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True, default="")
    reauthenticated_by = models.CharField(max_length=12)
    version_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=8, choices=Method.choices)
    image = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    certificate_pem = models.TextField()
    certificate_serial = models.CharField(max_length=64)
    revision_hash = models.CharField(max_length=64)
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
