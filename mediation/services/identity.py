"""Raising a person's identity level to real name verified (实名)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import audit, id_numbers
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.identity import get_verifier, may_record_identity_check
from mediation.models import IdentityCheck, IdentityLevel, MediationCase, Participant, ParticipantRole, Party, User

FULL_NAME_MAX_LENGTH = 100


def _party_recorded_otherwise(person: User, id_number_hash: str) -> Party | None:
    """A natural-person party this person takes part for in person whose recorded ID
    number is another one: the person checked is not the party on record."""
    participations = Participant.active.filter(
        user=person, role=ParticipantRole.PARTY, party__kind=Party.Kind.PERSON
    ).select_related("party")
    for participation in participations:
        party = participation.party
        if party.id_number_hash and party.id_number_hash != id_number_hash:
            return party
    return None


@transaction.atomic
def verify_real_name(
    *,
    person: User,
    actor: User,
    full_name: str,
    id_number: str,
    evidence: tuple[bytes, str] | None = None,
    case: MediationCase | None = None,
) -> IdentityCheck:
    """Record that `person` is `full_name`, holder of resident ID number `id_number`,
    as the configured verifier (settings.IDENTITY_VERIFIER) confirms; `evidence` is
    (bytes, file name) of a scan of the ID document, which the in-person verifier
    requires. `case` is the case from whose page the check is recorded.

    Refused, changing nothing: an actor who may not (`may_record_identity_check`), a
    person whose mobile number is not verified yet (levels come in order) or whose
    real name is verified already, an invalid ID number (the error names what is
    wrong), one verified for another account, one other than the ID number recorded
    for a party the person is in person, a verifier that does not confirm.
    Locks the person's row; the audit entry names the check by its id only."""
    if not may_record_identity_check(actor, person, case):
        raise ActionForbidden(_("You may not record an identity check for this person."))
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.identity_level == IdentityLevel.ACCOUNT:
        raise TransitionNotAllowed(
            _("%(name)s's mobile number is not verified yet: the real name is verified after the mobile number.")
            % {"name": person},
            code="mobile_not_verified",
        )
    if person.identity_level == IdentityLevel.REAL_NAME:
        raise TransitionNotAllowed(
            _("%(name)s's real name was verified already, on %(date)s.")
            % {"name": person, "date": timezone.localtime(person.real_name_verified_at).strftime("%Y-%m-%d")},
            code="already_verified",
        )
    errors = {}
    full_name = " ".join((full_name or "").split())
    if not full_name:
        errors["full_name"] = _("Enter the name as it is written on the ID document.")
    elif len(full_name) > FULL_NAME_MAX_LENGTH:
        errors["full_name"] = _("A name has at most %(count)d characters.") % {"count": FULL_NAME_MAX_LENGTH}
    try:
        id_number = id_numbers.validate(id_number)
    except ValidationError as error:
        errors.update(error.message_dict)
    else:
        id_number_hash = id_numbers.keyed_hash(id_number)
        taken = (
            User.objects.filter(id_number_hash=id_number_hash, real_name_verified_at__isnull=False)
            .exclude(pk=person.pk)
            .exists()
        )
        if taken:
            errors["id_number"] = _("This ID number is verified for another account already.")
        else:
            recorded = _party_recorded_otherwise(person, id_number_hash)
            if recorded is not None:
                errors["id_number"] = _(
                    "This is not the ID number recorded for the party %(party)s, whom this person is in person: "
                    "check the card, or correct the party's details first."
                ) % {"party": recorded.name}
    if errors:
        raise ValidationError(errors)
    result = get_verifier().verify(
        person=person, full_name=full_name, id_number=id_number, actor=actor, evidence=evidence
    )
    now = timezone.now()
    evidence_stored = result.evidence
    check = IdentityCheck.objects.create(
        user=person,
        verifier=result.verifier,
        verified_by=actor,
        verified_at=now,
        id_number_hash=id_number_hash,
        reference=result.reference[:100],
        case=case,
        evidence_sha256=evidence_stored.sha256 if evidence_stored else "",
        evidence_content_type=evidence_stored.content_type if evidence_stored else "",
        evidence_size=evidence_stored.size if evidence_stored else None,
        evidence_storage_name=evidence_stored.storage_name if evidence_stored else "",
    )
    person.full_name = full_name
    person.id_number = id_number
    person.real_name_verified_at = now
    person.real_name_verified_by = actor
    person.real_name_verifier = result.verifier[:40]
    person.save(
        update_fields=["full_name", "id_number", "real_name_verified_at", "real_name_verified_by", "real_name_verifier"]
    )
    audit.record(
        actor=actor,
        action="identity.verify_real_name",
        target=check,
        data={
            "user": person.pk,
            "verifier": result.verifier,
            "case": case.pk if case else None,
            "id_number_hash": id_number_hash,
            "evidence_sha256": check.evidence_sha256,
        },
    )
    return check
