"""Judicial confirmation of a sealed settlement agreement (司法确认).

Applying (this section): the parties' joint application (司法确认申请书) is laid out
through the court documents layer, signed by every party, and once sealed it is in
the judge's queue (APPLIED), to be accepted within ACCEPT_WITHIN_WORKING_DAYS working
days. It must be made within APPLY_WITHIN_DAYS of the agreement taking effect: the
parties are reminded before the window closes, and an application still unsigned
after it lapses (`remind_confirmation_windows`).

The court's side (acceptance, review, the ruling) follows in its own section.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.agreement_rendering import application_reading, confirmation_application_context
from documents.agreement_rules import signing_authority_refusal
from documents.models import Agreement, CourtDocument, JudicialConfirmation
from documents.models.confirmation import ACCEPT_WITHIN_WORKING_DAYS, APPLY_REMINDER_DAYS, APPLY_WITHIN_DAYS
from documents.services import court_documents
from documents.services.agreement_content import parties_snapshot
from mediation import audit
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import CaseEvent, MediationCase, Participant, User
from mediation.notifications import notify
from mediation.roles import Role
from mediation.services.cases import lock_case, record_case_event
from mediation.working_calendar import WorkingCalendar
from rooms.services import post_case_event

logger = logging.getLogger(__name__)

Status = JudicialConfirmation.Status
APPLICATION_TEMPLATE = "documents/pdf/confirmation_application.html"


# Applying ------------------------------------------------------------------------------------


def apply_by_of(agreement: Agreement) -> dt.date:
    """The last day to apply (included): APPLY_WITHIN_DAYS after the local date the
    agreement was sealed, on which it took effect."""
    return timezone.localdate(agreement.sealed_at) + dt.timedelta(days=APPLY_WITHIN_DAYS)


def days_left_to_apply(apply_by: dt.date, today: dt.date | None = None) -> int:
    """Whole days from today to the last day to apply: 0 on the last day itself,
    negative once it has passed."""
    return (apply_by - (today or timezone.localdate())).days


def window_closed(apply_by: dt.date, today: dt.date | None = None) -> bool:
    return days_left_to_apply(apply_by, today) < 0


def confirmation_url(confirmation: JudicialConfirmation) -> str:
    return reverse("case_detail", args=[confirmation.case_id]) + "#confirmation-heading"


def acting_participant(case: MediationCase, user: User) -> Participant | None:
    """The user's participation for a party of the case by which they may act for it
    in the confirmation (apply, sign, withdraw): in person, as its legal
    representative, or as an agent with special authority (`signing_authority_refusal`)."""
    for participant in Participant.active.filter(case=case, user=user).select_related("party"):
        if signing_authority_refusal(participant) is None:
            return participant
    return None


def application_refusal(agreement: Agreement, user: User) -> Exception | None:
    """Why `user` may not start the application for judicial confirmation of
    `agreement` now, or None if they may: the one rule the service and the case page
    ask. The case's mediator or a party's participant who may act for it; the
    agreement sealed; the window to apply open; no live or decided application."""
    case = agreement.case
    if case.mediator_id != user.pk:
        participant = Participant.active.filter(case=case, user=user).select_related("party").first()
        if participant is None:
            return ActionForbidden(_("Only the parties and the case's mediator can apply for judicial confirmation."))
        if acting_participant(case, user) is None:
            return signing_authority_refusal(participant)
    if not agreement.is_sealed:
        return TransitionNotAllowed(_("Only a sealed agreement can be confirmed by the court."))
    if window_closed(apply_by_of(agreement)):
        return TransitionNotAllowed(_("The 30 days to apply have passed."), code="window_closed")
    if agreement.confirmations.exclude(status__in=[Status.NOT_ACCEPTED, Status.WITHDRAWN, Status.LAPSED]).exists():
        return TransitionNotAllowed(
            _("An application for judicial confirmation of this agreement has already been made."), code="exists"
        )
    return None


def _record(confirmation: JudicialConfirmation, actor: User | None, verb: str, *, note: str = "", **data) -> None:
    """A step of the confirmation: in its audit trail and on the case's timeline (the
    caller posts it in the rooms, `_room_data`)."""
    audit.record(
        actor=actor,
        action=f"judicial_confirmation.{verb}",
        target=confirmation,
        data={"case": confirmation.case_id, "status": confirmation.status, **data},
    )
    record_case_event(
        confirmation.case,
        actor=actor,
        action=f"confirmation_{verb}",
        note=note,
        data={"confirmation": confirmation.pk, **data},
    )


def _room_data(confirmation: JudicialConfirmation) -> dict:
    return {"confirmation": confirmation.pk, "status": confirmation.status}


def application_slots(case: MediationCase) -> list[dict]:
    """A signature place per party: every party applies."""
    return [
        {"slot": f"party-{party.pk}", "role": "party", "party": party.pk, "side": party.side, "name": party.name}
        for party in case.parties.all()
    ]


def application_content(agreement: Agreement, apply_by: dt.date) -> dict:
    """What the application says, as codes and parameters: the applicants as they
    stand, the agreement (its code, its sealing, its terms as agreed), the mediation,
    the court addressed."""
    case = agreement.case
    version = agreement.current_version
    return {
        "case_number": case.number,
        "cause_of_action": case.cause_of_action,
        "parties": parties_snapshot(case),
        "agreement": {
            "id": agreement.pk,
            "verification_code": agreement.verification_code,
            "sealed_on": timezone.localdate(agreement.sealed_at).isoformat(),
            "sha256": agreement.sealed_blob_id,
        },
        "agreement_parties": [{"id": p["id"], "name": p["name"]} for p in version.content.get("parties", [])],
        "terms": version.content.get("terms", []),
        "default_clause": version.content.get("default_clause") or {},
        "mediator": str(case.mediator),
        "mediation_organisation": settings.COURT_NAME,
        "court": settings.COURT_NAME,
        "apply_by": apply_by.isoformat(),
    }


@transaction.atomic
def apply_for_confirmation(*, agreement: Agreement, actor: User) -> JudicialConfirmation:
    """Start the parties' joint application for judicial confirmation of a sealed
    agreement: the application laid out for every party to sign, the case's judge to
    decide it. Refused to anyone outside the case (or an agent without special
    authority), for an agreement not sealed, once the 30 days have passed, and when an
    application is live or decided."""
    case = lock_case(agreement.case)
    agreement = Agreement.objects.select_related("case", "current_version").get(pk=agreement.pk)
    refusal = application_refusal(agreement, actor)
    if refusal is not None:
        raise refusal
    apply_by = apply_by_of(agreement)
    try:
        with transaction.atomic():
            confirmation = JudicialConfirmation.objects.create(
                case=case, agreement=agreement, judge=case.judge, started_by=actor, apply_by=apply_by
            )
    except IntegrityError:
        raise TransitionNotAllowed(
            _("An application for judicial confirmation of this agreement has already been made."), code="exists"
        ) from None
    content = application_content(agreement, apply_by)
    document = court_documents.prepare_court_document(
        case=case,
        kind=CourtDocument.Kind.CONFIRMATION_APPLICATION,
        template=APPLICATION_TEMPLATE,
        context=confirmation_application_context(content),
        content=content,
        slots=application_slots(case),
        actor=actor,
    )
    confirmation.application = document
    confirmation.save(update_fields=["application"])
    _record(confirmation, actor, "start", agreement=agreement.pk, apply_by=apply_by.isoformat())
    post_case_event(case=case, kind="confirmation.started", actor=actor, data=_room_data(confirmation))
    notify(
        recipients=[p.user for p in Participant.active.filter(case=case).select_related("user")],
        kind="confirmation.sign_application",
        params={"number": case.number, "due": apply_by.isoformat()},
        url=court_documents.court_document_url(document),
    )
    return confirmation


court_documents.register_reading(
    CourtDocument.Kind.CONFIRMATION_APPLICATION,
    "documents/_confirmation_application_reading.html",
    lambda document: application_reading(document.content),
)


def _confirmation_of(document: CourtDocument, *, lock: bool = False) -> JudicialConfirmation | None:
    confirmations = JudicialConfirmation.objects.select_related("case")
    if lock:
        confirmations = confirmations.select_for_update(of=("self",))
    return confirmations.filter(application=document).first()


@court_documents.signing_refusal(CourtDocument.Kind.CONFIRMATION_APPLICATION)
def application_signing_refusal(document: CourtDocument):
    """The application is signed while it is being prepared and the window is open."""
    confirmation = _confirmation_of(document)
    if confirmation is None:
        return None
    if not confirmation.allows("sign_application"):
        return TransitionNotAllowed(_("This application is no longer being signed."))
    if window_closed(confirmation.apply_by):
        return TransitionNotAllowed(_("The 30 days to apply have passed."), code="window_closed")
    return None


def accept_by_from(arrived_at: dt.datetime, calendar: WorkingCalendar | None = None) -> dt.datetime:
    """The end of the ACCEPT_WITHIN_WORKING_DAYS-th working day after the application
    arrived: the clock starts the next day, as the desk's does."""
    calendar = calendar or WorkingCalendar.load()
    return calendar.add_working_days(calendar.next_day_start(arrived_at), ACCEPT_WITHIN_WORKING_DAYS)


