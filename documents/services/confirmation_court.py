"""Judicial confirmation, the court's side (司法确认): the judge's queue and its
assignment, accepting the application with a case number of its own (民特) or not,
the judge's review, the one extension, the ruling (民事裁定书) drafted, signed by the
judge through the court documents layer, sealed and served on the parties, and the
deadline alerts. The parties' side (the application up to APPLIED) is
`documents.services.confirmation`.

Every function checks the application's state first, then who acts, changes it under
a row lock (the case first, as every change to a case takes its locks), writes a case
event and an audit entry and schedules the notices, in one transaction. A refusal
(`TransitionNotAllowed`, `ActionForbidden`, `ValidationError`) changes nothing.

The deadlines are the court's to meet: accepting or deciding late is allowed, and
recorded as late (`late` in the audit data), never a reason to lose the application.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from documents.models import Document
from documents.models.confirmation import (
    DECIDE_WITHIN_DAYS,
    MAX_EXTENSION_DAYS,
    ConfirmationReview,
    JudicialConfirmation,
)
from documents.models.court_documents import CourtDocument
from documents.services import webhook_events
from mediation import audit
from mediation.errors import ActionForbidden, DomainError, TransitionNotAllowed
from mediation.models import CaseEvent, MediationCase, MediationSession, Participant, User
from mediation.models.cases import RoomKind
from mediation.notifications import notify
from mediation.roles import Role, has_role
from mediation.services.cases import case_url, lock_case, record_case_event
from mediation.services.numbering import next_sequence_value
from mediation.working_calendar import local_zone

Status = JudicialConfirmation.Status
logger = logging.getLogger(__name__)

ACTION_LABELS = {
    "assign": gettext_lazy("Assign a judge"),
    "accept": gettext_lazy("Accept the application"),
    "decline": gettext_lazy("Decline to accept the application"),
    "review": gettext_lazy("Record a review"),
    "extend": gettext_lazy("Extend the time to decide"),
    "draft_ruling": gettext_lazy("Draft the ruling"),
    "rule": gettext_lazy("Seal the ruling"),
}

RULING_TEMPLATE = "documents/pdf/ruling.html"
# The fields of an agreement's draft the mediator writes (agreements.update_draft).
DRAFT_FIELDS = ("facts", "terms", "default_clause", "costs", "effectiveness", "judicial_confirmation")
JUDGE_SLOT = "judge"


# The rules: who is the application's judge, who heads its department ---------------------


def judge_id_of(confirmation: JudicialConfirmation) -> int | None:
    """The judge who accepts, reviews and decides: the one the department head assigned,
    else the case's judge."""
    return confirmation.judge_id or confirmation.case.judge_id


def is_judge_of(user: User, confirmation: JudicialConfirmation) -> bool:
    return bool(user.is_authenticated and has_role(user, Role.JUDGE) and judge_id_of(confirmation) == user.pk)


def departments_of(case: MediationCase) -> set[int]:
    """The departments an application belongs to: its case's mediator's and judge's."""
    ids = {case.mediator.department_id}
    if case.judge_id:
        ids.add(case.judge.department_id)
    return {pk for pk in ids if pk}


def heads_department_of(user: User, confirmation: JudicialConfirmation) -> bool:
    return bool(
        user.is_authenticated
        and has_role(user, Role.DEPARTMENT_HEAD)
        and user.department_id
        and user.department_id in departments_of(confirmation.case)
    )


def may_see_queue(user: User) -> bool:
    return bool(user.is_authenticated and (has_role(user, Role.JUDGE) or has_role(user, Role.DEPARTMENT_HEAD)))


def may_see_confirmation(user: User, confirmation: JudicialConfirmation) -> bool:
    """The court's page of an application: its judge and its department's head."""
    return is_judge_of(user, confirmation) or heads_department_of(user, confirmation)


