"""The letter of delegation (委派调解函): the court's sealed letter delegating a case to
a mediation organisation, made when the case is delegated (`signals.case_delegated`,
answered in documents.receivers) through the court documents layer with no signers:
sealed at once with the court's seal and a document timestamp, verifiable at /verify/.

Its content is codes and parameters (the court, the case, the organisation, the
parties, the dispute, the period, the date); the PDF is in Chinese, the court's
language, whoever reads it. It is the court's and the organisation's: the court side,
the organisation's admins and the mediator it is dispatched to read it
(`mediation.policy.can_read_delegation_letter`), never the parties."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from documents.models import CourtDocument
from documents.services import court_documents
from mediation.models import Delegation, MediationCase, User
from mediation.services.delegation import MEDIATION_PERIOD_DAYS

TEMPLATE = "documents/pdf/delegation_letter.html"
Kind = CourtDocument.Kind

court_documents.SEAL_REASONS[Kind.DELEGATION_LETTER] = gettext_lazy("Letter of delegation sealed by the court")


def letter_content(case: MediationCase, delegation: Delegation) -> dict:
    return {
        "court": settings.COURT_NAME,
        "case_number": case.number,
        "work_order": case.work_order.number if case.work_order_id else "",
        "delegation": delegation.pk,
        "organisation": {"id": delegation.organisation_id, "name": delegation.organisation.name},
        "parties": [
            {"side": party.side, "kind": party.kind, "name": party.name} for party in case.parties.order_by("pk")
        ],
        "cause_of_action": case.cause_of_action,
        "claim_amount": str(case.claim_amount) if case.claim_amount is not None else "",
        "facts": case.facts,
        "period_days": MEDIATION_PERIOD_DAYS,
        "deadline": case.deadline.isoformat(),
        "date": timezone.localdate().isoformat(),
    }


def make_delegation_letter(*, case: MediationCase, delegation: Delegation, actor: User | None) -> CourtDocument:
    """Lay out and seal the letter (inside the delegation's transaction)."""
    content = letter_content(case, delegation)
    return court_documents.prepare_court_document(
        case=case,
        kind=Kind.DELEGATION_LETTER,
        template=TEMPLATE,
        context={"content": content, "seal_date": timezone.localdate()},
        content=content,
        slots=[],
        actor=actor,
    )


def letter_of(delegation: Delegation) -> CourtDocument | None:
    return (
        CourtDocument.objects.filter(
            case_id=delegation.case_id, kind=Kind.DELEGATION_LETTER, content__delegation=delegation.pk
        )
        .order_by("-created_at", "-id")
        .first()
    )
