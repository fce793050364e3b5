"""Court documents after the seal: the parties' joint application for judicial
confirmation (司法确认申请书), the judge's ruling on it (民事裁定书) and an obligee's
application for enforcement (强制执行申请书).

Each is a PDF the platform lays out once (its content, as codes and parameters, and
that content's hash fixed), with an empty signature field per signer; each signer
adds a PAdES signature in their place (the same per-signer signing as a settlement
agreement's), and once every place is signed the platform seals it with the court's
seal and a document timestamp. A document without signers (the enforcement package)
is sealed when it is made. Sealed, it is verifiable at /verify/ by its code or by
the file, like an agreement.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from documents.models import Blob, SignatureRecord
from mediation.models import MediationCase


class CourtDocument(models.Model):
    class Kind(models.TextChoices):
        CONFIRMATION_APPLICATION = "confirmation_application", _("Application for judicial confirmation")
        RULING = "ruling", _("Civil ruling")
        ENFORCEMENT_APPLICATION = "enforcement_application", _("Application for enforcement")
        # 委派调解函: the court's letter delegating a case to a mediation organisation.
        DELEGATION_LETTER = "delegation_letter", _("Letter of delegation")
        # 调解不成: the record and papers sent to the case-filing division.
        FILING_PACKAGE = "filing_package", _("Filing package after failed mediation")
        # 调解笔录: the record of a session, signed by those who attended (MediationRecord).
        MEDIATION_RECORD = "mediation_record", _("Mediation record")

    class Status(models.TextChoices):
        # Laid out and waiting for its signers (in `signature_slots`).
        AWAITING_SIGNATURES = "awaiting", _("Waiting for signatures")
        # Every signature, the court's seal and the timestamp are on: final.
        SEALED = "sealed", pgettext_lazy("court document", "Sealed")
        # Never to be signed (the application withdrawn, the ruling redrafted): final.
        VOID = "void", pgettext_lazy("court document", "Void")

    TRANSITIONS = {
        "sign": ((Status.AWAITING_SIGNATURES,), Status.AWAITING_SIGNATURES),
        "seal": ((Status.AWAITING_SIGNATURES,), Status.SEALED),
        "void": ((Status.AWAITING_SIGNATURES,), Status.VOID),
    }

    case = models.ForeignKey(MediationCase, on_delete=models.PROTECT, related_name="court_documents")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.AWAITING_SIGNATURES)
    verification_code = models.CharField(_("verification code"), max_length=16, unique=True)
    # What the document says, as codes and parameters (rendered in the document's
    # language), and its hash: what each signer's SMS code is bound to.
    content = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    # Who signs where: [{"slot", "role", "user", "party", "side", "name"}], in order.
    signature_slots = models.JSONField(default=list, blank=True)
    locked_blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    latest_blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    sealed_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("court document")
        verbose_name_plural = _("court documents")

    def __str__(self):
        return f"{self.kind} {self.verification_code}"

    def allows(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action][0]

    @property
    def is_sealed(self) -> bool:
        return self.status == self.Status.SEALED


class CourtSignature(SignatureRecord):
    document = models.ForeignKey(CourtDocument, on_delete=models.PROTECT, related_name="signatures")
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["document", "slot"], name="court_signature_once_per_slot")]

    def __str__(self):
        return f"{self.signer_id} signed court document {self.document_id} ({self.slot})"