def queue_for(user: User) -> QuerySet[JudicialConfirmation]:
    """The applications a user's queue lists: a judge's own waiting for acceptance or
    under review; for a department head, every application of the department (the
    case's mediator's or judge's). Mirrors `is_judge_of` and `heads_department_of`."""
    confirmations = JudicialConfirmation.objects.select_related(
        "case", "case__mediator", "case__judge", "judge", "ruling"
    ).exclude(status=Status.PREPARING)
    if not user.is_authenticated:
        return confirmations.none()
    visible = Q(pk__in=[])
    if has_role(user, Role.JUDGE):
        own = Q(judge=user) | Q(judge__isnull=True, case__judge=user)
        visible |= own & Q(status__in=[Status.APPLIED, Status.ACCEPTED])
    if has_role(user, Role.DEPARTMENT_HEAD) and user.department_id:
        visible |= Q(case__mediator__department_id=user.department_id) | Q(
            case__judge__department_id=user.department_id
        )
    return confirmations.filter(visible).order_by("accept_by", "decide_by", "pk")


def judges_to_assign(user: User) -> QuerySet[User]:
    """The judges a department head may assign: the active judges of their department."""
    if not user.department_id:
        return User.objects.none()
    return User.objects.filter(groups__name=Role.JUDGE, department_id=user.department_id, is_active=True).order_by(
        "full_name", "pk"
    )


