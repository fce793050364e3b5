"""Who may see which case document."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from documents.models import Document
from mediation.models import MediationCase, User
from mediation.models.cases import Side
from mediation.participation import PARTY_STANDINGS, standing_in_case


def side_of(user: User, case: MediationCase) -> str | None:
    """ "mediator", "plaintiff", "defendant", "third" (a third party's people), "judge",
    or None for someone outside the
    case: their standing in it, by the one rule of who takes part in a case and on
    which side (`mediation.participation`)."""
    standing, _participant = standing_in_case(user, case)
    return standing


def hidden_from_parties() -> Q:
    """The documents a party's people may not see although their visibility says the
    case or their side: the rooms' recordings the court has not allowed them
    (documents.StoredRecording.parties_may_see)."""
    return Q(kind=Document.Kind.RECORDING) & ~Q(recording__parties_may_see=True)


def visible_documents(user: User, case: MediationCase) -> QuerySet[Document]:
    """The case's documents this user may see: everything for the mediator, the
    case-wide ones and their own side's for a party, the case-wide ones and their own
    party's application for enforcement for a third party's people (a third party has
    no side), the case-wide ones for the judge and the applications for enforcement,
    which are addressed to the court. The rooms' recordings: the mediator and the judge
    see every one (a caucus's too); a party's people only those of their rooms (the
    joint room's, their side's caucus's) that the court allows them."""
    side, participant = standing_in_case(user, case)
    documents = Document.objects.filter(case=case).select_related("blob", "uploaded_by")
    if side == "mediator":
        return documents
    if side in ("plaintiff", "defendant"):
        return documents.filter(Q(visibility=Document.Visibility.CASE) | Q(visibility=side)).exclude(
            hidden_from_parties()
        )
    if side == Side.THIRD_PARTY:
        # A third party is neither side: the case-wide documents, and those kept for
        # their own party alone (the application for enforcement a third party owed an
        # obligation makes is stored as "third", for that party: `enforcement`).
        return documents.filter(
            Q(visibility=Document.Visibility.CASE) | Q(visibility=Side.THIRD_PARTY, party_id=participant.party_id)
        ).exclude(hidden_from_parties())
    if side == "judge":
        return documents.filter(
            Q(visibility=Document.Visibility.CASE)
            | Q(kind=Document.Kind.ENFORCEMENT_APPLICATION)
            | Q(kind=Document.Kind.RECORDING)
        )
    return documents.none()


def is_side_only(documents) -> bool:
    """Whether what is done with these documents (serving them, acknowledging them) is
    a fact for one side only: it is when any of them is not case-wide, for the other
    side may not learn its title, nor that a service of it exists (`visible_services`
    hides such a service from them)."""
    return any(document.visibility != Document.Visibility.CASE for document in documents)


def can_view_document(user: User, document: Document) -> bool:
    return visible_documents(user, document.case).filter(pk=document.pk).exists()


def can_view_court_document(user: User, document) -> bool:
    """Whether `user`, who may see the document's case, may see this court document:
    an application for enforcement is a fact of the obligee's side and the court's
    (its mediator and judge); a filing package is the court's alone; the other court
    documents are the whole case's."""
    from documents.models import CourtDocument
    from mediation.models import Party

    if document.kind == CourtDocument.Kind.DELEGATION_LETTER:
        # The court's letter to the organisation: the court side and whoever it
        # reaches there (mediation.policy.can_read_delegation_letter), never the parties.
        from mediation.models import Delegation
        from mediation.policy import can_read_delegation_letter

        delegation = Delegation.objects.filter(pk=(document.content or {}).get("delegation")).first()
        return delegation is not None and can_read_delegation_letter(user, delegation)
    if document.kind == CourtDocument.Kind.FILING_PACKAGE:
        # The court's, for the case-filing division: never a party's people.
        from mediation import policy

        return policy.can_on_case(user, "read_filing_package", document.case)
    if document.kind != CourtDocument.Kind.ENFORCEMENT_APPLICATION:
        return True
    side, participant = standing_in_case(user, document.case)
    if side in ("mediator", "judge"):
        return True
    if side == Side.THIRD_PARTY:
        # Third parties are no one side: only the obligee's own people.
        return str(participant.party_id) == str((document.content or {}).get("obligee"))
    obligee_side = Party.objects.filter(
        pk=(document.content or {}).get("obligee"), case_id=document.case_id
    ).values_list("side", flat=True)
    return side is not None and side in obligee_side


def sees_service_addresses(user: User, case: MediationCase) -> bool:
    """Whether the user may see the IP addresses recorded with the steps of the case's
    services: the court's (its mediator and judge), never a party's. An address locates
    a person's home or office; what a party needs, the step, its time and who took it,
    is shown to them without it."""
    return side_of(user, case) in ("mediator", "judge")


def visible_services(user: User, case: MediationCase):
    """Services of the case this user may follow: all of them for the mediator and the
    judge; for a party's people, those served on them and those whose every document
    they may see (so that no title leaks from the other side's documents)."""
    from documents.models import Service

    side = side_of(user, case)
    services = Service.objects.filter(case=case).select_related("recipient").prefetch_related("documents")
    if side in ("mediator", "judge"):
        return services
    if side not in PARTY_STANDINGS:
        return services.none()
    # Whatever they may not see hides the service (`visible_documents`, the one rule).
    hidden = Document.objects.filter(case=case).exclude(pk__in=visible_documents(user, case).values("pk"))
    return services.filter(Q(recipient=user) | ~Q(documents__in=hidden)).distinct()


def visible_powers_of_attorney(user: User, case: MediationCase):
    """The powers of attorney of the case's agents this user may see: all of them for
    the case's mediator and judge, those of their own side's agents for a party's
    people, none for anyone else. Which side's agent acts under which authority is a
    fact of that side."""
    from documents.models import PowerOfAttorney

    side, participant = standing_in_case(user, case)
    powers = PowerOfAttorney.objects.filter(participant__case=case).select_related(
        "participant__party", "participant__user", "uploaded_by", "checked_by", "blob"
    )
    if side in ("mediator", "judge"):
        return powers
    if side == Side.THIRD_PARTY:
        # A third party is no one side: its own party's agents only (as `visible_documents`).
        return powers.filter(participant__party_id=participant.party_id)
    if side in PARTY_STANDINGS:
        return powers.filter(participant__party__side=side)
    return powers.none()
