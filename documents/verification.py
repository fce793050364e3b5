"""Checking a PDF someone brings: is it byte for byte the sealed original, and,
independently, does every signature in it validate against the platform's authority,
whom does each cover, and was anything changed after it (pyHanko validation)?

A signer's certificate lives for an hour; it is judged at the time its signature's
timestamp proves, not today.

Anyone may bring a file, so the cost of one check is bounded: at most
VERIFY_MAX_SIGNATURE_FIELDS signature fields are looked at and each signature object
is validated once however many fields point at it; a file with more fields, more
revisions than a sealed document has, or whose checks pass VERIFY_TIME_BUDGET_SECONDS
of CPU is answered "too complex to verify here", never "valid". The budget is checked
between signatures: one validation is bounded by the file's size (VERIFY_MAX_BYTES)
and its revisions, so no check runs much past it. (A subprocess under a CPU rlimit
would bound a single step too, at the price of a process per check and a worker
that must run without Django; the caps make each step small enough that we do not.)
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Q
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import ModificationLevel
from pyhanko_certvalidator import ValidationContext

from documents.models import Agreement, CourtDocument, Service
from documents.pki import load_platform_pki
from documents.signing import SEAL_FIELD

logger = logging.getLogger(__name__)

# Later revisions that only add signatures, fill signature fields or timestamps are
# what the certification allows; anything more is a change after the signature.
ALLOWED_LATER_CHANGES = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)


@dataclass
class SignatureCheck:
    signer: str
    field: str
    kind: str
    intact: bool
    valid: bool
    trusted: bool
    modified_after: bool
    signed_at: str | None


@dataclass
class VerificationReport:
    sha256: str
    matches_sealed_original: bool
    verification_code: str | None
    document: str | None
    signatures: list[SignatureCheck]
    readable: bool = True
    # Set when the file passed a bound (fields, revisions, time): nothing is claimed.
    too_complex: bool = False
    # Fields whose value is a signature object another field already has: a file the
    # platform sealed never has one.
    shared_signature_fields: int = 0

    @property
    def all_valid(self) -> bool:
        return (
            not self.too_complex
            and not self.shared_signature_fields
            and bool(self.signatures)
            and all(s.intact and s.valid and s.trusted and not s.modified_after for s in self.signatures)
        )

    def as_json(self) -> dict:
        return {
            "matches_sealed_original": self.matches_sealed_original,
            "verification_code": self.verification_code,
            "signatures": [
                {
                    key: value
                    for key, value in asdict(s).items()
                    if key in ("signer", "kind", "intact", "valid", "trusted", "modified_after")
                }
                for s in self.signatures
            ],
            "all_valid": self.all_valid,
            "too_complex": self.too_complex,
        }


class TooComplex(Exception):
    """The file passed one of the bounds on what a check may cost."""


class _Budget:
    """CPU time of this thread (the one verifying), so that a busy machine does not
    turn an honest file into a "too complex" one."""

    def __init__(self, seconds: float):
        self.deadline = time.thread_time() + seconds

    def check(self) -> None:
        if time.thread_time() > self.deadline:
            raise TooComplex("time budget spent")


def _context(moment=None, roots=None) -> ValidationContext:
    pki = load_platform_pki()
    roots = roots if roots is not None else [pki.authority.asn1_certificate]
    return ValidationContext(trust_roots=roots, allow_fetching=False, moment=moment, best_signature_time=moment)


def _signer_name(status) -> str:
    certificate = status.signing_cert
    if certificate is None:
        return ""
    return certificate.subject.native.get("common_name", "")


def _is_platform_seal(certificate) -> bool:
    """Whether a signature was made with the platform's own seal key."""
    if certificate is None:
        return False
    return certificate.dump() == load_platform_pki().seal.asn1_certificate.dump()


def _kind(field_name: str, certificate) -> str:
    """The platform's seal; the platform's record, in a signer's field, of a signature
    made on paper in person (documents.paper_box); or a signer's own signature."""
    if field_name == SEAL_FIELD:
        return "seal"
    if _is_platform_seal(certificate):
        return "paper_signature"
    return "signature"


