"""What a party did in person (线下参与): recorded by the case's mediator, who
witnessed it, with the scan of the paper as evidence; it counts only once a second
member of court staff has confirmed it (`InPersonAct.is_confirmed`).

Who confirms: the case's judge or the general liaison, never the witness and never
anyone who takes part in the case for a party (`mediation.policy`, rule
"confirm_in_person"). Until then the act may be withdrawn (a wrong scan, a wrong
party), after which it never counts.

What a confirmed act does:
- consent to mediation: the case page shows that the party consented in person;
- acknowledgement of service: the service is acknowledged, by a step that says it
  was done in person before the mediator (method IN_PERSON, the witness as the one
  who recorded it), never as if the recipient had clicked on the platform;
- signature on a paper copy: the party's slot of the agreement version is filled
  (`documents.selectors.signed_slots`) and, when it was the last one, the agreement
  is sealed as when the last digital signature is added.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents import selectors
from documents.agreement_rules import party_slot, signer_slots_of
from documents.models import Agreement, AgreementVersion, CourtDocument, Document, Service, ServiceStep
from documents.models.in_person import InPersonAct
from documents.services.uploads import detect_type, store_document
from mediation import audit, policy
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.file_types import IMAGES_AND_PDF
from mediation.models import MediationCase, Participant, ParticipantRole, Party, User
from mediation.notifications import notify, register_kind
from mediation.roles import Role
from mediation.services.cases import check_case_action, lock_case, record_case_event

# Who may act for the party in person: not an interpreter nor a helper, who sign nothing.
CAPACITIES = (
    ParticipantRole.PARTY,
    ParticipantRole.LEGAL_REPRESENTATIVE,
    ParticipantRole.GUARDIAN,
    ParticipantRole.AGENT,
)

register_kind(
    "in_person.to_confirm",
    gettext_lazy("The mediator recorded an act done in person in case %(number)s: check the scan and confirm it."),
    topic="cases",
)
register_kind(
    "in_person.confirmed",
    gettext_lazy("An act done in person in case %(number)s was confirmed."),
    topic="cases",
)


def in_person_url(case: MediationCase) -> str:
    return reverse("in_person_acts", args=[case.pk])


def scan_visibility(kind: str, party: Party, side_only: str | None = None) -> str:
    """Who may see the scan: a paper signature of the agreement is the whole case's,
    as the agreement is; a consent or an acknowledgement concerns one party and stays
    with its side (and the court): a third party's with that third party alone, kept
    as "third" for the party the document concerns (`documents.access`)."""
    if kind == InPersonAct.Kind.RECORD_PAPER_SIGNATURE:
        # As the record is: the whole case's, or a caucus record's side's.
        return side_only or Document.Visibility.CASE
    if kind != InPersonAct.Kind.PAPER_SIGNATURE:
        return party.side
    return Document.Visibility.CASE


def _lock_act(act: InPersonAct) -> InPersonAct:
    return InPersonAct.objects.select_for_update().select_related("party", "witness").get(pk=act.pk)


def _record(act: InPersonAct, actor: User, action: str, **data) -> None:
    record_case_event(
        act.case,
        actor=actor,
        action=f"in_person_{action}",
        data={"act": act.pk, "kind": act.kind, "party": act.party_id, **data},
    )


def _check_paper_signature(agreement_version: AgreementVersion | None, party: Party, case: MediationCase) -> str:
    """The slot a paper signature fills: the party's on a locked version of this
    case's agreement still waiting for signatures, not yet filled."""
    if agreement_version is None or agreement_version.agreement.case_id != case.pk:
        raise ValidationError({"agreement_version": _("Choose the version of the agreement that was signed.")})
    agreement = agreement_version.agreement
    if agreement.current_version_id != agreement_version.pk or not agreement.is_waiting_for_signatures:
        raise TransitionNotAllowed(_("Only the current locked version of the agreement can be signed on paper."))
    slot = party_slot(party)
    if slot not in signer_slots_of(agreement):
        raise ValidationError({"party": _("This party is not a signer of this version.")})
    if slot in selectors.signed_slots(agreement_version):
        raise TransitionNotAllowed(_("This agreement has already been signed here."))
    pending = InPersonAct.objects.filter(
        agreement_version=agreement_version, slot=slot, confirmed_at__isnull=True, withdrawn_at__isnull=True
    )
    if pending.exists():
        raise TransitionNotAllowed(_("A paper signature for this party is already waiting for confirmation."))
    return slot


