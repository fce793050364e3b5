"""The obligee's application for enforcement (强制执行申请书): when an obligation of an
agreement the court confirmed by a sealed ruling is overdue, the party it is owed to
gets one sealed PDF package ready for the enforcement division (执行局).

The package is the application (the applicant and the respondents with their
identities, the basis for enforcement: the ruling's case number and date and the
agreement's verification code; what is asked: the overdue obligations and what was
performed; the facts), the performance record (every obligation, its steps, the
evidence with its SHA-256) and the list of attachments; the attachments themselves
travel inside the PDF as embedded files: the sealed ruling, the sealed agreement, the
parties' copies of the proofs of service of the ruling and the evidence of
performance. The platform seals it (the court's seal, then a document timestamp over
everything, embedded files included), so any change to it or to what it carries is
detected at /verify/.

It is a fact of the obligee's side: the other side does not learn of it from the
platform (the document is the obligee's side's, the room event goes to that side's
caucus only, the case timeline is the court's).
"""

from __future__ import annotations

import io
from contextlib import nullcontext
from dataclasses import dataclass
from hashlib import sha256

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from documents.models import (
    Agreement,
    CourtDocument,
    Document,
    JudicialConfirmation,
    Obligation,
    ObligationStep,
    Service,
)
from documents.rendering import document_context, qr_data_uri, render_pdf, verification_url
from documents.services.agreement_content import content_hash, new_verification_code, party_id_numbers
from documents.services.storage import read_blob, store_blob
from documents.signing import SEAL_FIELD, document_timestamp, seal
from mediation import audit
from mediation.errors import ActionForbidden, DomainError, TransitionNotAllowed
from mediation.models import MediationCase, Party, User
from mediation.participation import acting_refusal, active_participation
from mediation.services import work_orders
from mediation.services.cases import lock_case, lock_work_order_of, record_case_event

TEMPLATE = "documents/pdf/enforcement_application.html"
ACTION = "enforcement_application"


# What the package rests on ----------------------------------------------------------------


def sealed_agreement_of(case: MediationCase) -> Agreement | None:
    return (
        Agreement.objects.filter(case=case, status=Agreement.Status.SEALED)
        .select_related("current_version", "sealed_blob")
        .order_by("-sealed_at", "-id")
        .first()
    )


def confirmation_of(agreement: Agreement | None) -> JudicialConfirmation | None:
    """The judicial confirmation that makes the agreement enforceable: confirmed, by a
    sealed ruling."""
    if agreement is None:
        return None
    return (
        JudicialConfirmation.objects.filter(
            agreement=agreement,
            status=JudicialConfirmation.Status.CONFIRMED,
            ruling__status=CourtDocument.Status.SEALED,
            ruling__sealed_blob__isnull=False,
        )
        .select_related("ruling", "ruling__sealed_blob")
        .first()
    )


def overdue_obligations(agreement: Agreement | None, obligee: Party):
    if agreement is None:
        return Obligation.objects.none()
    return Obligation.objects.filter(agreement=agreement, obligee=obligee, status=Obligation.Status.OVERDUE)


def enforcement_refusal(user: User, case: MediationCase, obligee: Party) -> DomainError | ActionForbidden | None:
    """Why `user` may not apply for enforcement for `obligee` now, or None: the one rule
    the page and the service both follow. Only the obligee's own people (an active
    participant who represents that party) apply (ActionForbidden otherwise, for
    the obligor's side, the mediator, anyone else); and only once the agreement is
    confirmed by a sealed ruling and an obligation owed to the obligee is overdue
    (TransitionNotAllowed otherwise)."""
    participant = active_participation(user, case) if user.is_authenticated else None
    if obligee.case_id != case.pk or participant is None or participant.party_id != obligee.pk:
        return ActionForbidden(_("Only the people of the party the obligation is owed to can apply for enforcement."))
    by_role = acting_refusal(participant)
    if by_role is not None:
        return by_role
    agreement = sealed_agreement_of(case)
    if confirmation_of(agreement) is None:
        return TransitionNotAllowed(
            _(
                "The settlement agreement has not been confirmed by the court's sealed ruling; "
                "enforcement can be applied for only then."
            ),
            code="not_confirmed",
        )
    if not overdue_obligations(agreement, obligee).exists():
        return TransitionNotAllowed(
            _("No obligation owed to %(party)s is overdue; enforcement can be applied for only then.")
            % {"party": obligee.name},
            code="nothing_overdue",
        )
    return None


