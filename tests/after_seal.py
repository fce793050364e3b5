"""What follows a sealed agreement, for tests: a case sealed through the services, then
its judicial confirmation (a sealed ruling, served) and its obligations.

The confirmation, the ruling and the obligations are written as rows here: the flows
that make them (courtdocs, ruling, perform) are built beside this branch; once they
are merged these builders should call them instead."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.test import TestCase
from django.utils import timezone
from PIL import Image, ImageDraw
from weasyprint import HTML

from documents.models import (
    Agreement,
    CourtDocument,
    Document,
    JudicialConfirmation,
    Obligation,
    ObligationStep,
    Service,
    ServiceStep,
)
from documents.reauthentication import Reauthentication
from documents.services import agreements
from documents.services.agreement_content import new_verification_code
from documents.services.storage import store_blob
from documents.services.uploads import upload_document
from documents.signing import document_timestamp, seal
from tests.cases import CaseWorld, make_case
from tests.factories import PASSWORD


def drawn_signature(seed: int = 0) -> bytes:
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(40, 180 - seed), (200, 60), (320, 170), (560, 50)], fill=(0, 0, 0, 255), width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def instalments(world: CaseWorld, dates: list[str], amount: str = "100000") -> list[dict]:
    return [
        {
            "kind": "payment",
            "obligor": world.defendant_participant.party_id,
            "obligee": world.plaintiff_participant.party_id,
            "amount": amount,
            "method": "银行转账",
            "due_date": due,
        }
        for due in dates
    ]


def seal_agreement_of(world: CaseWorld, terms: list[dict]) -> Agreement:
    """Draft, lock, and have the mediator and both sides sign: sealed by the services."""
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    agreements.update_draft(
        agreement=agreement,
        actor=world.mediator,
        facts="原告为被告制作宣传视频，被告未支付制作费。",
        terms=terms,
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
    )
    version = agreements.lock_agreement(agreement=agreement, actor=world.mediator)
    signers = [
        (world.mediator, None),
        (world.plaintiff, world.plaintiff_participant.party),
        (world.defendant, world.defendant_participant.party),
    ]
    with TestCase.captureOnCommitCallbacks(execute=True):
        for index, (user, party) in enumerate(signers):
            agreements.sign_agreement(
                agreement=Agreement.objects.get(pk=agreement.pk),
                actor=user,
                version_hash=version.content_hash,
                party=party,
                method="drawn",
                image_png=drawn_signature(index),
                reauthentication=Reauthentication(password=PASSWORD),
                ip="203.0.113.5",
                user_agent="pytest",
            )
    agreement = Agreement.objects.select_related("current_version", "sealed_blob").get(pk=agreement.pk)
    assert agreement.status == Agreement.Status.SEALED
    return agreement


def sealed_pdf(text: str) -> bytes:
    pdf = HTML(string=f"<html><body><h1>{text}</h1></body></html>").write_pdf()
    return document_timestamp(seal(pdf, reason="test"))


def confirm(
    world: CaseWorld,
    agreement: Agreement,
    *,
    number: int = 1,
    status=JudicialConfirmation.Status.CONFIRMED,
    applied_at=None,
    decided_at=None,
    serve: bool = True,
) -> JudicialConfirmation:
    """A judicial confirmation decided by a sealed ruling, served on both parties."""
    applied_at = applied_at or timezone.now() - dt.timedelta(days=12)
    decided_at = decided_at or timezone.now() - dt.timedelta(days=2)
    ruling_blob = store_blob(sealed_pdf(f"民事裁定书 {number}"), "application/pdf")
    ruling = None
    if status in (JudicialConfirmation.Status.CONFIRMED, JudicialConfirmation.Status.REJECTED):
        ruling = CourtDocument.objects.create(
            case=world.case,
            kind=CourtDocument.Kind.RULING,
            status=CourtDocument.Status.SEALED,
            verification_code=new_verification_code(),
            content={},
            content_hash="0" * 64,
            locked_blob=ruling_blob,
            latest_blob=ruling_blob,
            sealed_blob=ruling_blob,
            sealed_at=decided_at,
        )
    confirmation = JudicialConfirmation.objects.create(
        case=world.case,
        agreement=agreement,
        status=status,
        ruling=ruling,
        judge=world.judge,
        started_by=world.plaintiff,
        apply_by=timezone.localdate(agreement.sealed_at) + dt.timedelta(days=30),
        applied_at=applied_at,
        accepted_at=applied_at + dt.timedelta(days=1) if status != JudicialConfirmation.Status.APPLIED else None,
        case_number=f"(2026)京0107民特{number}号" if status != JudicialConfirmation.Status.APPLIED else "",
        decided_at=decided_at if ruling or status == JudicialConfirmation.Status.NOT_ACCEPTED else None,
    )
    if ruling is not None and serve:
        document = Document.objects.create(
            case=world.case,
            kind=Document.Kind.RULING,
            title=f"民事裁定书 (2026)京0107民特{number}号",
            original_name="ruling.pdf",
            blob=ruling_blob,
            uploaded_by=world.judge,
        )
        for recipient in (world.plaintiff, world.defendant):
            service = Service.objects.create(
                case=world.case,
                recipient=recipient,
                method=Service.Method.ELECTRONIC,
                status=Service.Status.DELIVERED,
                served_at=decided_at,
                created_by=world.judge,
            )
            service.documents.add(document)
            ServiceStep.objects.create(
                service=service, step=Service.Status.DELIVERED, at=decided_at, method=Service.Method.ELECTRONIC
            )
    return confirmation


@dataclass
class Performance:
    obligations: list[Obligation] = field(default_factory=list)
    evidence: Document | None = None


def obligations_of(world: CaseWorld, agreement: Agreement) -> list[Obligation]:
    """One obligation per term of the sealed version, as sealing makes them."""
    terms = agreement.current_version.content["terms"]
    return [
        Obligation.objects.create(
            case=world.case,
            agreement=agreement,
            term_number=index,
            instalment=index if len(terms) > 1 else None,
            instalments=len(terms) if len(terms) > 1 else None,
            kind=term["kind"],
            obligor_id=term["obligor"],
            obligee_id=term["obligee"],
            amount=Decimal(term["amount"]) if term.get("amount") else None,
            description=term.get("method", ""),
            due_date=dt.date.fromisoformat(term["due_date"]) if term.get("due_date") else None,
        )
        for index, term in enumerate(terms, start=1)
    ]


def perform(world: CaseWorld, obligation: Obligation, *, on: dt.date, confirmed: bool = True) -> Document:
    """The obligor's side reports it performed with a receipt; the obligee's confirms."""
    evidence = (
        upload_document(
            case=world.case,
            actor=world.defendant,
            data=sealed_pdf(f"转账回单 {obligation.term_number}"),
            filename=f"回单{obligation.term_number}.pdf",
            kind=Document.Kind.PERFORMANCE_EVIDENCE,
            title=f"转账回单{obligation.term_number}",
        )
        if world.case.is_open
        else _evidence_row(world, obligation)
    )
    at = timezone.make_aware(dt.datetime.combine(on, dt.time(10)))
    step = ObligationStep.objects.create(
        obligation=obligation,
        step=ObligationStep.Step.REPORTED,
        actor=world.defendant,
        party=world.defendant_participant.party,
        at=at,
        note="已转账",
    )
    step.evidence.add(evidence)
    obligation.status = Obligation.Status.REPORTED
    obligation.performed_on = on
    obligation.reported_at = at
    if confirmed:
        ObligationStep.objects.create(
            obligation=obligation,
            step=ObligationStep.Step.CONFIRMED,
            actor=world.plaintiff,
            party=world.plaintiff_participant.party,
            at=at + dt.timedelta(hours=2),
        )
        obligation.status = Obligation.Status.PERFORMED
        obligation.confirmed_at = at + dt.timedelta(hours=2)
    obligation.save()
    return evidence


def _evidence_row(world: CaseWorld, obligation: Obligation) -> Document:
    # A settled case takes no uploads through upload_document (the perform helper's
    # report flow adds evidence after the seal); the row it would make.
    data = sealed_pdf(f"转账回单 {obligation.term_number}")
    return Document.objects.create(
        case=world.case,
        kind=Document.Kind.PERFORMANCE_EVIDENCE,
        title=f"转账回单{obligation.term_number}",
        original_name=f"回单{obligation.term_number}.pdf",
        blob=store_blob(data, "application/pdf"),
        party=world.defendant_participant.party,
        uploaded_by=world.defendant,
    )


def become_overdue(obligation: Obligation, *, since: dt.date | None = None) -> Obligation:
    since = since or obligation.due_date + dt.timedelta(days=1)
    ObligationStep.objects.create(
        obligation=obligation,
        step=ObligationStep.Step.OVERDUE,
        at=timezone.make_aware(dt.datetime.combine(since, dt.time(0, 5))),
    )
    obligation.status = Obligation.Status.OVERDUE
    obligation.overdue_since = since
    obligation.save()
    return obligation


def sealed_world(mediator, judge, *, label="A", dates=("2026-10-07", "2026-11-07", "2027-01-07")):
    world = make_case(mediator, judge, label=label, agent_authority=True)
    agreement = seal_agreement_of(world, instalments(world, list(dates)))
    world.case.refresh_from_db()
    return world, agreement