def _check_record_paper_signature(document: CourtDocument | None, party: Party, case: MediationCase) -> str:
    """The slot a paper signature of a mediation record fills: the party's on this
    case's record still waiting for signatures, not yet filled nor waiting for a
    confirmation."""
    from documents.services.court_documents import signed_slots

    if document is None or document.case_id != case.pk or document.kind != CourtDocument.Kind.MEDIATION_RECORD:
        raise ValidationError({"court_document": _("Choose the mediation record that was signed.")})
    if not document.allows("sign"):
        raise TransitionNotAllowed(_("This document is not waiting for signatures."))
    slot = party_slot(party)
    if slot not in {entry["slot"] for entry in document.signature_slots}:
        raise ValidationError({"party": _("This party is not a signer of this record.")})
    if slot in signed_slots(document):
        raise TransitionNotAllowed(_("This document has already been signed here."))
    pending = InPersonAct.objects.filter(
        court_document=document, slot=slot, confirmed_at__isnull=True, withdrawn_at__isnull=True
    )
    if pending.exists():
        raise TransitionNotAllowed(_("A paper signature for this party is already waiting for confirmation."))
    return slot


def _check_service(service: Service | None, party: Party, case: MediationCase) -> None:
    if service is None or service.case_id != case.pk:
        raise ValidationError({"service": _("Choose the service that was acknowledged.")})
    if not Participant.objects.filter(case=case, party=party, user_id=service.recipient_id).exists():
        raise ValidationError({"service": _("This service was not made on this party.")})
    if service.status not in Service.AWAITING_RECIPIENT:
        raise TransitionNotAllowed(
            _("This service can no longer be acknowledged (it is %(status)s).")
            % {"status": service.get_status_display()}
        )
    pending = InPersonAct.objects.filter(service=service, confirmed_at__isnull=True, withdrawn_at__isnull=True)
    if pending.exists():
        raise TransitionNotAllowed(_("An acknowledgement of this service is already waiting for confirmation."))


@transaction.atomic
def record_in_person_act(
    *,
    case: MediationCase,
    actor: User,
    party: Party,
    kind: str,
    person_name: str,
    capacity: str,
    place: str,
    place_detail: str,
    occurred_at: dt.datetime,
    scan_file,
    agreement_version: AgreementVersion | None = None,
    service: Service | None = None,
    court_document: CourtDocument | None = None,
) -> InPersonAct:
    """The case's mediator records what `party` did before them in person, with the
    scan (`scan_file`: an uploaded PDF, PNG or JPEG). It counts once confirmed
    (`confirm_in_person_act`). Takes the case's row lock."""
    case = lock_case(case)
    check_case_action(actor, "record_in_person", case)
    errors = {}
    if party.case_id != case.pk:
        errors["party"] = _("This party belongs to another case.")
    if kind not in InPersonAct.Kind.values:
        errors["kind"] = _("Choose what was done in person.")
    if not person_name.strip():
        errors["person_name"] = _("Give the name of the person who acted for the party.")
    if capacity not in CAPACITIES:
        errors["capacity"] = _("Choose in which capacity the person acted.")
    if place not in InPersonAct.Place.values:
        errors["place"] = _("Choose where it was done.")
    if occurred_at is None or occurred_at > timezone.now():
        errors["occurred_at"] = _("Give when it was done; it cannot be in the future.")
    if scan_file is None:
        errors["scan"] = _("Upload the scan of the signed paper.")
    if errors:
        raise ValidationError(errors)
    slot = content_hash = ""
    side_only = None
    if kind == InPersonAct.Kind.RECORD_PAPER_SIGNATURE:
        if court_document is not None:
            # Under the document's lock, as its signatures are taken.
            court_document = CourtDocument.objects.select_for_update(of=("self",)).get(pk=court_document.pk)
        slot = _check_record_paper_signature(court_document, party, case)
        content_hash = court_document.content_hash
        side_only = (court_document.content or {}).get("side_only")
        agreement_version = service = None
    elif kind == InPersonAct.Kind.PAPER_SIGNATURE:
        if agreement_version is not None:
            # Under the agreement's lock, as signatures are taken.
            agreement = Agreement.objects.select_for_update(of=("self",)).get(pk=agreement_version.agreement_id)
            agreement_version = AgreementVersion.objects.get(pk=agreement_version.pk)
            agreement_version.agreement = agreement
        slot = _check_paper_signature(agreement_version, party, case)
        content_hash = agreement_version.content_hash
        service = None
    elif kind == InPersonAct.Kind.SERVICE_ACKNOWLEDGEMENT:
        _check_service(service, party, case)
        agreement_version = None
    else:
        agreement_version = service = None
    if kind != InPersonAct.Kind.RECORD_PAPER_SIGNATURE:
        court_document = None
    data = scan_file.read()
    try:
        detect_type(data, scan_file.name, allowed=IMAGES_AND_PDF)
    except ValidationError as error:
        raise ValidationError({"scan": error.message_dict.get("file", error.messages)}) from None
    scan = store_document(
        case=case,
        actor=actor,
        data=data,
        filename=scan_file.name,
        # Titled by its file's name: the kind (in_person_scan) says what it is in each
        # reader's language.
        kind=Document.Kind.IN_PERSON_SCAN,
        visibility=scan_visibility(kind, party, side_only),
        party=party,
    )
    act = InPersonAct.objects.create(
        case=case,
        party=party,
        kind=kind,
        person_name=person_name.strip()[:100],
        capacity=capacity,
        place=place,
        place_detail=place_detail.strip()[:200],
        occurred_at=occurred_at,
        agreement_version=agreement_version,
        content_hash=content_hash,
        slot=slot,
        service=service,
        court_document=court_document,
        scan=scan,
        witness=actor,
        recorded_at=timezone.now(),
    )
    _record(act, actor, "recorded", scan=scan.blob_id)
    notify(
        recipients=confirmers_to_tell(case),
        kind="in_person.to_confirm",
        params={"number": case.number},
        url=in_person_url(case),
    )
    return act