def _check_signature(embedded, roots) -> SignatureCheck:
    if embedded.sig_object_type == "/DocTimeStamp":
        status = validate_pdf_timestamp(embedded, validation_context=_context(roots=roots))
        return SignatureCheck(
            signer=_signer_name(status) or "timestamp",
            field=embedded.field_name,
            kind="document_timestamp",
            intact=status.intact,
            valid=status.valid,
            trusted=status.trusted,
            modified_after=status.modification_level not in ALLOWED_LATER_CHANGES
            if status.modification_level is not None
            else False,
            signed_at=status.timestamp.isoformat() if status.timestamp else None,
        )
    status = validate_pdf_signature(embedded, _context(roots=roots), ts_validation_context=_context(roots=roots))
    timestamp = status.timestamp_validity
    trusted = status.trusted
    signed_at = None
    if timestamp is not None and timestamp.intact and timestamp.valid and timestamp.trusted:
        signed_at = timestamp.timestamp
        if not trusted:
            # Judge the short-lived certificate when the signature was made.
            at_signing = validate_pdf_signature(embedded, _context(moment=signed_at, roots=roots))
            trusted = at_signing.trusted
    modified_after = (status.modification_level not in ALLOWED_LATER_CHANGES) or status.docmdp_ok is False
    return SignatureCheck(
        signer=_signer_name(status),
        field=embedded.field_name,
        # The platform's seal, and its record of a paper signature, are named by what
        # they are, in the reader's language, not by its certificate's common name.
        kind=_kind(embedded.field_name, status.signing_cert),
        intact=status.intact,
        # A signature over bytes that changed is not valid, whatever its CMS says.
        valid=status.valid and status.intact,
        trusted=trusted,
        modified_after=modified_after,
        signed_at=signed_at.isoformat() if signed_at else None,
    )


def _sealed_record(sha256: str) -> tuple[str | None, str | None]:
    agreement = Agreement.objects.filter(sealed_blob_id=sha256).first()
    if agreement is not None:
        return agreement.verification_code, "agreement"
    agreement = Agreement.objects.filter(certificate_blob_id=sha256).first()
    if agreement is not None:
        return agreement.verification_code, "signing_certificate"
    court_document = CourtDocument.objects.filter(sealed_blob_id=sha256, status=CourtDocument.Status.SEALED).first()
    if court_document is not None:
        return court_document.verification_code, court_document.kind
    if Service.objects.filter(Q(proof_blob_id=sha256) | Q(party_proof_blob_id=sha256)).exists():
        return None, "proof_of_service"
    return None, None


def _unique_signatures(reader: PdfFileReader, report: VerificationReport, budget: _Budget):
    """The file's signatures, one per signature object, in signing order; a file with
    more signature fields than VERIFY_MAX_SIGNATURE_FIELDS is too complex."""
    seen: set = set()
    embedded = []
    for count, (fq_name, _sig_object, sig_field) in enumerate(enumerate_sig_fields(reader, filled_status=True), 1):
        if count > settings.VERIFY_MAX_SIGNATURE_FIELDS:
            raise TooComplex(f"more than {settings.VERIFY_MAX_SIGNATURE_FIELDS} signature fields")
        budget.check()
        field = sig_field.get_object() if isinstance(sig_field, generic.IndirectObject) else sig_field
        reference = field.raw_get("/V")
        key = (
            (reference.idnum, reference.generation)
            if isinstance(reference, generic.IndirectObject)
            else ("direct", id(field))
        )
        if key in seen:
            report.shared_signature_fields += 1
            continue
        seen.add(key)
        # A signature whose dictionary cannot be read makes the file unreadable, as
        # pyHanko's own collection does.
        embedded.append(EmbeddedPdfSignature(reader, field, fq_name))
    return sorted(embedded, key=lambda signature: signature.signed_revision)


def _broken(field_name: str | None) -> SignatureCheck:
    # A signature that cannot even be evaluated is reported as broken.
    return SignatureCheck(
        signer="",
        field=field_name or "",
        kind="signature",
        intact=False,
        valid=False,
        trusted=False,
        modified_after=True,
        signed_at=None,
    )


def verify_pdf(data: bytes, *, trust_roots=None) -> VerificationReport:
    sha256 = hashlib.sha256(data).hexdigest()
    code, document = _sealed_record(sha256)
    report = VerificationReport(
        sha256=sha256,
        matches_sealed_original=document is not None,
        verification_code=code,
        document=document,
        signatures=[],
    )
    budget = _Budget(settings.VERIFY_TIME_BUDGET_SECONDS)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.xrefs.total_revisions > settings.VERIFY_MAX_REVISIONS:
            raise TooComplex(f"{reader.xrefs.total_revisions} revisions")
        embedded_signatures = _unique_signatures(reader, report, budget)
    except TooComplex as error:
        logger.info("PDF brought for verification is too complex: %s", error)
        report.too_complex = True
        report.signatures = []
        return report
    except Exception as error:
        logger.info("Unreadable PDF brought for verification: %s", error)
        report.readable = False
        report.signatures = []
        return report
    for embedded in embedded_signatures:
        try:
            budget.check()
        except TooComplex as error:
            logger.info("PDF brought for verification is too complex: %s", error)
            report.too_complex = True
            report.signatures = []
            return report
        try:
            report.signatures.append(_check_signature(embedded, trust_roots))
        except Exception as error:
            logger.info("Signature %s could not be validated: %s", embedded.field_name, error)
            report.signatures.append(_broken(embedded.field_name))
    return report
