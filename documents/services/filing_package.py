"""The filing package of a failed mediation (调解不成): what the court's case-filing
division (立案庭) needs to file the dispute as an ordinary case, made by the platform
the moment the mediator records that mediation failed (the receiver of
`case_status_changed` in documents.receivers, inside that transaction).

It holds, as codes and parameters in the court document's `content` (one record, from
which the PDF and the JSON download are both made, so they cannot say different
things):

- the record that mediation failed: the case, its parties with their identities, the
  mediator and their organisation, the judge, the dates and the mediator's reason;
- the facts both sides accepted (无争议事实记载), or that the mediator recorded none;
- the claims: the cause of action, the amount, the case's facts and the claim of the
  online application the case came from;
- the evidence list: each case-wide evidence document's title, who submitted it, its
  SHA-256 and date;
- the complaint(s), embedded in the PDF byte for byte, with how each was served;
- the sealed mediation records (调解笔录) of the joint sessions, embedded likewise;
- the service records: each service, its steps and its sealed proof (the court's copy,
  embedded);
- the addresses for service each party confirmed (送达地址确认书): the electronic ones
  its people consented to (ServiceConsent), and the postal address on record, which
  no party confirms on the platform; a party without a confirmation is said to have
  none.

What one side gave the mediator alone (side-only evidence, documents and their
services) stays out: it was shared in confidence for the mediation, and the package
goes on to the court's file, which the other side reads. The PDF is sealed with the
court's seal and a document timestamp over everything, embedded files included, and
is verifiable at /verify/ by its code or its file. It is the court's: the parties'
people never receive it (policy rule "read_filing_package", documents.access).
"""

from __future__ import annotations

from hashlib import sha256

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from documents.models import CourtDocument, Document, Service, ServiceConsent
from documents.rendering import document_context, qr_data_uri, render_pdf, verification_url
from documents.services.agreement_content import content_hash, new_verification_code, party_id_numbers
from documents.services.enforcement import Attachment, _embed, _seal_package
from documents.services.storage import read_blob, store_blob
from documents.signing import document_timestamp
from mediation import audit, id_numbers, roster
from mediation.models import CaseEvent, MediationCase, Participant, User
from mediation.models.applications import Application
from mediation.services.cases import record_case_event

TEMPLATE = "documents/pdf/filing_package.html"
ACTION = "filing_package"
SCHEMA = "filing_package/1"


def _when(moment) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _day(day) -> str | None:
    return day.isoformat() if day else None


def _amount(value) -> str | None:
    return str(value) if value is not None else None