def is_accept_overdue(confirmation: JudicialConfirmation, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return confirmation.status == Status.APPLIED and confirmation.accept_by is not None and confirmation.accept_by < now


def is_decide_overdue(confirmation: JudicialConfirmation, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        confirmation.status == Status.ACCEPTED and confirmation.decide_by is not None and confirmation.decide_by < today
    )


# Locks and checks ---------------------------------------------------------------------------


def confirmation_url(confirmation: JudicialConfirmation) -> str:
    return reverse("confirmation_detail", args=[confirmation.pk])


def _lock(confirmation: JudicialConfirmation) -> JudicialConfirmation:
    """The case, then the application (the order every change to a case takes)."""
    case = lock_case(confirmation.case)
    locked = JudicialConfirmation.objects.select_for_update().get(pk=confirmation.pk)
    locked.case = case
    return locked


def _check_state(confirmation: JudicialConfirmation, action: str) -> None:
    if not confirmation.allows(action):
        if confirmation.status == Status.APPLIED and action in ("review", "extend", "draft_ruling", "rule"):
            raise TransitionNotAllowed(
                _("Accept the application first: it gets its case number and the time to decide starts then."),
                code="not_accepted_yet",
            )
        raise TransitionNotAllowed(
            _("The application is “%(status)s”; “%(action)s” is not possible now.")
            % {"status": confirmation.get_status_display(), "action": ACTION_LABELS.get(action, action)}
        )


def _lock_for_judge(confirmation: JudicialConfirmation, actor: User, action: str) -> JudicialConfirmation:
    # Who first: nobody but the judge ever takes these actions, whatever the state.
    confirmation = _lock(confirmation)
    if not is_judge_of(actor, confirmation):
        raise ActionForbidden(_("Only the judge assigned to this application can do this."))
    _check_state(confirmation, action)
    return confirmation


def _record(
    confirmation: JudicialConfirmation, *, actor: User | None, action: str, from_status: str, note: str = "", **data
) -> None:
    """The case's timeline entry and the audit entry of the application's change."""
    data = {"confirmation": confirmation.pk, "from": from_status, "to": confirmation.status, **data}
    record_case_event(confirmation.case, actor=actor, action=f"confirmation.{action}", note=note, data=data)
    audit.record(actor=actor, action=f"confirmation.{action}", target=confirmation, data={"note": note, **data})


def _party_users(case: MediationCase) -> list[User]:
    return [p.user for p in Participant.active.filter(case=case).select_related("user").order_by("pk")]


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(local_zone()).date()


# Assignment, acceptance ---------------------------------------------------------------------


@transaction.atomic
def assign_judge(*, confirmation: JudicialConfirmation, actor: User, judge: User) -> JudicialConfirmation:
    """The department head assigns the application to a judge of the department, while
    it waits for acceptance or is under review."""
    confirmation = _lock(confirmation)
    if not heads_department_of(actor, confirmation):
        raise ActionForbidden(_("Only the head of the case's department assigns its applications to a judge."))
    _check_state(confirmation, "assign")
    if judge is None or not (
        judge.is_active and has_role(judge, Role.JUDGE) and judge.department_id == actor.department_id
    ):
        raise ValidationError({"judge": _("Choose a judge of your department.")})
    previous = judge_id_of(confirmation)
    confirmation.judge = judge
    confirmation.assigned_by = actor
    confirmation.save(update_fields=["judge", "assigned_by"])
    # The judge who decides the application becomes the case's judge: they question the
    # parties in the joint room, which holds the case's judge (mediation.participation),
    # and the rooms, pages and notices follow the one rule. The case event records who
    # the judge was.
    case = confirmation.case
    if case.judge_id != judge.pk:
        case.judge = judge
        case.save(update_fields=["judge", "updated_at"])
    _record(
        confirmation,
        actor=actor,
        action="assign",
        from_status=confirmation.status,
        judge=judge.pk,
        previous_judge=previous,
    )
    notify(
        recipients=[judge],
        kind="confirmation.assigned",
        params={"number": confirmation.case.number},
        url=confirmation_url(confirmation),
    )
    return confirmation


def next_confirmation_number(year: int) -> str:
    """The application's own case number: (2026)京0107民特N号, N counted per year."""
    value = next_sequence_value(f"minte-{year}")
    return f"({year}){settings.COURT_CODE}民特{value}号"


@transaction.atomic
def accept_confirmation(*, confirmation: JudicialConfirmation, actor: User) -> JudicialConfirmation:
    """The judge accepts the application: it gets its case number, and the time to
    decide (DECIDE_WITHIN_DAYS from the local date of acceptance) starts."""
    confirmation = _lock_for_judge(confirmation, actor, "accept")
    now = timezone.now()
    accepted_on = _local_date(now)
    late = confirmation.accept_by is not None and now > confirmation.accept_by
    from_status = confirmation.status
    confirmation.status = Status.ACCEPTED
    confirmation.judge = actor
    confirmation.accepted_at = now
    confirmation.case_number = next_confirmation_number(accepted_on.year)
    confirmation.decide_by = accepted_on + dt.timedelta(days=DECIDE_WITHIN_DAYS)
    confirmation.save(update_fields=["status", "judge", "accepted_at", "case_number", "decide_by"])
    _record(
        confirmation,
        actor=actor,
        action="accept",
        from_status=from_status,
        case_number=confirmation.case_number,
        decide_by=confirmation.decide_by.isoformat(),
        accept_by=confirmation.accept_by.isoformat() if confirmation.accept_by else None,
        late=late,
    )
    notify(
        recipients=_party_users(confirmation.case),
        kind="confirmation.accepted",
        params={"number": confirmation.case.number, "case_number": confirmation.case_number},
        url=case_url(confirmation.case),
    )
    return confirmation


@transaction.atomic
def decline_confirmation(*, confirmation: JudicialConfirmation, actor: User, reason: str) -> JudicialConfirmation:
    """The judge declines to accept the application, with the reason: final."""
    confirmation = _lock_for_judge(confirmation, actor, "decline")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the application is not accepted.")})
    now = timezone.now()
    late = confirmation.accept_by is not None and now > confirmation.accept_by
    from_status = confirmation.status
    confirmation.status = Status.NOT_ACCEPTED
    confirmation.judge = actor
    confirmation.decline_reason = reason
    # Not a decision on the agreement (decided_at is the ruling's): the audit entry
    # and the case's timeline keep when it was declined.
    confirmation.save(update_fields=["status", "judge", "decline_reason"])
    _record(confirmation, actor=actor, action="decline", from_status=from_status, note=reason, late=late)
    notify(
        recipients=_party_users(confirmation.case),
        kind="confirmation.not_accepted",
        params={"number": confirmation.case.number},
        url=case_url(confirmation.case),
    )
    return confirmation


# Review and extension -----------------------------------------------------------------------


def _room_opened_for_review(confirmation: JudicialConfirmation) -> bool:
    return CaseEvent.objects.filter(
        case_id=confirmation.case_id, action="confirmation.review_started", data__confirmation=confirmation.pk
    ).exists()


@transaction.atomic
def record_review(
    *,
    confirmation: JudicialConfirmation,
    actor: User,
    kind: str,
    held_at: dt.datetime,
    note: str,
    session: MediationSession | None = None,
) -> ConfirmationReview:
    """The judge records what they did to review the application and what they found."""
    confirmation = _lock_for_judge(confirmation, actor, "review")
    note = (note or "").strip()
    errors = {}
    if kind not in ConfirmationReview.Kind.values:
        errors["kind"] = _("Choose how the application was reviewed.")
    if held_at is None or held_at > timezone.now() + dt.timedelta(minutes=5):
        errors["held_at"] = _("Record a review that has taken place.")
    elif confirmation.applied_at is not None and held_at < confirmation.applied_at.replace(second=0, microsecond=0):
        # To the minute, as the form gives the time: a review recorded in the minute
        # the application arrived is not "before" it.
        errors["held_at"] = _("A review takes place after the application was made.")
    if not note:
        errors["note"] = _("Record what the review found.")
    if kind == ConfirmationReview.Kind.SESSION:
        if session is None or session.case_id != confirmation.case_id:
            errors["session"] = _("Choose a session of this case.")
    elif session is not None:
        errors["session"] = _("A session goes with a review held in a session.")
    if kind == ConfirmationReview.Kind.ROOM and not _room_opened_for_review(confirmation):
        # The record says the parties were questioned in the joint room: only once
        # the judge opened it for that (start_review_in_room).
        errors["kind"] = _("Open the joint room for your questions before recording a review held there.")
    if errors:
        raise ValidationError(errors)
    review = ConfirmationReview.objects.create(
        confirmation=confirmation, kind=kind, session=session, held_at=held_at, note=note, recorded_by=actor
    )
    _record(
        confirmation,
        actor=actor,
        action="review",
        from_status=confirmation.status,
        note=note,
        review=review.pk,
        kind=kind,
        session=session.pk if session else None,
        held_at=held_at.isoformat(),
    )
    return review


@transaction.atomic
def start_review_in_room(*, confirmation: JudicialConfirmation, actor: User):
    """The judge reopens the joint room to question the parties (the draft layer's
    `reopen_for_follow_up`, reason "judicial_review") and the room says a judicial
    review has started."""
    from rooms.models import Room
    from rooms.services import post_case_event, reopen_for_follow_up

    confirmation = _lock_for_judge(confirmation, actor, "review")
    room = Room.objects.get(case=confirmation.case, kind=RoomKind.JOINT)
    if room.closed_at is not None or room.closes_at is not None:
        room = reopen_for_follow_up(room=room, actor=actor, reason="judicial_review")
    post_case_event(
        case=confirmation.case,
        kind="confirmation.review_started",
        actor=actor,
        data={"case_number": confirmation.case_number},
    )
    _record(confirmation, actor=actor, action="review_started", from_status=confirmation.status, room=room.pk)
    return room


@transaction.atomic
def schedule_review_session(
    *,
    confirmation: JudicialConfirmation,
    actor: User,
    starts_at: dt.datetime,
    duration_minutes: int = 60,
    note: str = "",
) -> MediationSession:
    """The judge schedules a session in the joint room to question the parties (the
    sessions service, under the reviewing judge's rule `schedule_review`)."""
    from mediation.services.sessions import schedule_session

    confirmation = _lock_for_judge(confirmation, actor, "review")
    return schedule_session(
        case=confirmation.case,
        actor=actor,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        room_kind=RoomKind.JOINT,
        note=note,
    )


@transaction.atomic
def extend_decision(*, confirmation: JudicialConfirmation, actor: User, days: int, reason: str) -> JudicialConfirmation:
    """The judge extends the time to decide, once, by 1..MAX_EXTENSION_DAYS days, with
    the reason."""
    confirmation = _lock_for_judge(confirmation, actor, "extend")
    if confirmation.extension_days:
        raise TransitionNotAllowed(
            _("The time to decide was already extended once; it cannot be extended again."), code="extended_once"
        )
    reason = (reason or "").strip()
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = _("Extend by 1 to %(max)s days.") % {"max": MAX_EXTENSION_DAYS}
    if not reason:
        errors["reason"] = _("Say why the time to decide is extended.")
    if errors:
        raise ValidationError(errors)
    previous = confirmation.decide_by
    confirmation.decide_by = previous + dt.timedelta(days=days)
    confirmation.extension_days = days
    confirmation.extension_reason = reason
    confirmation.extended_by = actor
    confirmation.extended_at = timezone.now()
    confirmation.save(update_fields=["decide_by", "extension_days", "extension_reason", "extended_by", "extended_at"])
    _record(
        confirmation,
        actor=actor,
        action="extend",
        from_status=confirmation.status,
        note=reason,
        days=days,
        previous=previous.isoformat(),
        new=confirmation.decide_by.isoformat(),
    )
    return confirmation


# The ruling ---------------------------------------------------------------------------------


def ruling_content(confirmation: JudicialConfirmation, *, judge: User, decision: str, ground: str, note: str) -> dict:
    """What the ruling says, as codes and parameters (the template words them in the
    document's language): the applicants as the application names them (the sealed
    agreement's parties), the history, the decision and its ground."""
    agreement = confirmation.agreement
    version = agreement.current_version
    # As the application names them; else as the sealed agreement fixed them.
    parties = (confirmation.application.content or {}).get("parties") if confirmation.application_id else None
    if not parties:
        parties = (version.content or {}).get("parties", []) if version else []
    applicants = [
        {
            "side": party.get("side", ""),
            "kind": party.get("kind", ""),
            "name": party.get("name", ""),
            "id_number_masked": party.get("id_number_masked", ""),
            "credit_code": party.get("credit_code", ""),
            "legal_representative": party.get("legal_representative", ""),
            "address": party.get("address", ""),
            "participants": party.get("participants", []),
        }
        for party in parties
    ]
    return {
        "kind": CourtDocument.Kind.RULING,
        "court": settings.COURT_NAME,
        "case_number": confirmation.case_number,
        "mediation_case_number": confirmation.case.number,
        "applicants": applicants,
        "applied_on": _local_date(confirmation.applied_at).isoformat() if confirmation.applied_at else "",
        "accepted_on": _local_date(confirmation.accepted_at).isoformat() if confirmation.accepted_at else "",
        "agreement": agreement.pk,
        "agreement_verification_code": agreement.verification_code,
        "agreement_sealed_on": _local_date(agreement.sealed_at).isoformat() if agreement.sealed_at else "",
        "decision": decision,
        "ground": ground,
        "note": note,
        "judge": {"id": judge.pk, "name": str(judge)},
        "date": timezone.localdate().isoformat(),
    }


def _ruling_context(content: dict) -> dict:
    """The template's words for the content's codes, in the document's language."""
    with translation.override(settings.DOCUMENT_LANGUAGE):
        ground = str(JudicialConfirmation.Ground(content["ground"]).label) if content["ground"] else ""
    names = "、".join(applicant["name"] for applicant in content["applicants"])
    return {"content": content, "ground_label": ground, "applicant_names": names}


@transaction.atomic
def draft_ruling(
    *, confirmation: JudicialConfirmation, actor: User, decision: str, ground: str = "", note: str = ""
) -> CourtDocument:
    """The judge decides (confirm, or reject with a ground and their reasons) and the
    ruling is laid out for the judge's signature. A ruling drafted earlier and not
    signed is void: only the last draft can be signed. Its sealing (`ruling_sealed`)
    decides the application."""
    confirmation = _lock_for_judge(confirmation, actor, "draft_ruling")
    note = (note or "").strip()
    errors = {}
    if decision not in JudicialConfirmation.Decision.values:
        errors["decision"] = _("Choose to confirm the agreement or to reject the application.")
    elif decision == JudicialConfirmation.Decision.REJECT:
        if ground not in JudicialConfirmation.Ground.values:
            errors["ground"] = _("Choose the ground for rejecting the application.")
        if not note:
            errors["note"] = _("Give your reasons for rejecting the application; the ruling prints them.")
    if errors:
        raise ValidationError(errors)
    if decision == JudicialConfirmation.Decision.CONFIRM:
        ground = ""
    from documents.services.court_documents import prepare_court_document, void_court_document

    voided = None
    if confirmation.ruling_id:
        previous = confirmation.ruling
        if previous.is_sealed:
            raise TransitionNotAllowed(_("The ruling is already sealed."))
        void_court_document(document=previous, actor=actor, reason="ruling_redrafted")
        voided = previous.pk
    content = ruling_content(confirmation, judge=actor, decision=decision, ground=ground, note=note)
    ruling = prepare_court_document(
        case=confirmation.case,
        kind=CourtDocument.Kind.RULING,
        template=RULING_TEMPLATE,
        context=_ruling_context(content),
        content=content,
        slots=[{"slot": JUDGE_SLOT, "role": "judge", "user": actor.pk, "name": str(actor)}],
        actor=actor,
    )
    confirmation.ruling = ruling
    confirmation.decision = decision
    confirmation.rejection_ground = ground
    confirmation.rejection_note = note if decision == JudicialConfirmation.Decision.REJECT else ""
    confirmation.save(update_fields=["ruling", "decision", "rejection_ground", "rejection_note"])
    _record(
        confirmation,
        actor=actor,
        action="draft_ruling",
        from_status=confirmation.status,
        ruling=ruling.pk,
        decision=decision,
        ground=ground,
        voided=voided,
    )
    return ruling


def ruling_title(confirmation: JudicialConfirmation) -> str:
    with translation.override(settings.DOCUMENT_LANGUAGE):
        return _("Civil ruling %(number)s") % {"number": confirmation.case_number}


def ruling_signing_refusal(document: CourtDocument) -> DomainError | None:
    """The ruling is signed only while its application can still be decided (not
    withdrawn) and by the judge it is now assigned to: a draft of a judge since
    replaced, or of an application withdrawn, is signed by nobody (the layer's
    `signing_refusal("ruling")`, which the sign page, the to-do list and the service ask)."""
    confirmation = JudicialConfirmation.objects.select_related("case").filter(ruling=document).first()
    if confirmation is None:
        return None
    if not confirmation.allows("rule"):
        return TransitionNotAllowed(
            _("The application is “%(status)s”; “%(action)s” is not possible now.")
            % {"status": confirmation.get_status_display(), "action": ACTION_LABELS.get("rule", "rule")}
        )
    judge_id = judge_id_of(confirmation)
    if any(entry.get("user") != judge_id for entry in document.signature_slots):
        return TransitionNotAllowed(
            _("The application was assigned to another judge; this ruling can no longer be signed.")
        )
    return None


def ruling_sealed(document: CourtDocument) -> JudicialConfirmation | None:
    """The judge's signature sealed the ruling (the layer's `on_sealed("ruling")`, in
    its transaction): the application is decided as the ruling says, the sealed ruling
    joins the case's documents and is served electronically on every participant who
    consented to electronic service, the parties are told, and the case, the audit
    trail and the joint room record it. Deciding after `decide_by` is recorded late."""
    from documents import selectors
    from documents.services.serving import serve_electronically
    from rooms.services import post_case_event

    case = lock_case(document.case)
    confirmation = JudicialConfirmation.objects.select_for_update().filter(ruling=document).first()
    if confirmation is None:
        # A ruling no application points to (laid out by hand, or by the layer's own
        # tests) decides nothing; the seal stands.
        logger.error("Ruling %s was sealed but no application for judicial confirmation has it", document.pk)
        return None
    confirmation.case = case
    _check_state(confirmation, "rule")
    judge = User.objects.get(pk=judge_id_of(confirmation))
    now = timezone.now()
    late = confirmation.decide_by is not None and _local_date(now) > confirmation.decide_by
    from_status = confirmation.status
    confirmation.status = (
        Status.CONFIRMED if confirmation.decision == JudicialConfirmation.Decision.CONFIRM else Status.REJECTED
    )
    confirmation.decided_at = now
    confirmation.save(update_fields=["status", "decided_at"])
    webhook_events.confirmation_decided(confirmation)
    title = ruling_title(confirmation)
    ruling_document = Document.objects.create(
        case=case,
        kind=Document.Kind.RULING,
        title=title,
        original_name=f"{title}.pdf",
        blob=document.sealed_blob,
        visibility=Document.Visibility.CASE,
        uploaded_by=judge,
    )
    served, unserved = [], []
    for participant in Participant.active.filter(case=case).select_related("user").order_by("pk"):
        if selectors.consent_of(case, participant.user) is None:
            unserved.append(participant.user_id)
            continue
        service = serve_electronically(case=case, actor=judge, recipient=participant.user, documents=[ruling_document])
        served.append(service.pk)
    _record(
        confirmation,
        actor=judge,
        action="rule",
        from_status=from_status,
        ruling=document.pk,
        document=ruling_document.pk,
        decision=confirmation.decision,
        ground=confirmation.rejection_ground,
        services=served,
        not_served=unserved,
        late=late,
    )
    notify(
        recipients=_party_users(case),
        kind="confirmation.ruling_arrived",
        params={"number": case.number},
        url=case_url(case),
    )
    if unserved:
        # Without consent to electronic service, the judge serves them by other means.
        notify(
            recipients=[judge],
            kind="confirmation.serve_by_other_means",
            params={"number": case.number, "count": len(unserved)},
            url=reverse("case_documents", args=[case.pk]),
        )
    post_case_event(
        case=case,
        kind="confirmation.ruled",
        actor=judge,
        data={
            "case_number": confirmation.case_number,
            "decision": confirmation.decision,
            "verification_code": document.verification_code,
        },
    )
    return confirmation


# Deadline alerts ----------------------------------------------------------------------------


def _department_heads(case: MediationCase) -> list[User]:
    return list(
        User.objects.filter(
            groups__name=Role.DEPARTMENT_HEAD, department_id__in=departments_of(case), is_active=True
        ).distinct()
    )


def _alert_once(confirmation_id: int, label: str, kind: str, still_due) -> bool:
    with transaction.atomic():
        confirmation = JudicialConfirmation.objects.select_for_update().select_related("case").get(pk=confirmation_id)
        if label in confirmation.reminders_sent or not still_due(confirmation):
            return False
        confirmation.reminders_sent = [*confirmation.reminders_sent, label]
        confirmation.save(update_fields=["reminders_sent"])
        judge_id = judge_id_of(confirmation)
        judges = list(User.objects.filter(pk=judge_id)) if judge_id else []
        notify(
            recipients=judges + _department_heads(confirmation.case),
            kind=kind,
            params={"number": confirmation.case.number, "case_number": confirmation.case_number},
            url=confirmation_url(confirmation),
        )
        audit.record(
            actor=None, action=f"confirmation.{label}", target=confirmation, data={"case": confirmation.case_id}
        )
        return True


def alert_confirmation_deadlines(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Tell the judge and the department head, once each, when an application was not
    accepted by `accept_by` and when one accepted has no sealed ruling by `decide_by`.
    Idempotent (`reminders_sent`): run it every few minutes."""
    now = now or timezone.now()
    today = _local_date(now)
    report = {"accept_overdue": 0, "decide_overdue": 0}
    waiting = JudicialConfirmation.objects.filter(status=Status.APPLIED, accept_by__lt=now)
    for pk in waiting.values_list("pk", flat=True):
        report["accept_overdue"] += _alert_once(
            pk, "accept_overdue", "confirmation.accept_overdue", lambda c: is_accept_overdue(c, now)
        )
    deciding = JudicialConfirmation.objects.filter(status=Status.ACCEPTED, decide_by__lt=today)
    for pk in deciding.values_list("pk", flat=True):
        report["decide_overdue"] += _alert_once(
            pk, "decide_overdue", "confirmation.decide_overdue", lambda c: is_decide_overdue(c, today)
        )
    return report


# After a rejection --------------------------------------------------------------------------


@transaction.atomic
def resume_mediation_after_rejection(*, case: MediationCase, actor: User):
    """The court rejected the application: the mediator takes the case back into
    mediation to amend the agreement. The case goes back to in mediation (refused
    otherwise: `MediationCase.court_rejected_settlement`), its rooms reopen, and a new
    agreement is drafted from the sealed one's content, to be signed again. Returns the
    new agreement."""
    from documents.services import agreements
    from mediation.services.cases import resume_mediation
    from rooms.models import Room
    from rooms.services import post_event

    case = resume_mediation(case=case, actor=actor)
    for room in Room.objects.select_for_update().filter(case=case).order_by("pk"):
        if room.closed_at is None and room.closes_at is None:
            continue
        room.closed_at = None
        room.closed_by = None
        room.closes_at = None
        room.save(update_fields=["closed_at", "closed_by", "closes_at"])
        # The case is open again: a room reopened with it has no follow-up reason.
        post_event(room=room, kind="room.reopened", actor=actor, data={"reason": None})
        audit.record(
            actor=actor, action="room.reopen", target=room, data={"case": case.pk, "reason": "confirmation_rejected"}
        )
    sealed = case.agreements.filter(status="sealed").select_related("current_version").order_by("-sealed_at").first()
    agreement = agreements.start_agreement(case=case, actor=actor)
    if sealed is not None and sealed.current_version is not None:
        # The sealed version's drafted content, as it was checked then; the mediator
        # amends it and locks it for new signatures (locking takes the parties anew).
        version = agreement.current_version
        version.content = {
            field: sealed.current_version.content[field]
            for field in DRAFT_FIELDS
            if field in sealed.current_version.content
        }
        version.save(update_fields=["content"])
        audit.record(
            actor=actor,
            action="agreement.start_from_sealed",
            target=agreement,
            data={"case": case.pk, "sealed": sealed.pk, "version": version.number},
        )
    return agreement


def latest_confirmation(case: MediationCase) -> JudicialConfirmation | None:
    return case.confirmations.select_related("ruling", "judge").order_by("-created_at", "-id").first()


def case_panel(case: MediationCase, user: User) -> dict | None:
    """What the case page shows of the court's side: the application's status and
    number, the ruling once sealed, the judge's link to their page, and after a
    rejection the two ways on (mediate again, go to court) with who may take them
    (the same rules the services check)."""
    from mediation import policy

    confirmation = latest_confirmation(case)
    if confirmation is None or confirmation.status == Status.PREPARING:
        return None
    ruling = confirmation.ruling if confirmation.ruling_id and confirmation.ruling.is_sealed else None
    # The ways on are offered while the case stands settled (not once mediation resumed
    # or the dispute went to court).
    rejected = (
        case.status == MediationCase.Status.SETTLED and not case.filed_case_number and case.court_rejected_settlement()
    )
    return {
        "confirmation": confirmation,
        "ruling": ruling,
        "court_page": may_see_confirmation(user, confirmation),
        "rejected": rejected,
        "may_resume": rejected and case.allows("resume") and policy.can_on_case(user, "resume", case),
        "may_file": rejected
        and case.allows("transfer_to_filing")
        and policy.can_on_case(user, "transfer_to_filing", case),
    }


def ruling_reading(document: CourtDocument) -> dict:
    """What a ruling says, in the active language, for its sign page."""
    content = document.content
    decision = content.get("decision", "")
    ground = content.get("ground", "")
    return {
        "case_number": content.get("case_number", ""),
        "decision": str(JudicialConfirmation.Decision(decision).label)
        if decision in JudicialConfirmation.Decision.values
        else "",
        "ground": str(JudicialConfirmation.Ground(ground).label)
        if ground in JudicialConfirmation.Ground.values
        else "",
        "note": content.get("note", ""),
        "judge": (content.get("judge") or {}).get("name", ""),
    }