def confirmers_to_tell(case: MediationCase) -> list[User]:
    """Whom to ask to confirm: the case's judge, or the general liaisons when the
    case has no judge."""
    if case.judge_id is not None:
        return [case.judge]
    return list(User.objects.filter(groups__name=Role.GENERAL_LIAISON, is_active=True))


def state_refusal(act: InPersonAct) -> TransitionNotAllowed | None:
    """Why `act` cannot be confirmed in its state, or None."""
    if act.withdrawn_at is not None:
        return TransitionNotAllowed(_("This act was withdrawn."))
    if act.confirmed_at is not None:
        return TransitionNotAllowed(_("This act is already confirmed."))
    return None


def confirmation_refusal(act: InPersonAct, actor: User) -> str | None:
    """Why `actor` may not confirm `act` (whatever its state), or None if they may:
    the one rule the service and the pages ask. Not the witness, and only the case's
    judge or the general liaison who takes no part in the case for a party."""
    if actor.pk == act.witness_id:
        return _("The mediator who witnessed the act cannot confirm it: another member of staff must.")
    if not policy.can_on_case(actor, "confirm_in_person", act.case):
        return _("Only the case's judge or the general liaison can confirm an act done in person.")
    return None


@transaction.atomic
def confirm_in_person_act(*, act: InPersonAct, actor: User) -> InPersonAct:
    """A second member of staff confirms the act after checking the scan: from now on
    it counts. A paper signature fills its slot (and seals the agreement after commit
    when it was the last); an acknowledgement acknowledges the service. Takes the
    case's row lock, then the act's, the agreement's or the service's."""
    case = lock_case(act.case)
    act = _lock_act(act)
    act.case = case
    check_case_action(None, "record_in_person", case)
    refusal = confirmation_refusal(act, actor)
    if refusal is not None:
        raise ActionForbidden(refusal)
    refused = state_refusal(act)
    if refused is not None:
        raise refused
    now = timezone.now()
    seal_after = record_document = None
    if act.kind == InPersonAct.Kind.PAPER_SIGNATURE:
        seal_after = _fill_slot(act)
    elif act.kind == InPersonAct.Kind.RECORD_PAPER_SIGNATURE:
        record_document = _fill_record_slot(act)
    elif act.kind == InPersonAct.Kind.SERVICE_ACKNOWLEDGEMENT:
        _acknowledge_service(act, actor)
    act.confirmed_by = actor
    act.confirmed_at = now
    act.save(update_fields=["confirmed_by", "confirmed_at"])
    _record(act, actor, "confirmed", witness=act.witness_id)
    if record_document is not None:
        from documents.services.court_documents import seal_when_complete

        # The last place filled seals the record, in this transaction.
        seal_when_complete(record_document)
    notify(
        recipients=[case.mediator], kind="in_person.confirmed", params={"number": case.number}, url=in_person_url(case)
    )
    if seal_after is not None:
        from documents.services.agreements import seal_agreement_safely

        transaction.on_commit(lambda: seal_agreement_safely(seal_after))
    return act


