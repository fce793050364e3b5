"""Real-name verification (实名): who may record it, and the adapter that does it.

A person's identity level rises in order: account only → mobile verified (an SMS
code, `User.phone_verified_at`) → real name verified (their name and resident ID
number checked, `mediation.services.identity.verify_real_name`). The check itself
goes through an adapter chosen by `settings.IDENTITY_VERIFIER` (a dotted path), the
way allauth's ACCOUNT_ADAPTER is chosen: the default, `InPersonVerifier`, records
that court staff saw the ID card, with a scan or photo of it as evidence; a
deployment with an identity provider (a public-security identity check, a bank card
check) writes a subclass of `IdentityVerifier` that calls it:

    class ProviderVerifier(IdentityVerifier):
        name = "provider"            # stored on the user and the check row
        requires_evidence = False    # the staff form then asks for no scan

        def verify(self, *, person, full_name, id_number, actor, evidence=None):
            answer = provider_client.check(name=full_name, id_number=id_number)
            if not answer.matches:
                raise IdentityNotVerified(_("The name and ID number do not match."))
            return VerificationResult(verifier=self.name, reference=answer.request_id)

The service validates the ID number (GB 11643-1999) and the order of the levels
before it asks the adapter, and stores what the adapter returns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import file_types
from mediation.errors import DomainError
from mediation.models import IdentityLevel, MediationCase, Participant, User
from mediation.roles import Role, has_role

IN_PERSON = "in_person"


class IdentityNotVerified(DomainError):
    """The verifier did not confirm the identity; its message says why."""

    def __init__(self, message, *, code: str = "identity_not_verified"):
        super().__init__(message, code=code)


@dataclass(frozen=True)
class Evidence:
    """A stored scan or photo of an ID document: content-addressed, written once."""

    sha256: str
    content_type: str
    size: int
    storage_name: str


@dataclass(frozen=True)
class VerificationResult:
    """What a verifier confirms: its name (stored as `User.real_name_verifier`), its
    reference for the check (a provider's request id), and the evidence it kept."""

    verifier: str
    reference: str = ""
    evidence: Evidence | None = None


class IdentityVerifier:
    """The interface a deployment implements for its identity provider."""

    # A short code kept on the user and the check (at most 40 characters).
    name = ""
    label = gettext_lazy("Identity provider")
    # Whether the staff form asks for a scan or photo of the ID document.
    requires_evidence = False

    def verify(
        self, *, person: User, full_name: str, id_number: str, actor: User, evidence: tuple[bytes, str] | None = None
    ) -> VerificationResult:
        """Confirm that `person` is `full_name`, holder of `id_number` (already valid
        by GB 11643-1999 and normalised), or raise IdentityNotVerified (or a
        ValidationError naming the field at fault). `actor` is who asked; `evidence`
        is (bytes, file name) when the form took a file. Called inside the service's
        transaction: a provider's call should be bounded by a timeout."""
        raise NotImplementedError


def evidence_storage_name(sha256: str) -> str:
    return f"identity/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def store_evidence(data: bytes, filename: str) -> Evidence:
    """Check that the file is a real PDF, PNG or JPEG of at most
    IDENTITY_EVIDENCE_MAX_BYTES (the one rule for uploads, `mediation.file_types`),
    then store it once under its SHA-256 in the documents storage (no public URL).
    An existing file is never overwritten."""
    content_type = file_types.detect_type(
        data, filename, allowed=file_types.IMAGES_AND_PDF, max_bytes=settings.IDENTITY_EVIDENCE_MAX_BYTES
    )
    sha256 = hashlib.sha256(data).hexdigest()
    name = evidence_storage_name(sha256)
    storage = storages["documents"]
    if not storage.exists(name):
        saved = storage.save(name, ContentFile(data))
        if saved != name:
            storage.delete(saved)
            raise RuntimeError(f"Storage refused the content address {name}")
    return Evidence(sha256=sha256, content_type=content_type, size=len(data), storage_name=name)


def read_evidence(check) -> bytes:
    with storages["documents"].open(check.evidence_storage_name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != check.evidence_sha256:
        raise RuntimeError(f"Stored file {check.evidence_storage_name} does not match its SHA-256")
    return data


class InPersonVerifier(IdentityVerifier):
    """Court staff saw the person and their ID card: the check names the staff member
    (the actor), the time, and keeps a scan or photo of the card."""

    name = IN_PERSON
    label = gettext_lazy("In person, by court staff")
    requires_evidence = True

    def verify(self, *, person, full_name, id_number, actor, evidence=None):
        if not evidence or not evidence[0]:
            raise ValidationError({"file": _("Upload a scan or photo of the ID document you checked.")})
        data, filename = evidence
        return VerificationResult(verifier=self.name, evidence=store_evidence(data, filename))


@cache
def _verifier_class(path: str) -> type[IdentityVerifier]:
    try:
        verifier_class = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(f"IDENTITY_VERIFIER {path!r} cannot be imported: {error}") from error
    if not (isinstance(verifier_class, type) and issubclass(verifier_class, IdentityVerifier)):
        raise ImproperlyConfigured(f"IDENTITY_VERIFIER {path!r} is not an IdentityVerifier")
    return verifier_class


def get_verifier() -> IdentityVerifier:
    """The configured adapter (settings.IDENTITY_VERIFIER)."""
    return _verifier_class(settings.IDENTITY_VERIFIER)()


def verifier_label(name: str) -> str:
    """How a verifier's stored name reads: the in-person check in words, a provider by
    its adapter's label when it is the configured one, else its name."""
    if name == IN_PERSON:
        return str(InPersonVerifier.label)
    verifier = get_verifier()
    if verifier.name == name:
        return str(verifier.label)
    return name


def may_record_identity_check(actor: User, person: User, case: MediationCase | None = None) -> bool:
    """Who may record an in-person ID check of `person`: the mediator or the judge of
    a case `person` actively takes part in (of `case` when given), or the general
    liaison; never the person themselves, nor anyone else (a party cannot verify
    themselves or others). The one rule the service, the case page and its view ask."""
    if not actor.is_authenticated or not actor.is_active or person.pk is None or actor.pk == person.pk:
        return False
    if has_role(actor, Role.GENERAL_LIAISON):
        return True
    if not (has_role(actor, Role.MEDIATOR) or has_role(actor, Role.JUDGE)):
        return False
    participations = Participant.active.filter(user=person)
    if case is not None:
        participations = participations.filter(case_id=case.pk)
    return participations.filter(case__mediator=actor).exists() or participations.filter(case__judge=actor).exists()


@dataclass(frozen=True)
class IdentityAtMoment:
    """A person's identity level at a moment (a signature keeps it), and the verifier
    of their real name when that is the level."""

    level: str
    verifier: str = ""
    # The keyed hash of the verified ID number (never the number): a real name only.
    id_number_hash: str = ""


def identity_now(person: User) -> IdentityAtMoment:
    """The person's identity level as stored now (read again from the database: the
    object in hand may be older than a check recorded since)."""
    fresh = User.objects.only(
        "phone", "phone_verified_at", "real_name_verified_at", "real_name_verifier", "id_number_hash"
    ).get(pk=person.pk)
    level = fresh.identity_level
    if level != IdentityLevel.REAL_NAME:
        return IdentityAtMoment(level=level)
    return IdentityAtMoment(level=level, verifier=fresh.real_name_verifier, id_number_hash=fresh.id_number_hash)
