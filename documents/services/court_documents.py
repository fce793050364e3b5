"""Court documents after the seal (the application for judicial confirmation, the
ruling, the application for enforcement): laid out once, signed per signer, sealed.

`prepare_court_document` renders the document's template, fixes its content (codes
and parameters) and that content's hash, and adds an empty signature field for each
signer's place (`slots`) and for the court's seal. Each signer signs their place
through the sign page (`sign_court_document`: re-authenticated, an SMS code bound to
the content hash, an agent only with special authority, one signature per place);
once every place is signed, the platform adds the court's seal and its document
timestamp in the same transaction, and the kind's handler (`on_sealed`) carries on.
A document with no places is sealed as soon as it is made.

Who may sign which place now is one rule, `court_document_signer_slots`, which the
service, the sign page and the to-do list ask. A kind may refuse signing for a reason
of its own (the window to apply has passed): `signing_refusal`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents.agreement_rules import NoAuthorityToSign, designation, signing_authority_refusal
from documents.models import CourtDocument, CourtSignature
from documents.paper_box import fill_paper_boxes
from documents.reauthentication import (
    Reauthentication,
    ReauthenticationFailed,
    check_sms_code,
    reauthenticate,
    send_code_to_sign,
)
from documents.rendering import document_context, qr_data_uri, render_pdf, verification_url
from documents.services.agreement_content import content_hash as hash_of
from documents.services.agreement_content import new_verification_code
from documents.services.signatures import sign_in_place
from documents.services.storage import read_blob, store_blob
from documents.signing import SEAL_FIELD, add_signature_fields, document_timestamp, seal_in_place
from mediation import audit
from mediation.errors import ActionForbidden, DomainError, TransitionNotAllowed
from mediation.identity import identity_now
from mediation.models import MediationCase, Participant, User
from mediation.participation import acting_refusal
from mediation.services.cases import lock_case, record_case_event
from mediation.sms import templates as sms_templates
from rooms.services import post_case_event

logger = logging.getLogger(__name__)

Kind = CourtDocument.Kind

# What each kind of document is called in a code texted to sign it.
sms_templates.register(
    "signing_code_confirmation_application",
    gettext_lazy(
        "%(court)s: your code to sign the application for judicial confirmation of case %(number)s is %(code)s, "
        "valid for %(minutes)s minutes. Do not tell it to anyone."
    ),
    secret=("code",),
)
sms_templates.register(
    "signing_code_ruling",
    gettext_lazy(
        "%(court)s: your code to sign the civil ruling of case %(number)s is %(code)s, valid for %(minutes)s "
        "minutes. Do not tell it to anyone."
    ),
    secret=("code",),
)
sms_templates.register(
    "signing_code_enforcement_application",
    gettext_lazy(
        "%(court)s: your code to sign the application for enforcement of case %(number)s is %(code)s, valid for "
        "%(minutes)s minutes. Do not tell it to anyone."
    ),
    secret=("code",),
)

sms_templates.register(
    "signing_code_mediation_record",
    gettext_lazy(
        "%(court)s: your code to sign the mediation record of case %(number)s is %(code)s, valid for %(minutes)s "
        "minutes. Do not tell it to anyone."
    ),
    secret=("code",),
)

# Why the platform seals each kind (the seal signature's reason, in the document's language).
SEAL_REASONS = {
    Kind.CONFIRMATION_APPLICATION: gettext_lazy("Application for judicial confirmation sealed by the platform"),
    Kind.RULING: gettext_lazy("Civil ruling sealed by the court"),
    Kind.ENFORCEMENT_APPLICATION: gettext_lazy("Application for enforcement sealed by the platform"),
    Kind.MEDIATION_RECORD: gettext_lazy("Mediation record sealed by the platform"),
}


# Hooks of each kind ---------------------------------------------------------------------------

_SEALED_HANDLERS: dict[str, list[Callable[[CourtDocument], None]]] = {}
_SIGNING_REFUSALS: dict[str, list[Callable[[CourtDocument], DomainError | None]]] = {}
_READING_TEMPLATES: dict[str, tuple[str, Callable | None]] = {}


def on_sealed(kind: str):
    """Register what happens once a document of `kind` is sealed; the handler runs in
    the sealing transaction, with the sealed document:

        @on_sealed("ruling")
        def ruling_sealed(document): ...
    """
    if kind not in Kind.values:
        raise ValueError(f"Unknown court document kind {kind!r}")

    def register(handler):
        handlers = _SEALED_HANDLERS.setdefault(kind, [])
        if handler not in handlers:
            handlers.append(handler)
        return handler

    return register


def signing_refusal(kind: str):
    """Register a check of `kind`'s own: the refusal (a DomainError) to sign a document
    of that kind now, or None. The sign page, the to-do list and the service all ask it
    (through `court_document_signer_slots` and `sign_court_document`)."""
    if kind not in Kind.values:
        raise ValueError(f"Unknown court document kind {kind!r}")

    def register(check):
        checks = _SIGNING_REFUSALS.setdefault(kind, [])
        if check not in checks:
            checks.append(check)
        return check

    return register


def register_reading(kind: str, template: str, context: Callable[[CourtDocument], dict] | None = None) -> None:
    """How the sign page shows what a document of `kind` says, in the reader's
    language: `template` is included with `document` and `reading` (what
    `context(document)` returns, in the active language)."""
    _READING_TEMPLATES[kind] = (template, context)


def reading_of(document: CourtDocument) -> tuple[str, dict]:
    """The template and context that show `document` on its page ("" if none)."""
    template, context = _READING_TEMPLATES.get(document.kind, ("", None))
    return template, (context(document) if context else {})


def _kind_refusal(document: CourtDocument) -> DomainError | None:
    for check in _SIGNING_REFUSALS.get(document.kind, []):
        refusal = check(document)
        if refusal is not None:
            return refusal
    return None


# Who signs where ------------------------------------------------------------------------------


def court_document_url(document: CourtDocument) -> str:
    return reverse("court_document_sign", args=[document.pk])


def paper_signatures(document: CourtDocument) -> list:
    """The confirmed signatures on paper copies of this document, made in person
    (documents.InPersonAct, a mediation record's), signed on it as it is (its content
    hash), in order."""
    from documents.models.in_person import InPersonAct

    if document.pk is None:
        return []
    return list(
        InPersonAct.objects.filter(
            court_document=document,
            kind=InPersonAct.Kind.RECORD_PAPER_SIGNATURE,
            content_hash=document.content_hash,
            confirmed_at__isnull=False,
            withdrawn_at__isnull=True,
        ).select_related("party", "witness", "confirmed_by", "scan")
    )


def signed_slots(document: CourtDocument) -> set[str]:
    """The places filled: signed on the platform, or on paper in person by a confirmed
    act (`paper_signatures`)."""
    digital = set(CourtSignature.objects.filter(document=document).values_list("slot", flat=True))
    return digital | {act.slot for act in paper_signatures(document)}


def audience(document: CourtDocument) -> dict:
    """Whom the document's room events are for: the whole case, or one side alone for
    a document of that side's caucus (its content's "side_only", e.g. the record of a
    caucus session), which the other side may never learn of."""
    side = (document.content or {}).get("side_only")
    return {"side": side, "side_only": True} if side else {}


def slot_entry(document: CourtDocument, slot: str) -> dict | None:
    return next((entry for entry in document.signature_slots if entry["slot"] == slot), None)


def slot_label(entry: dict) -> str:
    """A signature place as the active language words it: "Plaintiff: Shanghai Co." for
    a party's, "Judge: Zhang Wei" for a person's."""
    if entry.get("party"):
        return designation(entry.get("side", ""), entry.get("name", ""))
    roles = {"judge": _("Judge"), "mediator": _("Mediator"), "clerk": _("Clerk")}
    role = roles.get(entry.get("role", ""), entry.get("role", ""))
    return _("%(role)s: %(name)s") % {"role": role, "name": entry.get("name", "")}


def labelled_slots(document: CourtDocument) -> list[dict]:
    signed = {s.slot: s for s in CourtSignature.objects.filter(document=document).select_related("signer")}
    paper = {act.slot: act for act in paper_signatures(document)}
    return [
        {**entry, "label": slot_label(entry), "signature": signed.get(entry["slot"]), "paper": paper.get(entry["slot"])}
        for entry in document.signature_slots
    ]


def _representation(document: CourtDocument, entry: dict, user: User) -> Participant | None:
    return (
        Participant.active.filter(case_id=document.case_id, user=user, party_id=entry["party"])
        .select_related("party")
        .first()
    )


def _authority_refusal(document: CourtDocument, participant: Participant) -> NoAuthorityToSign | None:
    """Why this participant may not sign for their party on `document`, or None. A
    mediation record (调解笔录) says what was said and done at a session: whoever acted
    for the party there signs it, an agent by their general authority (signing it
    settles nothing). Every other court document binds the party: an agent signs it
    only under special authority (`signing_authority_refusal`)."""
    if document.kind == CourtDocument.Kind.MEDIATION_RECORD:
        by_role = acting_refusal(participant)
        return None if by_role is None else NoAuthorityToSign(by_role.message, code=by_role.code)
    return signing_authority_refusal(participant)


def _person_refusal(document: CourtDocument, entry: dict, user: User) -> DomainError | None:
    """Why `user` may not sign in the place `entry` (whoever they are), or None: a
    party's place is signed by a participant who represents that party
    (`_authority_refusal`); a person's place by that person."""
    if entry.get("party"):
        participant = _representation(document, entry, user)
        if participant is None:
            return ActionForbidden(_("You do not represent %(party)s in this case.") % {"party": entry.get("name", "")})
        return _authority_refusal(document, participant)
    if entry.get("user") != user.pk:
        return ActionForbidden(_("This place is for %(name)s to sign.") % {"name": entry.get("name", "")})
    return None