def department_heads_for(case: MediationCase) -> list[User]:
    """Who assigns a judge when the case has none: the heads of the judge's
    department, else of the mediator's."""
    department_id = (case.judge.department_id if case.judge_id else None) or case.mediator.department_id
    if department_id is None:
        return []
    return list(User.objects.filter(department_id=department_id, groups__name=Role.DEPARTMENT_HEAD, is_active=True))


@court_documents.on_sealed(CourtDocument.Kind.CONFIRMATION_APPLICATION)
def application_sealed(document: CourtDocument) -> None:
    """Every party has signed: the application is made, in the judge's queue, with the
    time to accept it running."""
    confirmation = _confirmation_of(document, lock=True)
    if confirmation is None:
        logger.warning("Sealed application %s belongs to no judicial confirmation", document.pk)
        return
    if not confirmation.allows("apply"):
        raise TransitionNotAllowed(_("This application is no longer being signed."))
    now = timezone.now()
    confirmation.status = Status.APPLIED
    confirmation.applied_at = now
    confirmation.accept_by = accept_by_from(now)
    confirmation.save(update_fields=["status", "applied_at", "accept_by"])
    _record(
        confirmation,
        None,
        "apply",
        application=document.pk,
        verification_code=document.verification_code,
        accept_by=confirmation.accept_by.isoformat(),
    )
    post_case_event(case=confirmation.case, kind="confirmation.applied", data=_room_data(confirmation))
    case = confirmation.case
    recipients = [confirmation.judge] if confirmation.judge_id else department_heads_for(case)
    notify(
        recipients=recipients,
        kind="confirmation.applied",
        params={"number": case.number},
        url=reverse("case_detail", args=[case.pk]),
    )
    notify(
        recipients=[p.user for p in Participant.active.filter(case=case).select_related("user")] + [case.mediator],
        kind="confirmation.application_made",
        params={"number": case.number},
        url=confirmation_url(confirmation),
    )


