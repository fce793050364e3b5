"""A party's application to replace the case's mediator (申请回避) and the judge's
decision on it.

Only someone who acts for a party (the party in person, a legal representative, a
guardian, an agent; not an interpreter or a helper) may apply, while the case is
being mediated, one application at a time. The case's judge decides (the general
liaison where the case has no judge). Granting gives the case a new mediator through
`cases.set_case_mediator` (the roster rule; the rooms follow); refusing records why.
The applicant's party learns the decision and its reasons; the other side learns
only that the mediator changed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import MediationCase, Participant, RecusalRequest, User
from mediation.notifications import notify
from mediation.participation import active_participation
from mediation.services.case_supervision import overseers_of
from mediation.services.cases import (
    case_mediator_refusal,
    case_url,
    lock_case,
    lock_case_for_action,
    record_case_event,
    set_case_mediator,
)

MAX_REASON_LENGTH = 2000


def _pending(case: MediationCase):
    return RecusalRequest.objects.filter(case=case, status=RecusalRequest.Status.PENDING)


def _clean_text(text: str, field: str, missing: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: missing})
    if len(text) > MAX_REASON_LENGTH:
        raise ValidationError({field: _("Keep it under %(limit)s characters.") % {"limit": MAX_REASON_LENGTH}})
    return text


@transaction.atomic
def request_recusal(*, case: MediationCase, actor: User, reason: str) -> RecusalRequest:
    """Ask for the case's mediator to be replaced, with a reason; the judge is told."""
    case = lock_case_for_action(case, actor, "request_recusal")
    reason = _clean_text(reason, "reason", _("Say why the mediator should be replaced."))
    participation = active_participation(actor, case)
    # One waiting application per party: counted per case, the other side would learn
    # from a refusal (or a missing button) that one is waiting.
    if _pending(case).filter(party=participation.party).exists():
        raise TransitionNotAllowed(
            _("An application of your side to replace the mediator is already waiting for the judge."),
            code="recusal_pending",
        )
    request = RecusalRequest.objects.create(
        case=case,
        party=participation.party,
        requested_by=actor,
        requested_at=timezone.now(),
        mediator=case.mediator,
        reason=reason,
    )
    record_case_event(
        case,
        actor=actor,
        action="request_recusal",
        note=reason,
        data={"request": request.pk, "party": participation.party_id, "mediator": case.mediator_id},
    )
    notify(
        recipients=overseers_of(case),
        kind="case.recusal_requested",
        params={"number": case.number},
        url=case_url(case),
    )
    return request


def _party_people(request: RecusalRequest) -> list[User]:
    return [p.user for p in Participant.active.filter(case=request.case, party=request.party).select_related("user")]


def _other_people(request: RecusalRequest) -> list[User]:
    return [
        p.user for p in Participant.active.filter(case=request.case).exclude(party=request.party).select_related("user")
    ]


@transaction.atomic
def decide_recusal(
    *, request: RecusalRequest, actor: User, grant: bool, note: str, new_mediator: User | None = None
) -> RecusalRequest:
    """Grant (with the new mediator) or refuse a pending application, with reasons."""
    case = lock_case(request.case)
    request = RecusalRequest.objects.select_for_update().get(pk=request.pk)
    if request.case_id != case.pk:
        raise ActionForbidden(_("This application belongs to another case."))
    # The state and the actor first: someone who may not decide learns nothing more.
    case = lock_case_for_action(case, actor, "decide_recusal")
    if request.status != RecusalRequest.Status.PENDING:
        raise TransitionNotAllowed(_("This application has already been decided."), code="recusal_decided")
    note = _clean_text(note, "note", _("Give the reasons for the decision."))
    if grant:
        if request.mediator_id != case.mediator_id:
            # Another party's application was granted first: this one is about a
            # mediator who no longer mediates the case; the judge refuses it, saying so.
            raise ValidationError(
                {"grant": _("The mediator this application is about no longer mediates the case: refuse it.")}
            )
        if new_mediator is None:
            raise ValidationError({"new_mediator": _("Choose the new mediator.")})
        if new_mediator.pk in (case.mediator_id, request.mediator_id):
            raise ValidationError({"new_mediator": _("Choose a mediator other than the one the party objects to.")})
        refusal = case_mediator_refusal(case, new_mediator)
        if refusal:
            raise ValidationError({"new_mediator": refusal})
    previous = case.mediator
    request.status = RecusalRequest.Status.GRANTED if grant else RecusalRequest.Status.REFUSED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note
    request.new_mediator = new_mediator if grant else None
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "new_mediator"])
    record_case_event(
        case,
        actor=actor,
        action="decide_recusal",
        note=note,
        data={"request": request.pk, "granted": grant, "new_mediator": new_mediator.pk if grant else None},
    )
    params = {"number": case.number}
    if not grant:
        notify(recipients=_party_people(request), kind="case.recusal_refused", params=params, url=case_url(case))
        return request
    # Checks the roster rule (suspended, term ended ...) and raises before anything is kept.
    set_case_mediator(case, mediator=new_mediator, actor=actor, action="replace_mediator", data={"recusal": request.pk})
    named = {**params, "name": str(new_mediator)}
    notify(recipients=_party_people(request), kind="case.recusal_granted", params=named, url=case_url(case))
    notify(recipients=_other_people(request), kind="case.mediator_replaced", params=named, url=case_url(case))
    notify(recipients=[previous], kind="case.mediator_removed", params=params)
    return request