def court_document_signing_refusal(document: CourtDocument, user: User, slot: str) -> DomainError | None:
    """Why `user` may not sign `document` in `slot` now, or None if they may: the one
    rule of who signs where and when."""
    if not document.allows("sign"):
        return TransitionNotAllowed(_("This document is not waiting for signatures."))
    entry = slot_entry(document, slot)
    if entry is None:
        return TransitionNotAllowed(_("This document has no such signature place."))
    if slot in signed_slots(document):
        return TransitionNotAllowed(_("This document has already been signed here."), code="already_signed")
    return _person_refusal(document, entry, user) or _kind_refusal(document)


def court_document_signer_slots(document: CourtDocument, user: User) -> list[dict]:
    """The places `user` may sign on `document` now (the sign page's, the to-do list's
    and the service's rule), in the document's order."""
    if not user.is_authenticated or not document.allows("sign") or _kind_refusal(document) is not None:
        return []
    signed = signed_slots(document)
    return [
        entry
        for entry in document.signature_slots
        if entry["slot"] not in signed and _person_refusal(document, entry, user) is None
    ]


def authority_refusals(document: CourtDocument, user: User) -> list[NoAuthorityToSign]:
    """For an agent: why they may not sign their party's places still to sign (no
    special authority to settle), one per place, for the sign page to explain."""
    if not document.allows("sign"):
        return []
    signed = signed_slots(document)
    refusals = []
    for entry in document.signature_slots:
        if entry["slot"] in signed or not entry.get("party"):
            continue
        participant = _representation(document, entry, user)
        refusal = _authority_refusal(document, participant) if participant is not None else None
        if refusal is not None:
            refusals.append(refusal)
    return refusals