def withdrawal_refusal(confirmation: JudicialConfirmation, user: User) -> Exception | None:
    """Why `user` may not withdraw the application now, or None: a party's
    participant who may act for it, before the ruling."""
    if acting_participant(confirmation.case, user) is None:
        return ActionForbidden(_("Only a party can withdraw the application for judicial confirmation."))
    if not confirmation.allows("withdraw"):
        return TransitionNotAllowed(_("This application can no longer be withdrawn."))
    return None


@transaction.atomic
def withdraw_confirmation(*, confirmation: JudicialConfirmation, actor: User, reason: str) -> JudicialConfirmation:
    """A party withdraws the application before the ruling, saying why: final; an
    application still being signed is signed no further."""
    lock_case(confirmation.case)
    confirmation = (
        JudicialConfirmation.objects.select_for_update(of=("self",)).select_related("case").get(pk=confirmation.pk)
    )
    refusal = withdrawal_refusal(confirmation, actor)
    if refusal is not None:
        raise refusal
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the application is withdrawn.")})
    was = confirmation.status
    confirmation.status = Status.WITHDRAWN
    confirmation.withdrawn_at = timezone.now()
    confirmation.save(update_fields=["status", "withdrawn_at"])
    if confirmation.application_id and confirmation.application.allows("void"):
        court_documents.void_court_document(document=confirmation.application, actor=actor, reason="withdrawn")
    _record(confirmation, actor, "withdraw", note=reason, previous=was)
    post_case_event(case=confirmation.case, kind="confirmation.withdrawn", actor=actor, data=_room_data(confirmation))
    case = confirmation.case
    recipients = [p.user for p in Participant.active.filter(case=case).select_related("user")] + [case.mediator]
    if was != Status.PREPARING and confirmation.judge_id:
        recipients.append(confirmation.judge)
    notify(
        recipients=[user for user in recipients if user.pk != actor.pk],
        kind="confirmation.withdrawn",
        params={"number": case.number, "name": str(actor)},
        url=confirmation_url(confirmation),
    )
    return confirmation


# The window to apply, on the clock -------------------------------------------------------------