def _person(user: User | None) -> dict | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def _extension(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return extension if extension.isascii() and extension.isalnum() and len(extension) <= 8 else "bin"


# What the package holds ----------------------------------------------------------------------


def _parties(case: MediationCase) -> list[dict]:
    # Like an agreement version's snapshot: the ID number's keyed hash and its masked
    # form, never the number itself in a plain JSON record; the PDF and the JSON print it
    # from the party's encrypted field while it is still the same number (`parties_of`).
    return [
        {
            "id": party.pk,
            "side": party.side,
            "kind": party.kind,
            "name": party.name,
            "id_number_hash": party.id_number_hash,
            "id_number_masked": id_numbers.mask(party.id_number) if party.id_number else "",
            "credit_code": party.credit_code,
            "legal_representative": party.legal_representative,
            "phone": str(party.phone or ""),
            "address": party.address,
        }
        for party in case.parties.all()
    ]


def _standing_of(case: MediationCase, user: User | None, participants: dict[int, Participant]) -> dict:
    """Who submitted a document: the mediator, or a party's person (with the party)."""
    if user is None:
        return {"name": "", "standing": "", "party": ""}
    if user.pk == case.mediator_id:
        return {"name": str(user), "standing": "mediator", "party": ""}
    participant = participants.get(user.pk)
    if participant is not None:
        return {"name": str(user), "standing": participant.party.side, "party": participant.party.name}
    return {"name": str(user), "standing": "", "party": ""}


def _case_wide(kind: str, case: MediationCase):
    return (
        Document.objects.filter(case=case, kind=kind, visibility=Document.Visibility.CASE)
        .select_related("blob", "uploaded_by")
        .order_by("uploaded_at", "id")
    )


def _sealed_records(case: MediationCase) -> list[CourtDocument]:
    """The case's sealed mediation records of joint sessions, in the order held. A
    caucus's record stays out, as side-only evidence does: it was given in confidence
    to the mediator, and the court's file is read by the other side."""
    documents = CourtDocument.objects.filter(
        case=case, kind=CourtDocument.Kind.MEDIATION_RECORD, status=CourtDocument.Status.SEALED
    ).select_related("sealed_blob")
    return sorted(
        (document for document in documents if not (document.content or {}).get("side_only")),
        key=lambda document: (document.content.get("started_at") or "", document.pk),
    )


def _services(case: MediationCase) -> list[Service]:
    side_only = Document.objects.filter(case=case).exclude(visibility=Document.Visibility.CASE)
    return list(
        Service.objects.filter(case=case)
        .exclude(documents__in=side_only)
        .distinct()
        .select_related("recipient")
        .prefetch_related("documents__blob", "steps__actor")
        .order_by("created_at", "id")
    )


def _service_addresses(case: MediationCase, participants: list[Participant]) -> list[dict]:
    consents = {consent.user_id: consent for consent in ServiceConsent.objects.filter(case=case)}
    rows = []
    for party in case.parties.all():
        electronic = []
        for participant in participants:
            consent = consents.get(participant.user_id)
            if participant.party_id != party.pk or consent is None:
                continue
            user = participant.user
            electronic.append(
                {
                    "person": str(user),
                    "role": participant.role,
                    "platform_account": consent.platform_account,
                    # The platform reaches an account by its verified mobile number.
                    "mobile": str(user.phone) if consent.platform_account and user.phone_verified_at else "",
                    "email": consent.email,
                    "confirmed_at": _when(consent.consented_at),
                    "still_takes_part": participant.removed_at is None,
                }
            )
        rows.append(
            {
                "party": party.pk,
                "name": party.name,
                "confirmed": bool(electronic),
                "electronic": electronic,
                # Entered on the case record (by the mediator, or from the application):
                # no party confirms a postal address on the platform.
                "postal": {"address": party.address, "confirmed": False},
            }
        )
    return rows


def gather(case: MediationCase) -> tuple[dict, list[Attachment]]:
    """The package's content (codes and parameters) and its attachments (bytes), for
    a failed case: read, not changed, except that each service's proof is made once
    per state and kept (`proof_of_service`)."""
    from documents.services.serving import proof_of_service

    participants = list(
        Participant.objects.filter(case=case).select_related("party", "user").order_by("removed_at", "id")
    )
    by_user = {}
    for participant in participants:
        by_user.setdefault(participant.user_id, participant)
    failed = CaseEvent.objects.filter(case=case, action="fail").select_related("actor").order_by("-id").first()
    application = Application.objects.filter(work_order_id=case.work_order_id).first() if case.work_order_id else None
    attachments: list[Attachment] = []

    def attach(kind: str, title: str, filename: str, data: bytes) -> str:
        attachments.append(
            Attachment(kind=kind, title=title, filename=filename, data=data, sha256=sha256(data).hexdigest())
        )
        return filename

    services = _services(case)
    served_by = {}
    for service in services:
        for document in service.documents.all():
            served_by.setdefault(document.pk, []).append(service)
    complaints = []
    for index, document in enumerate(_case_wide(Document.Kind.COMPLAINT, case), start=1):
        complaints.append(
            {
                "document": document.pk,
                "title": document.title,
                "original_name": document.original_name,
                "sha256": document.blob_id,
                "uploaded_at": _when(document.uploaded_at),
                "submitted_by": _standing_of(case, document.uploaded_by, by_user),
                "served": [
                    {"service": s.pk, "recipient": str(s.recipient), "served_at": _when(s.served_at)}
                    for s in served_by.get(document.pk, [])
                    if s.served_at is not None
                ],
                "attachment": attach(
                    "complaint",
                    document.title,
                    f"complaint-{index}.{_extension(document.original_name)}",
                    read_blob(document.blob),
                ),
            }
        )
    records = []
    for index, document in enumerate(_sealed_records(case), start=1):
        records.append(
            {
                "court_document": document.pk,
                "verification_code": document.verification_code,
                "started_at": document.content.get("started_at"),
                "ended_at": document.content.get("ended_at"),
                "mode": document.content.get("mode"),
                "sealed_at": _when(document.sealed_at),
                "sha256": document.sealed_blob_id,
                "attachment": attach(
                    "mediation_record",
                    _("Mediation record"),
                    f"mediation-record-{index}.pdf",
                    read_blob(document.sealed_blob),
                ),
            }
        )
    evidence = [
        {
            "document": document.pk,
            "title": document.title,
            "original_name": document.original_name,
            "sha256": document.blob_id,
            "uploaded_at": _when(document.uploaded_at),
            "submitted_by": _standing_of(case, document.uploaded_by, by_user),
        }
        for document in _case_wide(Document.Kind.EVIDENCE, case)
    ]
    service_rows = []
    with translation.override(settings.DOCUMENT_LANGUAGE):
        for index, service in enumerate(services, start=1):
            recipient = by_user.get(service.recipient_id)
            service_rows.append(
                {
                    "service": service.pk,
                    "recipient": str(service.recipient),
                    "recipient_party": recipient.party.name if recipient else "",
                    "method": service.method,
                    "status": service.status,
                    "served_at": _when(service.served_at),
                    "refusal_reason": service.refusal_reason,
                    "documents": [
                        {"document": d.pk, "title": d.title, "sha256": d.blob_id} for d in service.documents.all()
                    ],
                    "steps": [
                        {
                            "step": step.step,
                            "without_opening": step.without_opening,
                            "at": _when(step.at),
                            "actor": str(step.actor) if step.actor else "",
                            "method": step.method,
                            "note": step.note,
                        }
                        for step in service.steps.all()
                    ],
                    "proof": attach(
                        "service_proof",
                        _("Proof of service on %(recipient)s") % {"recipient": service.recipient},
                        f"service-proof-{index}.pdf",
                        proof_of_service(service, for_court=True),
                    ),
                }
            )
    profile = roster.profile_of(case.mediator) if case.mediator_id else None
    content = {
        "schema": SCHEMA,
        "court": settings.COURT_NAME,
        "case": case.pk,
        "case_number": case.number,
        "work_order": case.work_order.number if case.work_order_id else None,
        "cause_of_action": case.cause_of_action,
        "mediator": {**(_person(case.mediator) or {}), "title": profile.title if profile else ""},
        "organisation": {"id": case.organisation_id, "name": case.organisation.name} if case.organisation_id else None,
        "judge": _person(case.judge),
        "dates": {
            "started_on": _day(case.started_on),
            "accepted_at": _when(case.accepted_at),
            "deadline": _day(case.deadline),
            "concluded_at": _when(case.concluded_at),
        },
        "failure": {
            "reason": case.outcome_note,
            "recorded_by": _person(failed.actor) if failed else None,
            "recorded_at": _when(case.concluded_at),
        },
        "undisputed_facts": {"text": case.undisputed_facts, "none_accepted": not case.undisputed_facts},
        "parties": _parties(case),
        "claims": {
            "claim_amount": _amount(case.claim_amount),
            "facts": case.facts,
            "application": {
                "claim": application.claim,
                "amount": _amount(application.amount),
                "applied_at": _when(application.created_at),
            }
            if application is not None
            else None,
        },
        "evidence": evidence,
        "complaints": complaints,
        "mediation_records": records,
        "services": service_rows,
        "service_addresses": _service_addresses(case, participants),
        "attachments": [
            {"kind": a.kind, "title": a.title, "filename": a.filename, "sha256": a.sha256} for a in attachments
        ],
        "date": timezone.localdate().isoformat(),
    }
    return content, attachments


# What a reader gets -----------------------------------------------------------------------


def parties_of(content: dict) -> list[dict]:
    """The content's parties with the ID number to print (`id_number`): the whole number
    while the party's record still holds the one the package fixed, else masked."""
    return [
        {key: value for key, value in party.items() if key != "id_number_hash"}
        for party in party_id_numbers(content.get("parties", []))
    ]


def as_json(document: CourtDocument) -> dict:
    """The JSON download: the package's content as it is sealed, with the parties' ID
    numbers as the PDF prints them, and what identifies the sealed PDF."""
    content = {**document.content, "parties": parties_of(document.content)}
    return {
        "kind": document.kind,
        "verification_code": document.verification_code,
        "verification_url": verification_url(document.verification_code),
        "sealed_at": _when(document.sealed_at),
        "pdf_sha256": document.sealed_blob_id,
        "content_sha256": document.content_hash,
        "content": content,
    }


def filing_package_of(case: MediationCase) -> CourtDocument | None:
    return (
        CourtDocument.objects.filter(
            case=case, kind=CourtDocument.Kind.FILING_PACKAGE, status=CourtDocument.Status.SEALED
        )
        .select_related("sealed_blob")
        .order_by("-created_at", "-id")
        .first()
    )


# Making it ------------------------------------------------------------------------------


def make_filing_package(*, case: MediationCase) -> CourtDocument:
    """Seal the filing package of `case`, which has just failed (the caller,
    `fail_case`, holds the case's row lock and its transaction). The platform makes it:
    the mediator who recorded the failure is its `created_by`. A case has one."""
    existing = filing_package_of(case)
    if existing is not None:
        return existing
    content, attachments = gather(case)
    code = new_verification_code()
    today = timezone.localdate()
    rendered = render_pdf(
        TEMPLATE,
        document_context(
            case=case,
            content=content,
            parties=parties_of(content),
            seal_date=today,
            verification_code=code,
            verification_url=verification_url(code),
            qr=qr_data_uri(verification_url(code)),
        ),
    )
    with translation.override(settings.DOCUMENT_LANGUAGE):
        reason = _("Filing package sealed by the platform")
    # The embedded files first, so that the seal and the timestamp cover them.
    unsealed = _embed(rendered.pdf, attachments)
    sealed = document_timestamp(_seal_package(unsealed, rendered.slots, reason))
    recorded_by = User.objects.filter(pk=(content["failure"]["recorded_by"] or {}).get("id")).first()
    sealed_blob = store_blob(sealed, "application/pdf")
    document = CourtDocument.objects.create(
        case=case,
        kind=CourtDocument.Kind.FILING_PACKAGE,
        status=CourtDocument.Status.SEALED,
        verification_code=code,
        content=content,
        content_hash=content_hash(content),
        signature_slots=[],
        locked_blob=store_blob(unsealed, "application/pdf"),
        latest_blob=sealed_blob,
        sealed_blob=sealed_blob,
        sealed_at=timezone.now(),
        created_by=recorded_by,
    )
    data = {"court_document": document.pk, "verification_code": code, "sha256": sealed_blob.pk}
    # The platform's act (no actor), on the case's timeline; the order's entry names it
    # too (mediation.services.cases._record_outcome_on_order).
    record_case_event(case, actor=None, action=ACTION, data=data)
    audit.record(actor=None, action="court_document.sealed", target=document, data={"case": case.pk, **data})
    return document


def on_case_failed(case: MediationCase) -> dict:
    """What the receiver answers `case_status_changed` with for a failed case: the
    package it sealed, for the work order's timeline."""
    document = make_filing_package(case=case)
    return {
        "filing_package": {
            "court_document": document.pk,
            "verification_code": document.verification_code,
            "sha256": document.sealed_blob_id,
        }
    }