# Making, signing, sealing --------------------------------------------------------------------


def _lock(document: CourtDocument) -> CourtDocument:
    return CourtDocument.objects.select_for_update(of=("self",)).select_related("case").get(pk=document.pk)


def _record(document: CourtDocument, actor: User | None, action: str, **data) -> None:
    audit.record(
        actor=actor,
        action=f"court_document.{action}",
        target=document,
        data={"case": document.case_id, "kind": document.kind, **data},
    )


def _check_slots(slots: list[dict]) -> None:
    names = [entry.get("slot") for entry in slots]
    if len(set(names)) != len(names) or not all(names) or SEAL_FIELD in names:
        raise ValueError(f"Signature places must be named, once each, and not {SEAL_FIELD!r}: {names}")
    for entry in slots:
        if not entry.get("party") and not entry.get("user"):
            raise ValueError(f"Signature place {entry['slot']!r} has no party and no person to sign it")


@transaction.atomic
def prepare_court_document(
    *,
    case: MediationCase,
    kind: str,
    template: str,
    context: dict,
    content: dict,
    slots: list[dict],
    actor: User | None,
) -> CourtDocument:
    """Lay out a court document: render `template` (a template under
    frontend/templates/documents/pdf/ whose signature places are elements with id
    "slot-<slot>", and which includes documents/pdf/_seal.html with
    seal_field=seal_field for the court's seal), add an empty signature field per
    place and the seal's, and store it, waiting for its signers. With no places it
    is sealed at once (court seal and document timestamp) and returned sealed.

    The template's context is `context` with the court's name, the verification
    code, its URL and QR code (`verification_code`, `verification_url`, `qr`), the
    places labelled in the document's language (`slots`), `seal_field` and
    `content_hash_short`; `content` (codes and parameters) is what is stored, and its
    hash is what each signer's SMS code is bound to."""
    if kind not in Kind.values:
        raise ValueError(f"Unknown court document kind {kind!r}")
    _check_slots(slots)
    code = new_verification_code()
    digest = hash_of(content)
    with translation.override(settings.DOCUMENT_LANGUAGE):
        labelled = [{**entry, "label": slot_label(entry)} for entry in slots]
    rendered = render_pdf(
        template,
        document_context(
            **{
                "slots": labelled,
                **context,
                "seal_field": SEAL_FIELD,
                "content_hash_short": digest[:16],
                "verification_code": code,
                "verification_url": verification_url(code),
                "qr": qr_data_uri(verification_url(code)),
            }
        ),
    )
    boxes = {box.slot: box for box in rendered.slots}
    missing = [entry["slot"] for entry in slots if entry["slot"] not in boxes] + (
        [SEAL_FIELD] if SEAL_FIELD not in boxes else []
    )
    if missing:
        raise ValueError(f"{template} has no place for {missing}")
    pdf = add_signature_fields(rendered.pdf, [boxes[entry["slot"]] for entry in slots] + [boxes[SEAL_FIELD]])
    blob = store_blob(pdf, "application/pdf")
    document = CourtDocument.objects.create(
        case=case,
        kind=kind,
        verification_code=code,
        content=content,
        content_hash=digest,
        signature_slots=slots,
        locked_blob=blob,
        latest_blob=blob,
        created_by=actor,
    )
    _record(document, actor, "prepare", content_hash=digest, pdf=blob.sha256, slots=[e["slot"] for e in slots])
    post_case_event(
        case=case,
        kind="court_document.prepared",
        actor=actor,
        data={"document": document.pk, "kind": kind, "signers": len(slots)},
        **audience(document),
    )
    if not slots:
        _seal(document)
    return document