def _fill_slot(act: InPersonAct) -> int | None:
    """The paper signature's slot counts from now: refused when the version it was
    signed on is no longer the one waiting for signatures (changed, declined) or the
    slot was filled meanwhile. The id of the agreement to seal when it was the last."""
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=act.agreement_version.agreement_id)
    )
    version = agreement.current_version
    if (
        version.pk != act.agreement_version_id
        or version.content_hash != act.content_hash
        or not agreement.is_waiting_for_signatures
    ):
        raise TransitionNotAllowed(
            _("The agreement changed after this paper copy was signed: the paper signature does not count for it.")
        )
    signed = selectors.signed_slots(version)
    if act.slot in signed:
        raise TransitionNotAllowed(_("This agreement has already been signed here."))
    agreement.status = Agreement.Status.SIGNING
    agreement.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=act.witness,
        action="agreement.sign_on_paper",
        target=agreement,
        data={"case": agreement.case_id, "slot": act.slot, "version": version.number, "act": act.pk},
    )
    if signed | {act.slot} == signer_slots_of(agreement):
        return agreement.pk
    return None


def _fill_record_slot(act: InPersonAct) -> CourtDocument:
    """The paper signature's place on the mediation record counts from now: refused
    when the record no longer waits for signatures or the place was filled meanwhile.
    The document, locked, for the caller to seal when it was the last place."""
    from documents.services.court_documents import signed_slots

    document = (
        CourtDocument.objects.select_for_update(of=("self",)).select_related("case").get(pk=act.court_document_id)
    )
    if not document.allows("sign") or document.content_hash != act.content_hash:
        raise TransitionNotAllowed(_("This document is not waiting for signatures."))
    if act.slot in signed_slots(document):
        raise TransitionNotAllowed(_("This document has already been signed here."))
    audit.record(
        actor=act.witness,
        action="court_document.sign_on_paper",
        target=document,
        data={"case": document.case_id, "kind": document.kind, "slot": act.slot, "act": act.pk},
    )
    return document


def _acknowledge_service(act: InPersonAct, actor: User) -> None:
    """The service is acknowledged in person: a step with method IN_PERSON at the time
    the party acknowledged, by the mediator who witnessed and recorded it; the act
    (the scan, the witness, the confirmation) is its proof."""
    service = Service.objects.select_for_update().get(pk=act.service_id)
    if service.status not in Service.AWAITING_RECIPIENT:
        raise TransitionNotAllowed(
            _("This service can no longer be acknowledged (it is %(status)s).")
            % {"status": service.get_status_display()}
        )
    ServiceStep.objects.create(
        service=service,
        step=Service.Status.ACKNOWLEDGED,
        actor=act.witness,
        at=act.occurred_at,
        method=Service.Method.IN_PERSON,
    )
    service.status = Service.Status.ACKNOWLEDGED
    service.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="service.acknowledge_in_person",
        target=service,
        data={"case": service.case_id, "act": act.pk, "witness": act.witness_id},
    )


@transaction.atomic
def withdraw_in_person_act(*, act: InPersonAct, actor: User) -> InPersonAct:
    """The witness withdraws an act not yet confirmed (a wrong scan, a wrong party):
    it never counts. Takes the case's row lock, then the act's."""
    case = lock_case(act.case)
    act = _lock_act(act)
    act.case = case
    if actor.pk != act.witness_id and case.mediator_id != actor.pk:
        raise ActionForbidden(_("Only the mediator who recorded it can withdraw an act done in person."))
    if act.confirmed_at is not None:
        raise TransitionNotAllowed(_("A confirmed act cannot be withdrawn."))
    if act.withdrawn_at is not None:
        raise TransitionNotAllowed(_("This act was withdrawn."))
    act.withdrawn_at = timezone.now()
    act.save(update_fields=["withdrawn_at"])
    _record(act, actor, "withdrawn")
    return act
