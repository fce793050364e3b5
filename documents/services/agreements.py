"""Settlement agreements (调解协议书): drafting, versions, locking, declining, signing
and sealing.

A locked version's content and its hash never change; any change makes a new version
and voids the signatures collected on the old one. Each signature is a PAdES
signature added at the moment of signing, with a certificate issued to that signer
after they re-authenticate. When every required signature is on, the platform adds a
document timestamp and the agreement is sealed: the case is settled, the originating
work order awaits confirmation, and the rooms close after a grace period.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from documents import selectors
from documents.agreement_rendering import agreement_document_context, signing_certificate_context
from documents.agreement_rules import (
    MEDIATOR_SLOT,
    required_slots,
    signer_slot,
    signer_slots_of,
    signers_of_slot,
    slot_refusal,
    slots_opened_by,
    special_authority,
)
from documents.models import Agreement, AgreementVersion, Signature
from documents.paper_box import fill_paper_boxes
from documents.reauthentication import Reauthentication, ReauthenticationFailed, check_sms_code, reauthenticate
from documents.rendering import render_pdf
from documents.services import webhook_events
from documents.services.agreement_content import (
    clean_default_clause,
    clean_terms,
    content_hash,
    default_content,
    new_verification_code,
    parties_snapshot,
    signing_place,
)
from documents.services.signatures import sign_in_place
from documents.services.storage import read_blob, store_blob
from documents.signing import (
    SEAL_FIELD,
    add_signature_fields,
    document_timestamp,
    has_empty_seal_field,
    seal,
    seal_in_place,
)
from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.identity import identity_now
from mediation.models import MediationCase, Participant, ParticipantRole, Party, User
from mediation.notifications import notify
from mediation.participation import acting_refusal
from mediation.services.cases import lock_case, lock_work_order_of, settle_case, start_mediation
from rooms.services import post_case_event, schedule_rooms_closing

logger = logging.getLogger(__name__)


def agreement_url(agreement: Agreement) -> str:
    return reverse("agreement_detail", args=[agreement.pk])


def _lock_agreement(agreement: Agreement) -> Agreement:
    # Lock the agreement row only: PostgreSQL refuses FOR UPDATE on the nullable side
    # of the outer join to current_version.
    return (
        Agreement.objects.select_for_update(of=("self",)).select_related("case", "current_version").get(pk=agreement.pk)
    )


def _record(agreement: Agreement, actor: User | None, action: str, **data) -> None:
    audit.record(actor=actor, action=f"agreement.{action}", target=agreement, data={"case": agreement.case_id, **data})


def _require_mediator(agreement_or_case, actor: User) -> None:
    case = agreement_or_case if isinstance(agreement_or_case, MediationCase) else agreement_or_case.case
    if case.mediator_id != actor.pk:
        raise ActionForbidden(_("Only the case's mediator drafts the agreement."))


@transaction.atomic
def start_agreement(*, case: MediationCase, actor: User) -> Agreement:
    _require_mediator(case, actor)
    case = MediationCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise TransitionNotAllowed(_("This case has ended."))
    existing = case.agreements.exclude(status=Agreement.Status.SEALED).first()
    if existing is not None:
        return existing
    agreement = Agreement.objects.create(case=case, verification_code=new_verification_code(), created_by=actor)
    version = AgreementVersion.objects.create(agreement=agreement, number=1, content=default_content(case))
    agreement.current_version = version
    agreement.save(update_fields=["current_version"])
    _record(agreement, actor, "start")
    return agreement


@transaction.atomic
def update_draft(
    *,
    agreement: Agreement,
    actor: User,
    facts: str,
    terms: list[dict],
    costs: str,
    effectiveness: str,
    judicial_confirmation: bool,
    default_clause: dict | None = None,
) -> AgreementVersion:
    """Save the mediator's changes: every term and the default clause at once, or
    nothing when any of them is invalid. On a locked agreement this makes a new
    version: the locked one is void and so is every signature on it."""
    agreement = _lock_agreement(agreement)
    _require_mediator(agreement, actor)
    if not agreement.allows("edit"):
        raise TransitionNotAllowed(_("A sealed agreement cannot be changed."))
    # Check the terms and the clause both, so that every problem is shown at once.
    problems = {}
    try:
        cleaned_terms = clean_terms(terms, agreement.case)
    except ValidationError as error:
        problems.update(error.error_dict)
        cleaned_terms = terms
    try:
        clause = clean_default_clause(default_clause, cleaned_terms)
    except ValidationError as error:
        problems.update(error.error_dict)
    if problems:
        raise ValidationError(problems)
    content = {
        "facts": facts.strip(),
        "terms": cleaned_terms,
        "default_clause": clause,
        "costs": costs.strip(),
        "effectiveness": effectiveness.strip(),
        "judicial_confirmation": bool(judicial_confirmation),
    }
    version = agreement.current_version
    if version.status == AgreementVersion.Status.DRAFT:
        version.content = content
        version.save(update_fields=["content"])
        _record(agreement, actor, "edit", version=version.number)
        return version
    version = _new_version(agreement, actor, content, reason=_("Changed by the mediator"))
    return version


def _new_version(agreement: Agreement, actor: User, content: dict, *, reason: str) -> AgreementVersion:
    old = agreement.current_version
    voided = Signature.objects.filter(version=old, voided_at__isnull=True).update(voided_at=timezone.now())
    old.status = AgreementVersion.Status.VOID
    old.void_reason = reason
    old.save(update_fields=["status", "void_reason"])
    version = AgreementVersion.objects.create(agreement=agreement, number=old.number + 1, content=content)
    agreement.current_version = version
    agreement.status = Agreement.Status.DRAFT
    agreement.save(update_fields=["current_version", "status", "updated_at"])
    _record(
        agreement,
        actor,
        "new_version",
        void=old.number,
        version=version.number,
        signatures_voided=voided,
        reason=reason,
    )
    post_case_event(
        case=agreement.case,
        kind="agreement.changed",
        actor=actor,
        data={"version": version.number, "signatures_voided": voided},
    )
    return version


@transaction.atomic
def lock_agreement(*, agreement: Agreement, actor: User) -> AgreementVersion:
    """Freeze the current draft: its content (with the parties as they are now) gets a
    hash, the PDF is rendered with an empty signature field per signer, and the
    parties are asked to sign."""
    agreement = _lock_agreement(agreement)
    _require_mediator(agreement, actor)
    version = agreement.current_version
    if not agreement.allows("lock") or version.status != AgreementVersion.Status.DRAFT:
        raise TransitionNotAllowed(_("Only a draft can be locked."))
    case = agreement.case
    if not case.is_open:
        raise TransitionNotAllowed(_("This case has ended."))
    errors = []
    sides = set(case.parties.values_list("side", flat=True))
    # Third parties sign beside them, but a plaintiff and a defendant there must be.
    if not {"plaintiff", "defendant"} <= sides:
        errors.append(_("The case needs a plaintiff and a defendant before the agreement can be signed."))
    if not version.content.get("terms"):
        errors.append(_("Add at least one agreed term."))
    if errors:
        raise ValidationError({"__all__": errors})
    content = {
        **version.content,
        "case_number": case.number,
        "cause_of_action": case.cause_of_action,
        "parties": parties_snapshot(case),
        "mediator": str(case.mediator),
        "signing_place": signing_place(),
    }
    version.content = content
    version.content_hash = content_hash(content)
    slots = required_slots(case)
    rendered = render_pdf("documents/pdf/agreement.html", agreement_document_context(agreement, version, slots))
    boxes = {box.slot: box for box in rendered.slots}
    # The signers' fields, and the platform's, where its seal shows once sealed.
    pdf = add_signature_fields(rendered.pdf, [boxes[slot["slot"]] for slot in slots] + [boxes[SEAL_FIELD]])
    blob = store_blob(pdf, "application/pdf")
    version.locked_blob = blob
    version.latest_blob = blob
    version.signature_slots = slots
    version.status = AgreementVersion.Status.LOCKED
    version.locked_at = timezone.now()
    version.locked_by = actor
    version.save()
    agreement.status = Agreement.Status.LOCKED
    agreement.save(update_fields=["status", "updated_at"])
    _record(agreement, actor, "lock", version=version.number, content_hash=version.content_hash, pdf=blob.sha256)
    post_case_event(
        case=case, kind="agreement.locked", actor=actor, data={"version": version.number, "agreement": agreement.pk}
    )
    # The parties read it now; they are told again when it is their turn to sign
    # (`_notify_next_signers`), since the mediator signs first.
    notify(
        recipients=[p.user for p in Participant.active.filter(case=case).select_related("user")],
        kind="agreement.locked",
        params={"number": case.number},
        url=agreement_url(agreement),
    )
    return version


@transaction.atomic
def decline_agreement(*, agreement: Agreement, actor: User, reason: str) -> AgreementVersion:
    """A party declines the locked version: it goes back to draft as a new version,
    and what was signed on it is void."""
    agreement = _lock_agreement(agreement)
    participant = Participant.active.filter(case=agreement.case, user=actor).select_related("party").first()
    if participant is None:
        raise ActionForbidden(_("Only a party's participant can decline the agreement."))
    by_role = acting_refusal(participant)
    if by_role is not None:
        raise by_role
    if not agreement.allows("decline"):
        raise TransitionNotAllowed(_("Only an agreement waiting for signatures can be declined."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you decline, so the mediator can revise the agreement.")})
    old_content = dict(agreement.current_version.content)
    version = _new_version(agreement, actor, old_content, reason=reason.strip())
    notify(
        recipients=[agreement.case.mediator],
        kind="agreement.declined",
        params={"number": agreement.case.number, "name": str(actor)},
        url=agreement_url(agreement),
    )
    return version


def sign_agreement(
    *,
    agreement: Agreement,
    actor: User,
    version_hash: str,
    party: Party | None,
    method: str,
    image_png: bytes | None,
    reauthentication: Reauthentication,
    ip: str | None = None,
    user_agent: str = "",
) -> Signature:
    """Sign the locked version for a party (or as the mediator). Refused on a stale
    version, for a second signature in the same place, for a party the signer does not
    represent, and without re-authentication. Signatures are serialised per
    agreement by a row lock, since each adds a revision to the same file.

    A wrong password or code is a guess at the signer's credentials, as at login: it
    is recorded in the audit trail once the refused signing has been undone (callers
    throttle the attempts, see documents.views.agreements.agreement_sign)."""
    try:
        # The code was texted for the version the signer read (send_signing_code).
        reauthentication = check_sms_code(actor, reauthentication, version_hash=version_hash)
        return _sign_agreement(
            agreement=agreement,
            actor=actor,
            version_hash=version_hash,
            party=party,
            method=method,
            image_png=image_png,
            reauthentication=reauthentication,
            ip=ip,
            user_agent=user_agent,
        )
    except ReauthenticationFailed as failure:
        record_failed_reauthentication(agreement=agreement, actor=actor, party=party, method=failure.method)
        raise


@transaction.atomic
def record_failed_reauthentication(*, agreement: Agreement, actor: User, party: Party | None, method: str) -> None:
    """Audit a refused re-authentication: who, on which agreement and version, for
    which party, by which method; never what was typed, nor where from."""
    agreement = Agreement.objects.select_related("current_version").get(pk=agreement.pk)
    _record(
        agreement,
        actor,
        "reauthentication_failed",
        version=agreement.current_version.number if agreement.current_version else None,
        party=party.pk if party else None,
        method=method,
    )


@transaction.atomic
def _sign_agreement(
    *,
    agreement: Agreement,
    actor: User,
    version_hash: str,
    party: Party | None,
    method: str,
    image_png: bytes | None,
    reauthentication: Reauthentication,
    ip: str | None,
    user_agent: str,
) -> Signature:
    agreement = _lock_agreement(agreement)
    version = agreement.current_version
    if not agreement.allows("sign"):
        raise TransitionNotAllowed(_("This agreement is not waiting for signatures."))
    if version_hash != version.content_hash:
        raise TransitionNotAllowed(
            _("The agreement changed since you opened it. Read the new version before signing."), code="stale_version"
        )
    slot, role = signer_slot(agreement, actor, party)
    slots = signer_slots_of(agreement)
    signed = selectors.signed_slots(version)
    refusal = slot_refusal(slot=slot, signer_slots=slots, signed=signed)
    if refusal is not None:
        raise refusal
    # The power of attorney an agent signs under, for the record (signer_slot has
    # refused an agent without one).
    authority = None
    if role == ParticipantRole.AGENT:
        authority = special_authority(Participant.active.get(case=agreement.case, user=actor, party=party))
    if method not in Signature.Method.values:
        raise ValidationError({"method": _("Draw your signature or type your name.")})
    how = reauthenticate(actor, reauthentication)
    made = sign_in_place(
        pdf=read_blob(version.latest_blob),
        actor=actor,
        identity=identity_now(actor),
        field=slot,
        method=method,
        image_png=image_png,
        certify=slot == MEDIATOR_SLOT,
        reason=_("Signed for %(party)s") % {"party": party.name} if party else _("Signed as mediator"),
        now=timezone.now(),
    )
    revision = made.revision
    method = made.fields["method"]
    signature = Signature.objects.create(
        version=version,
        slot=slot,
        signer=actor,
        role=role,
        party=party,
        ip_address=ip or None,
        user_agent=user_agent[:400],
        reauthenticated_by=how,
        version_hash=version.content_hash,
        **made.fields,
    )
    version.latest_blob = revision
    version.save(update_fields=["latest_blob"])
    agreement.status = Agreement.Status.SIGNING
    agreement.save(update_fields=["status", "updated_at"])
    _record(
        agreement,
        actor,
        "sign",
        slot=slot,
        version=version.number,
        revision=revision.sha256,
        method=method,
        **({"power_of_attorney": authority.pk} if authority is not None else {}),
    )
    post_case_event(
        case=agreement.case,
        kind="agreement.signed",
        actor=actor,
        data={"version": version.number, "party": party.name if party else None},
    )
    _notify_next_signers(agreement, slot=slot, signer_slots=slots, signed=signed)
    if signed | {slot} == slots:
        agreement_id = agreement.pk
        # Sealing runs in its own transaction; if it fails, `seal_agreements` finishes it.
        transaction.on_commit(lambda: seal_agreement_safely(agreement_id))
    return signature


def _notify_next_signers(agreement: Agreement, *, slot: str, signer_slots: set[str], signed: set[str]) -> None:
    """Tell the signers whose turn the signature in `slot` has just opened (the parties,
    once the mediator has signed) that they can sign now, in the app and by mail,
    with the link to the signing page."""
    recipients = [
        user
        for opened in sorted(slots_opened_by(slot=slot, signer_slots=signer_slots, signed=signed))
        for user in signers_of_slot(agreement.case, opened)
    ]
    notify(
        recipients=recipients,
        kind="agreement.your_turn",
        params={"number": agreement.case.number},
        url=reverse("agreement_sign", args=[agreement.pk]),
    )


def seal_agreement_safely(agreement_id: int) -> None:
    try:
        seal_agreement(agreement=Agreement.objects.get(pk=agreement_id))
    except Exception:
        logger.exception("Sealing agreement %s failed; seal_agreements will retry", agreement_id)


@transaction.atomic
def seal_agreement(*, agreement: Agreement) -> Agreement:
    """Add the platform's document timestamp once every signature is on, store the
    sealed PDF and the signing certificate, and close the loop: the case is settled
    and its work order awaits confirmation. Idempotent: a sealed agreement is
    returned as it is, so a retried request or a second worker seals nothing twice."""
    # The case and its work order before the audit chain, as every change to a case
    # takes them: settling it below would otherwise wait for them while holding the
    # chain, and a mediator's or a clerk's change, holding one of them, for the chain.
    lock_work_order_of(lock_case(agreement.case))
    agreement = _lock_agreement(agreement)
    if agreement.is_sealed:
        return agreement
    version = agreement.current_version
    slots = signer_slots_of(agreement)
    signatures = selectors.live_signatures(version)
    # Each slot signed digitally or on paper in person (a confirmed act).
    paper = selectors.paper_signatures(version)
    if not agreement.allows("seal") or selectors.signed_slots(version) != slots:
        raise TransitionNotAllowed(_("Not every signer has signed yet."))
    now = timezone.now()
    # A paper signer's box shows the platform's record of their paper signature.
    signed_pdf = fill_paper_boxes(read_blob(version.latest_blob), paper)
    if has_empty_seal_field(signed_pdf):
        # The court's seal where the agreement was laid out for it (versions locked
        # before it had a place have none), then the timestamp over everything.
        with translation.override(settings.DOCUMENT_LANGUAGE):
            signed_pdf = seal_in_place(signed_pdf, reason=_("Settlement agreement sealed by the platform"))
    sealed_pdf = document_timestamp(signed_pdf)
    sealed_blob = store_blob(sealed_pdf, "application/pdf")
    agreement.sealed_blob = sealed_blob
    agreement.sealed_at = now
    certificate = render_pdf(
        "documents/pdf/signing_certificate.html", signing_certificate_context(agreement, version, signatures, paper)
    )
    with translation.override(settings.DOCUMENT_LANGUAGE):
        certificate_pdf = seal(certificate.pdf, reason=_("Signing certificate issued by the platform"))
    agreement.certificate_blob = store_blob(certificate_pdf, "application/pdf")
    agreement.status = Agreement.Status.SEALED
    agreement.save(update_fields=["sealed_blob", "sealed_at", "certificate_blob", "status", "updated_at"])
    version.status = AgreementVersion.Status.SEALED
    version.save(update_fields=["status"])
    _record(agreement, None, "seal", final_hash=sealed_blob.sha256, certificate=agreement.certificate_blob_id)
    webhook_events.agreement_sealed(agreement, sha256=sealed_blob.sha256)
    case = agreement.case
    post_case_event(
        case=case,
        kind="agreement.sealed",
        data={
            "agreement": agreement.pk,
            "verification_code": agreement.verification_code,
            "sha256": sealed_blob.sha256,
        },
    )
    if case.status == MediationCase.Status.PENDING:
        start_mediation(case=case, actor=None)
    with translation.override(settings.DOCUMENT_LANGUAGE):
        note = _("Settled by the sealed agreement %(code)s.") % {"code": agreement.verification_code}
    settle_case(
        case=case,
        actor=None,
        note=note,
        data={
            "agreement": agreement.pk,
            "verification_code": agreement.verification_code,
            "sha256": sealed_blob.sha256,
        },
    )
    # Each payment or act term becomes an obligation to follow (履行).
    from documents.services.performance import create_obligations

    create_obligations(agreement)
    schedule_rooms_closing(
        case=case, at=now + dt.timedelta(minutes=settings.ROOM_CLOSE_GRACE_MINUTES), reason="agreement_sealed"
    )
    notify(
        recipients=[p.user for p in Participant.active.filter(case=case).select_related("user")] + [case.mediator],
        kind="agreement.sealed",
        params={"number": case.number},
        url=agreement_url(agreement),
    )
    return agreement