def send_court_document_code(
    user: User, document: CourtDocument, *, client_address: str | None, language: str | None = None
) -> str:
    """Text `user` a code that signs this document (its content hash) and nothing
    else, the message naming the document and the case; the masked number. Refused
    when they have nothing to sign on it now."""
    if not court_document_signer_slots(document, user):
        raise ActionForbidden(_("There is nothing for you to sign now."))
    return send_code_to_sign(
        user,
        content_hash=document.content_hash,
        template=f"signing_code_{document.kind}",
        params={"court": settings.COURT_NAME, "number": document.case.number},
        client_address=client_address,
        language=language,
    )


def sign_court_document(
    *,
    document: CourtDocument,
    actor: User,
    slot: str,
    content_hash: str,
    method: str,
    image_png: bytes | None,
    reauthentication: Reauthentication,
    ip: str | None = None,
    user_agent: str = "",
) -> CourtSignature:
    """Sign `document` in `slot`, as signing an agreement is checked: the content
    read (`content_hash`) is still the document's, the place is the signer's and not
    signed yet, an agent has special authority, the kind allows it now, and the signer
    re-authenticates (an SMS code bound to the content hash). The last signature
    seals the document in the same transaction and runs the kind's handler.

    A wrong password or code is audited once the refused signing is undone; callers
    throttle the attempts (documents.views.court_documents.court_document_sign)."""
    try:
        reauthentication = check_sms_code(actor, reauthentication, version_hash=content_hash)
        return _sign(
            document=document,
            actor=actor,
            slot=slot,
            content_hash=content_hash,
            method=method,
            image_png=image_png,
            reauthentication=reauthentication,
            ip=ip,
            user_agent=user_agent,
        )
    except ReauthenticationFailed as failure:
        record_failed_reauthentication(document=document, actor=actor, slot=slot, method=failure.method)
        raise


@transaction.atomic
def record_failed_reauthentication(*, document: CourtDocument, actor: User, slot: str, method: str) -> None:
    """Audit a refused re-authentication: who, on which document, for which place, by
    which method; never what was typed."""
    _record(CourtDocument.objects.get(pk=document.pk), actor, "reauthentication_failed", slot=slot, method=method)


