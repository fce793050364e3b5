"""Correcting and removing a case's parties, so that a typo in a name does not go into
the settlement agreement.

Both are the mediator's (the same rule as adding a party), in an open case, and both
are refused once the case's agreement is locked for signing or signed: the agreement
is then the record of who the parties are (the documents app says so through
`signals.parties_frozen`, since mediation does not import it). The timeline and the
audit keep the old and the new values.

Who may be in which room follows from the participants' party and its side
(`mediation.participation`): a side is corrected only while nobody takes part for the
party, and a party is removed only if nobody ever joined for it, so neither changes
anyone's rooms.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import id_numbers
from mediation.errors import TransitionNotAllowed
from mediation.models import MediationCase, Participant, Party, User
from mediation.selectors.cases import open_invitations
from mediation.services.cases import (
    lock_case_for_action,
    party_values,
    record_case_event,
    refuse_if_parties_are_frozen,
)


def _lock_party(party: Party, case: MediationCase) -> Party:
    locked = Party.objects.select_for_update().filter(pk=party.pk, case=case).first()
    if locked is None:
        raise TransitionNotAllowed(_("This party is no longer in the case."))
    refuse_if_parties_are_frozen(case)
    return locked


@transaction.atomic
def edit_party(
    *,
    party: Party,
    actor: User | None,
    side: str,
    kind: str,
    name: str,
    id_number: str = "",
    credit_code: str = "",
    legal_representative: str = "",
    phone: str = "",
    address: str = "",
) -> Party:
    """Correct a party's details. The side changes only while nobody takes part for the
    party: those who do would change rooms and caucus mid-mediation."""
    case = lock_case_for_action(party.case, actor, "edit_party")
    party = _lock_party(party, case)
    values = party_values(
        side=side,
        kind=kind,
        name=name,
        id_number=id_number,
        credit_code=credit_code,
        legal_representative=legal_representative,
        phone=phone,
        address=address,
    )
    changes = {
        field: {"old": str(getattr(party, field)), "new": value}
        for field, value in values.items()
        if str(getattr(party, field)) != value
    }
    # The timeline (and the audit trail, which hashes them) keeps ID numbers masked:
    # the clear number lives only in the encrypted field.
    recorded_changes = {field: _as_recorded(field, change) for field, change in changes.items()}
    if not changes:
        return party
    if "side" in changes and Participant.active.filter(party=party).exists():
        raise ValidationError(
            {
                "side": _(
                    "Someone takes part in the case for %(name)s, so the side cannot change: remove the "
                    "participant first, then invite them again for the right side."
                )
                % {"name": party.name}
            }
        )
    for field in changes:
        setattr(party, field, values[field])
    party.save(update_fields=list(changes))
    record_case_event(case, actor=actor, action="edit_party", data={"party": party.pk, "changes": recorded_changes})
    return party


def _as_recorded(field: str, value):
    """A party's detail as the timeline keeps it: an ID number masked."""
    if field != "id_number":
        return value
    if isinstance(value, dict):
        return {key: id_numbers.mask(item) for key, item in value.items()}
    return id_numbers.mask(value)


@transaction.atomic
def remove_party(*, party: Party, actor: User | None, reason: str) -> dict:
    """Remove a party added by mistake. Refused once anyone has joined the case for it
    (what they did stays on the record: correct the party instead). Its invitations go
    with it: the open ones are withdrawn first, so no link sent for it still works.
    Returns the removed party's details."""
    case = lock_case_for_action(party.case, actor, "remove_party")
    party = _lock_party(party, case)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the party is removed.")})
    if Participant.objects.filter(party=party).exists():
        raise TransitionNotAllowed(
            _(
                "Someone has joined the case for %(name)s, so the party stays on the case's record. Correct its "
                "details instead."
            )
            % {"name": party.name},
            code="party_joined",
        )
    withdrawn = list(open_invitations(case).filter(party=party).values_list("pk", flat=True))
    party.invitations.filter(pk__in=withdrawn).update(revoked_at=timezone.now())
    for invitation_id in withdrawn:
        record_case_event(
            case, actor=actor, action="revoke_invitation", data={"invitation": invitation_id, "party": party.pk}
        )
    details = {field: str(getattr(party, field)) for field in Party.DETAILS}
    invitation_ids = list(party.invitations.values_list("pk", flat=True))
    try:
        with transaction.atomic():
            # Only the hashes of links that no longer work: the timeline keeps that they
            # were sent and withdrawn.
            party.invitations.all().delete()
            party_id = party.pk
            party.delete()
    except ProtectedError as error:
        raise TransitionNotAllowed(
            _("Documents of the case concern %(name)s, so the party stays on the case's record.")
            % {"name": party.name},
            code="party_has_documents",
        ) from error
    record_case_event(
        case,
        actor=actor,
        action="remove_party",
        note=reason.strip(),
        data={
            "party": party_id,
            "removed": {field: _as_recorded(field, value) for field, value in details.items()},
            "invitations": invitation_ids,
        },
    )
    return details