def obligee_for(user: User, case: MediationCase) -> Party | None:
    """The party `user` represents in the case (the one they would apply for)."""
    participant = active_participation(user, case) if user.is_authenticated else None
    return participant.party if participant is not None else None


def reader_refusal(user: User, case: MediationCase) -> DomainError | ActionForbidden | None:
    """Why `user` may not apply for enforcement in this case now, for the party they
    represent (`enforcement_refusal`), or None: the enforcement page's rule, and the
    performance page's for showing the way to it."""
    obligee = obligee_for(user, case)
    if obligee is None:
        return ActionForbidden(_("Only the people of the party the obligation is owed to can apply for enforcement."))
    return enforcement_refusal(user, case, obligee)


# What the package holds --------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    kind: str  # ruling | agreement | service_proof | evidence
    title: str
    filename: str
    data: bytes
    sha256: str


def _ruling_services(case: MediationCase):
    return (
        Service.objects.filter(case=case, documents__kind=Document.Kind.RULING, served_at__isnull=False)
        .distinct()
        .select_related("recipient")
        .order_by("served_at", "id")
    )


def _visible_to_side(side: str) -> Q:
    # Evidence the obligee's side may see: case-wide, or its own side's. Evidence the
    # other side kept to itself stays out of the package (it is the obligee's).
    return Q(visibility=Document.Visibility.CASE) | Q(visibility=side)


def _evidence(obligations, side: str) -> list[Document]:
    return list(
        Document.objects.filter(
            _visible_to_side(side),
            pk__in=ObligationStep.evidence.through.objects.filter(obligationstep__obligation__in=obligations).values(
                "document_id"
            ),
        )
        .select_related("blob")
        .order_by("uploaded_at", "id")
    )


def attachments_of(
    case: MediationCase,
    agreement: Agreement,
    confirmation: JudicialConfirmation,
    obligee: Party,
    *,
    for_reader: bool = False,
):
    """What the package carries, in order, as (kind, title, filename, source: a blob,
    a Document or a Service): the one list the page's preview and the package use.
    Titled in the document's language, or in the reader's (`for_reader`, the page)."""
    obligations = Obligation.objects.filter(agreement=agreement)
    language = nullcontext() if for_reader else translation.override(settings.DOCUMENT_LANGUAGE)
    with language:
        items = [
            (
                "ruling",
                _("Civil ruling %(number)s") % {"number": confirmation.case_number},
                "ruling.pdf",
                confirmation.ruling.sealed_blob,
            ),
            (
                "agreement",
                _("Settlement agreement %(code)s") % {"code": agreement.verification_code},
                "agreement.pdf",
                agreement.sealed_blob,
            ),
        ]
        for index, service in enumerate(_ruling_services(case), start=1):
            items.append(
                (
                    "service_proof",
                    _("Proof of service of the ruling on %(recipient)s") % {"recipient": service.recipient},
                    f"service-proof-{index}.pdf",
                    service,
                )
            )
        for index, document in enumerate(_evidence(obligations, obligee.side), start=1):
            extension = document.original_name.rsplit(".", 1)[-1] if "." in document.original_name else "bin"
            items.append(("evidence", document.title, f"evidence-{index}.{extension}", document))
    return items


def _attachment_bytes(source) -> tuple[bytes, str]:
    from documents.services.serving import proof_of_service

    if isinstance(source, Service):
        return proof_of_service(source, for_court=False), "application/pdf"
    if isinstance(source, Document):
        return read_blob(source.blob), source.blob.content_type
    return read_blob(source), source.content_type