@transaction.atomic
def _sign(
    *,
    document: CourtDocument,
    actor: User,
    slot: str,
    content_hash: str,
    method: str,
    image_png: bytes | None,
    reauthentication: Reauthentication,
    ip: str | None,
    user_agent: str,
) -> CourtSignature:
    # The case first, as every change to a case takes it (the kind's handler changes
    # what hangs on it), then the document: signatures on one file are serialised.
    lock_case(document.case)
    document = _lock(document)
    if document.allows("sign") and content_hash != document.content_hash:
        raise TransitionNotAllowed(
            _("The document changed since you opened it. Read it again before signing."), code="stale_version"
        )
    refusal = court_document_signing_refusal(document, actor, slot)
    if refusal is not None:
        raise refusal
    if method not in CourtSignature.Method.values:
        raise ValidationError({"method": _("Draw your signature or type your name.")})
    entry = slot_entry(document, slot)
    participant = _representation(document, entry, actor) if entry.get("party") else None
    how = reauthenticate(actor, reauthentication)
    with translation.override(settings.DOCUMENT_LANGUAGE):
        reason = _("Signed for %(party)s") % {"party": entry.get("name", "")} if participant else slot_label(entry)
    made = sign_in_place(
        pdf=read_blob(document.latest_blob),
        actor=actor,
        identity=identity_now(actor),
        field=slot,
        method=method,
        image_png=image_png,
        reason=reason,
        now=timezone.now(),
    )
    try:
        with transaction.atomic():
            signature = CourtSignature.objects.create(
                document=document,
                slot=slot,
                signer=actor,
                role=participant.role if participant else entry.get("role", ""),
                party=participant.party if participant else None,
                ip_address=ip or None,
                user_agent=user_agent[:400],
                reauthenticated_by=how,
                content_hash=document.content_hash,
                **made.fields,
            )
    except IntegrityError:
        raise TransitionNotAllowed(_("This document has already been signed here."), code="already_signed") from None
    document.latest_blob = made.revision
    document.save(update_fields=["latest_blob"])
    _record(document, actor, "sign", slot=slot, revision=made.revision.sha256, method=made.fields["method"])
    record_case_event(
        document.case,
        actor=actor,
        action="court_document_sign",
        data={"document": document.pk, "kind": document.kind, "slot": slot},
    )
    post_case_event(
        case=document.case,
        kind="court_document.signed",
        actor=actor,
        data={"document": document.pk, "kind": document.kind, "party": participant.party.name if participant else None},
        **audience(document),
    )
    seal_when_complete(document)
    return signature


def seal_when_complete(document: CourtDocument) -> bool:
    """Seal `document` when every place is filled (signed on the platform or on paper
    in person); whether it was sealed. Inside the caller's transaction, with the case
    and the document locked."""
    if not document.allows("seal"):
        return False
    if signed_slots(document) != {entry["slot"] for entry in document.signature_slots}:
        return False
    _seal(document)
    return True


def _seal(document: CourtDocument) -> CourtDocument:
    """The court's seal in the document's seal field and the platform's document
    timestamp over everything; then the kind's handlers. Inside the caller's
    transaction, with the document locked."""
    with translation.override(settings.DOCUMENT_LANGUAGE):
        reason = str(SEAL_REASONS[document.kind])
    # A paper signer's box shows the platform's record of their paper signature.
    signed_pdf = fill_paper_boxes(read_blob(document.latest_blob), paper_signatures(document))
    with translation.override(settings.DOCUMENT_LANGUAGE):
        sealed_pdf = document_timestamp(seal_in_place(signed_pdf, reason=reason))
    sealed_blob = store_blob(sealed_pdf, "application/pdf")
    document.sealed_blob = sealed_blob
    document.latest_blob = sealed_blob
    document.sealed_at = timezone.now()
    document.status = CourtDocument.Status.SEALED
    document.save(update_fields=["sealed_blob", "latest_blob", "sealed_at", "status"])
    _record(document, None, "seal", final_hash=sealed_blob.sha256)
    record_case_event(
        document.case,
        actor=None,
        action="court_document_seal",
        data={"document": document.pk, "kind": document.kind, "verification_code": document.verification_code},
    )
    post_case_event(
        case=document.case,
        kind="court_document.sealed",
        data={
            "document": document.pk,
            "kind": document.kind,
            "verification_code": document.verification_code,
            "sha256": sealed_blob.sha256,
        },
        **audience(document),
    )
    for handler in _SEALED_HANDLERS.get(document.kind, []):
        handler(document)
    return document


@transaction.atomic
def void_court_document(*, document: CourtDocument, actor: User | None, reason: str) -> CourtDocument:
    """Stop a document waiting for signatures from being signed (its application
    withdrawn or lapsed, its ruling redrafted): final. A document already void is
    returned as it is."""
    document = _lock(document)
    if document.status == CourtDocument.Status.VOID:
        return document
    if not document.allows("void"):
        raise TransitionNotAllowed(_("A sealed document cannot be voided."))
    document.status = CourtDocument.Status.VOID
    document.save(update_fields=["status"])
    _record(document, actor, "void", reason=reason)
    return document