def _reminders_due(days_left: int, sent: set[str]) -> list[str]:
    """The reminders `days_left` has reached that have not gone: the keys "apply_7",
    "apply_1" (APPLY_REMINDER_DAYS)."""
    return [f"apply_{days}" for days in APPLY_REMINDER_DAYS if days_left <= days and f"apply_{days}" not in sent]


def _remind(case: MediationCase, apply_by: dt.date, days_left: int) -> None:
    notify(
        recipients=[p.user for p in Participant.active.filter(case=case).select_related("user")],
        kind="confirmation.apply_reminder",
        params={"number": case.number, "days": days_left, "due": apply_by.isoformat()},
        url=reverse("case_detail", args=[case.pk]) + "#confirmation-heading",
    )


@transaction.atomic
def _remind_application(confirmation_id: int, today: dt.date) -> str | None:
    confirmation = JudicialConfirmation.objects.select_related("case").get(pk=confirmation_id)
    lock_case(confirmation.case)
    confirmation = (
        JudicialConfirmation.objects.select_for_update(of=("self",)).select_related("case").get(pk=confirmation_id)
    )
    if confirmation.status != Status.PREPARING:
        return None
    days_left = days_left_to_apply(confirmation.apply_by, today)
    if days_left < 0:
        confirmation.status = Status.LAPSED
        confirmation.save(update_fields=["status"])
        if confirmation.application_id and confirmation.application.allows("void"):
            court_documents.void_court_document(document=confirmation.application, actor=None, reason="lapsed")
        _record(confirmation, None, "lapse", apply_by=confirmation.apply_by.isoformat())
        post_case_event(case=confirmation.case, kind="confirmation.lapsed", data=_room_data(confirmation))
        notify(
            recipients=[p.user for p in Participant.active.filter(case=confirmation.case).select_related("user")]
            + [confirmation.case.mediator],
            kind="confirmation.lapsed",
            params={"number": confirmation.case.number},
            url=confirmation_url(confirmation),
        )
        return "lapsed"
    due = _reminders_due(days_left, set(confirmation.reminders_sent))
    if not due:
        return None
    confirmation.reminders_sent = [*confirmation.reminders_sent, *due]
    confirmation.save(update_fields=["reminders_sent"])
    _remind(confirmation.case, confirmation.apply_by, days_left)
    _record(confirmation, None, "reminder", reminders=due, days_left=days_left)
    post_case_event(case=confirmation.case, kind="confirmation.reminded", data=_room_data(confirmation))
    return "reminded"


@transaction.atomic
def _remind_agreement(agreement_id: int, today: dt.date) -> bool:
    """A sealed agreement whose parties said they would apply, with no application
    yet: its reminders are recorded as case events ("confirmation_reminder" with the
    agreement and the reminder's key), each sent once."""
    agreement = Agreement.objects.select_related("case").get(pk=agreement_id)
    case = lock_case(agreement.case)
    if agreement.confirmations.exists():
        return False
    apply_by = apply_by_of(agreement)
    days_left = days_left_to_apply(apply_by, today)
    if days_left < 0:
        return False
    sent = set(
        CaseEvent.objects.filter(case=case, action="confirmation_reminder", data__agreement=agreement.pk).values_list(
            "data__reminder", flat=True
        )
    )
    due = _reminders_due(days_left, sent)
    if not due:
        return False
    for key in due:
        record_case_event(
            case, actor=None, action="confirmation_reminder", data={"agreement": agreement.pk, "reminder": key}
        )
    _remind(case, apply_by, days_left)
    return True


def remind_confirmation_windows() -> dict:
    """The sweep (follow_up_agreements): remind the parties at 7 and 1 days left to
    apply (an application being signed, or a sealed agreement whose parties said they
    would apply and have not started), each reminder once; lapse an application still
    being signed after its last day. Idempotent."""
    today = timezone.localdate()
    report = {"confirmation reminders": 0, "confirmation applications lapsed": 0}
    for pk in JudicialConfirmation.objects.filter(status=Status.PREPARING).values_list("pk", flat=True):
        done = _remind_application(pk, today)
        if done == "reminded":
            report["confirmation reminders"] += 1
        elif done == "lapsed":
            report["confirmation applications lapsed"] += 1
    earliest = timezone.now() - dt.timedelta(days=APPLY_WITHIN_DAYS + 2)
    candidates = Agreement.objects.filter(
        status=Agreement.Status.SEALED, sealed_at__gte=earliest, confirmations__isnull=True
    ).select_related("current_version")
    for agreement in candidates:
        if agreement.current_version.content.get("judicial_confirmation") and _remind_agreement(agreement.pk, today):
            report["confirmation reminders"] += 1
    return report