def _performance_record(agreement: Agreement) -> list[Obligation]:
    """Every obligation with its steps and evidence, for the performance record."""
    return list(
        Obligation.objects.filter(agreement=agreement)
        .select_related("obligor", "obligee")
        .prefetch_related("steps__actor", "steps__party", "steps__evidence__blob")
        .order_by("term_number", "id")
    )


def _content(*, case, agreement, confirmation, obligee, obligors, overdue, attachments, today) -> dict:
    """What the application says, as codes and parameters."""
    return {
        "case": case.pk,
        "case_number": case.number,
        "obligee": obligee.pk,
        "obligors": [party.pk for party in obligors],
        "ruling": {
            "case_number": confirmation.case_number,
            "decided_on": timezone.localdate(confirmation.decided_at).isoformat() if confirmation.decided_at else None,
            "verification_code": confirmation.ruling.verification_code,
            "sha256": confirmation.ruling.sealed_blob_id,
        },
        "agreement": {"verification_code": agreement.verification_code, "sha256": agreement.sealed_blob_id},
        "overdue": [
            {
                "obligation": obligation.pk,
                "kind": obligation.kind,
                "amount": str(obligation.amount) if obligation.amount is not None else None,
                "due_date": obligation.due_date.isoformat() if obligation.due_date else None,
            }
            for obligation in overdue
        ],
        "attachments": [{"kind": a.kind, "filename": a.filename, "sha256": a.sha256} for a in attachments],
        "court": settings.COURT_NAME,
        "date": today.isoformat(),
    }


