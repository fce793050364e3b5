"""Powers of attorney (授权委托书) of the agents in a case: uploading one, and the
mediator's check, which accepts it with the scope read in it or rejects it with a
reason. Whether an agent may then sign is `documents.agreement_rules`'s rule.

The audit trail refers to the rows (the power of attorney, its participant, the
file's SHA-256) and the codes of the scope, never to a name or to the reason written
for the agent."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import PowerOfAttorney
from documents.services.storage import store_blob
from documents.services.uploads import DOCX, detect_type, stored_filename
from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import Participant, ParticipantRole, User
from mediation.notifications import notify

MAX_REASON_LENGTH = 1000


def power_of_attorney_url(power: PowerOfAttorney) -> str:
    return reverse("power_of_attorney_detail", args=[power.pk])


def _record(power: PowerOfAttorney, actor: User, action: str, **data) -> None:
    audit.record(
        actor=actor,
        action=f"power_of_attorney.{action}",
        target=power,
        data={"case": power.participant.case_id, "participant": power.participant_id, **data},
    )


@transaction.atomic
def submit_power_of_attorney(*, participant: Participant, actor: User, data: bytes, filename: str) -> PowerOfAttorney:
    """Upload an agent's power of attorney (a PDF or an image), by the agent or by the
    case's mediator for them; the mediator is asked to check it. A file that is not a
    readable PDF, PNG or JPEG is refused, as every upload is, before anything is stored."""
    participant = Participant.objects.select_related("case", "party").get(pk=participant.pk)
    case = participant.case
    if actor.pk not in (participant.user_id, case.mediator_id):
        raise ActionForbidden(_("Only the agent and the case's mediator can upload the agent's power of attorney."))
    if participant.role != ParticipantRole.AGENT or not participant.is_active:
        raise ActionForbidden(_("Only an agent taking part in the case acts under a power of attorney."))
    if not case.is_open:
        raise TransitionNotAllowed(_("This case has ended; no more documents can be added."))
    content_type = detect_type(data, filename)
    if content_type == DOCX:
        raise ValidationError({"file": _("Upload the signed power of attorney as a PDF or a photo (PNG or JPEG).")})
    blob = store_blob(data, content_type)
    power = PowerOfAttorney.objects.create(
        participant=participant,
        blob=blob,
        original_name=stored_filename(filename, content_type),
        uploaded_by=actor,
    )
    _record(power, actor, "submit", sha256=blob.sha256)
    if actor.pk != case.mediator_id:
        notify(
            recipients=[case.mediator],
            kind="power_of_attorney.submitted",
            params={"number": case.number},
            url=power_of_attorney_url(power),
        )
    return power


def _lock_for_check(power: PowerOfAttorney, actor: User, action: str) -> PowerOfAttorney:
    power = (
        PowerOfAttorney.objects.select_for_update(of=("self",))
        .select_related("participant__case", "participant__user")
        .get(pk=power.pk)
    )
    case = power.participant.case
    if case.mediator_id != actor.pk:
        raise ActionForbidden(_("Only the case's mediator checks a power of attorney."))
    if not power.allows(action):
        raise TransitionNotAllowed(_("This power of attorney has already been checked."), code="already_checked")
    if not case.is_open:
        raise TransitionNotAllowed(_("This case has ended."))
    if not power.participant.is_active:
        raise TransitionNotAllowed(_("This agent no longer takes part in the case."))
    return power


@transaction.atomic
def accept_power_of_attorney(
    *,
    power: PowerOfAttorney,
    actor: User,
    may_change_claims: bool,
    may_settle: bool,
    may_sign_agreement: bool,
    valid_until: dt.date | None,
) -> PowerOfAttorney:
    """The mediator has checked the power of attorney and records the scope it gives
    (special authority to admit, waive or change claims; to settle; to sign the
    agreement) and the last day it is valid (none: until the mediation ends). The
    agent may sign only if the scope covers settling and signing."""
    power = _lock_for_check(power, actor, "accept")
    if valid_until is not None and valid_until < timezone.localdate():
        raise ValidationError(
            {"valid_until": _("This day has passed: a power of attorney that has expired gives no authority.")}
        )
    power.may_change_claims = bool(may_change_claims)
    power.may_settle = bool(may_settle)
    power.may_sign_agreement = bool(may_sign_agreement)
    power.valid_until = valid_until
    power.status = PowerOfAttorney.Status.ACCEPTED
    power.checked_by = actor
    power.checked_at = timezone.now()
    power.save(
        update_fields=[
            "may_change_claims",
            "may_settle",
            "may_sign_agreement",
            "valid_until",
            "status",
            "checked_by",
            "checked_at",
        ]
    )
    _record(
        power,
        actor,
        "accept",
        may_change_claims=power.may_change_claims,
        may_settle=power.may_settle,
        may_sign_agreement=power.may_sign_agreement,
        valid_until=valid_until.isoformat() if valid_until else None,
    )
    notify(
        recipients=[power.participant.user],
        kind="power_of_attorney.accepted"
        if power.gives_authority_to_settle
        else "power_of_attorney.accepted_without_authority",
        params={"number": power.participant.case.number},
        url=power_of_attorney_url(power),
    )
    return power


@transaction.atomic
def reject_power_of_attorney(*, power: PowerOfAttorney, actor: User, reason: str) -> PowerOfAttorney:
    """The mediator refuses the power of attorney, saying why (shown to the agent's
    side, never written into the audit trail, which records that it was rejected)."""
    power = _lock_for_check(power, actor, "reject")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why, so that the agent knows what to upload instead.")})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(limit)s characters.") % {"limit": MAX_REASON_LENGTH}}
        )
    power.status = PowerOfAttorney.Status.REJECTED
    power.rejection_reason = reason
    power.checked_by = actor
    power.checked_at = timezone.now()
    power.save(update_fields=["status", "rejection_reason", "checked_by", "checked_at"])
    _record(power, actor, "reject")
    notify(
        recipients=[power.participant.user],
        kind="power_of_attorney.rejected",
        params={"number": power.participant.case.number},
        url=power_of_attorney_url(power),
    )
    return power