def _embed(pdf: bytes, attachments: list[Attachment]) -> bytes:
    """The attachments as embedded files of the PDF (an incremental update, before
    the seal and the timestamp cover it)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for attachment in attachments:
        data = embed.EmbeddedFileObject.from_file_data(
            writer, attachment.data, mime_type=_content_type_of(attachment), params=embed.EmbeddedFileParams()
        )
        embed.embed_file(
            writer,
            embed.FileSpec(
                file_spec_string=attachment.filename,
                file_name=attachment.filename,
                embedded_data=data,
                description=attachment.title,
            ),
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _content_type_of(attachment: Attachment) -> str:
    return "application/pdf" if attachment.filename.endswith(".pdf") else "application/octet-stream"


def _seal_package(pdf: bytes, slots, reason: str) -> bytes:
    [seal_box] = [slot for slot in slots if slot.slot == SEAL_FIELD]
    return seal(pdf, reason=reason, visible_at=seal_box)


def _store_court_document(*, case, content, unsealed: bytes, sealed: bytes, code: str, actor) -> CourtDocument:
    # Not the layer's prepare_court_document(slots=[]): that renders and seals its own
    # PDF, with no way to embed the attachments before the seal (so the seal and the
    # timestamp would not cover them), and it posts court_document.prepared/sealed in
    # the joint room, which the obligor's side reads. This writes the row the layer
    # would for a document sealed at once; /verify/ finds it by its code and its file
    # (test_enforcement).
    now = timezone.now()
    return CourtDocument.objects.create(
        case=case,
        kind=CourtDocument.Kind.ENFORCEMENT_APPLICATION,
        status=CourtDocument.Status.SEALED,
        verification_code=code,
        content=content,
        content_hash=content_hash(content),
        signature_slots=[],
        locked_blob=store_blob(unsealed, "application/pdf"),
        latest_blob=(sealed_blob := store_blob(sealed, "application/pdf")),
        sealed_blob=sealed_blob,
        sealed_at=now,
        created_by=actor,
    )


@transaction.atomic
def apply_for_enforcement(*, case: MediationCase, actor: User, obligee: Party) -> CourtDocument:
    """Make the obligee's sealed application for enforcement and keep it as a court
    document and as a document of the obligee's side. Refused (ActionForbidden or
    TransitionNotAllowed, nothing changed) as `enforcement_refusal` says. Takes the
    case and its work order, then the audit chain, as every change to a case does."""
    refusal = enforcement_refusal(actor, case, obligee)
    if refusal is not None:
        raise refusal
    order = lock_work_order_of(case := lock_case(case))
    refusal = enforcement_refusal(actor, case, obligee)
    if refusal is not None:
        raise refusal
    agreement = sealed_agreement_of(case)
    confirmation = confirmation_of(agreement)
    overdue = list(overdue_obligations(agreement, obligee).select_related("obligor").order_by("due_date", "id"))
    obligors = list(Party.objects.filter(pk__in={o.obligor_id for o in overdue}).order_by("pk"))
    attachments = []
    for kind, title, filename, source in attachments_of(case, agreement, confirmation, obligee):
        data, _type = _attachment_bytes(source)
        attachments.append(
            Attachment(kind=kind, title=title, filename=filename, data=data, sha256=sha256(data).hexdigest())
        )
    today = timezone.localdate()
    code = new_verification_code()
    content = _content(
        case=case,
        agreement=agreement,
        confirmation=confirmation,
        obligee=obligee,
        obligors=obligors,
        overdue=overdue,
        attachments=attachments,
        today=today,
    )
    parties = {p["id"]: p for p in party_id_numbers(agreement.current_version.content.get("parties", []))}
    obligations = _performance_record(agreement)
    rendered = render_pdf(
        TEMPLATE,
        document_context(
            case=case,
            content=content,
            applicant=parties.get(obligee.pk, {"name": obligee.name}),
            respondents=[parties.get(party.pk, {"name": party.name}) for party in obligors],
            confirmation=confirmation,
            agreement=agreement,
            overdue=overdue,
            performed=[o for o in obligations if o.status == Obligation.Status.PERFORMED],
            obligations=obligations,
            attachments=attachments,
            today=today,
            seal_date=today,
            verification_code=code,
            verification_url=verification_url(code),
            qr=qr_data_uri(verification_url(code)),
        ),
    )
    with translation.override(settings.DOCUMENT_LANGUAGE):
        reason = _("Application for enforcement sealed by the platform")
        title = _("Application for enforcement %(case)s") % {"case": case.number}
    # The embedded files first, so that the seal and the timestamp cover them.
    unsealed = _embed(rendered.pdf, attachments)
    sealed = document_timestamp(_seal_package(unsealed, rendered.slots, reason))
    court_document = _store_court_document(
        case=case, content=content, unsealed=unsealed, sealed=sealed, code=code, actor=actor
    )
    document = Document.objects.create(
        case=case,
        kind=Document.Kind.ENFORCEMENT_APPLICATION,
        title=title[:200],
        original_name=f"enforcement-application-{code}.pdf",
        blob=court_document.sealed_blob,
        visibility=obligee.side,
        party=obligee,
        uploaded_by=actor,
    )
    data = {
        "court_document": court_document.pk,
        "document": document.pk,
        "verification_code": code,
        "sha256": court_document.sealed_blob_id,
        "obligee": obligee.pk,
        "obligations": [o.pk for o in overdue],
    }
    record_case_event(case, actor=actor, action=ACTION, data=data)
    audit.record(actor=actor, action="court_document.sealed", target=court_document, data=data)
    from rooms.services import post_case_event

    post_case_event(
        case=case,
        kind="enforcement.applied",
        actor=actor,
        data={"document": document.pk, "verification_code": code, "sha256": court_document.sealed_blob_id},
        side=obligee.side,
        side_only=True,
    )
    if order is not None:
        work_orders.record_event(
            order,
            actor=actor,
            action=ACTION,
            from_status=order.status,
            data={"case": case.pk, "case_number": case.number, **data},
        )
    return court_document


def enforcement_document(court_document: CourtDocument) -> Document | None:
    """The case document the application is kept as (the obligee's side's copy)."""
    return Document.objects.filter(
        case_id=court_document.case_id,
        kind=Document.Kind.ENFORCEMENT_APPLICATION,
        blob_id=court_document.sealed_blob_id,
    ).first()
