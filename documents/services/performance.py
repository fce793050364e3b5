"""Performance of the agreed terms (履行): the obligations a sealed agreement creates,
the obligor's report with its evidence, the obligee's confirmation or dispute, the
mediator's urging (督促履行), and the sweep that reminds, marks overdue and tells the
mediator and the judge.

Every change locks the case, then the obligation row, checks who may act
(`documents.performance_rules.obligation_refusal`, the pages' and the API's rule too)
and the state (`Obligation.TRANSITIONS`), then writes the obligation's step, the audit
entry, the case's timeline entry and the joint room's event and notifies, all in one
transaction: a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import Agreement, Document, Obligation, ObligationStep
from documents.models.performance import OVERDUE_JUDGE_DAYS, REMINDER_DAYS_BEFORE
from documents.performance_rules import acting_party, obligation_refusal
from documents.services.agreement_content import parse_due_date
from documents.services.uploads import store_document
from mediation import audit
from mediation.errors import TransitionNotAllowed
from mediation.models import MediationCase, Participant, Party, User
from mediation.notifications import notify
from mediation.services.cases import lock_case, record_case_event
from rooms.services import post_case_event

logger = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 2000
MAX_EVIDENCE = 10

Status = Obligation.Status
Step = ObligationStep.Step


def performance_url(case: MediationCase) -> str:
    return reverse("case_performance", args=[case.pk])


def local_today() -> dt.date:
    """Today in the court's time zone (settings.TIME_ZONE): due dates are local dates."""
    return timezone.localdate()


def days_overdue(obligation: Obligation, today: dt.date | None = None) -> int:
    """How many days past its due date an obligation is (0 when not past it)."""
    if obligation.due_date is None:
        return 0
    return max(((today or local_today()) - obligation.due_date).days, 0)


def _side_users(party_id: int) -> list[User]:
    return [p.user for p in Participant.active.filter(party_id=party_id).select_related("user")]


def _record(obligation: Obligation, actor: User | None, verb: str, **data) -> None:
    audit.record(
        actor=actor,
        action=f"obligation.{verb}",
        target=obligation,
        data={"case": obligation.case_id, "term": obligation.term_number, "status": obligation.status, **data},
    )


def _event_data(obligation: Obligation) -> dict:
    return {"obligation": obligation.pk, "term": obligation.term_number}


def _timeline(obligation: Obligation, actor: User | None, action: str) -> None:
    """The case's timeline entry: codes only (the term and the obligation), never the
    words a party wrote. The joint room's event is posted beside it, by its kind."""
    record_case_event(obligation.case, actor=actor, action=action, data=_event_data(obligation))


def _lock(obligation: Obligation) -> Obligation:
    """The case, then the obligation row (the order every change to a case takes)."""
    case = lock_case(obligation.case)
    locked = (
        Obligation.objects.select_for_update(of=("self",))
        .select_related("obligor", "obligee", "agreement")
        .get(pk=obligation.pk)
    )
    locked.case = case
    return locked


def _wrong_state(action: str) -> str:
    return {
        "report_performed": _(
            "This obligation is already reported performed or confirmed; it cannot be reported again now."
        ),
        "confirm": _("Only a performance reported and not yet answered can be confirmed."),
        "dispute": _("Only a performance reported and not yet answered can be disputed."),
        "urge": _("Only an obligation not yet performed nor reported can be urged."),
    }[action]


def check_action(obligation: Obligation, actor: User, action: str) -> None:
    """Raise ActionForbidden when `actor` may not take `action` (403 in the API), else
    TransitionNotAllowed when the obligation's state does not allow it (409). The
    services check it under the lock; the API first, before it reads the body."""
    refusal = obligation_refusal(actor, obligation, action)
    if refusal is not None:
        raise refusal
    if not obligation.allows(action):
        raise TransitionNotAllowed(_wrong_state(action), code="wrong_state")


def _step(
    obligation: Obligation,
    step: str,
    *,
    actor: User | None,
    party: Party | None = None,
    note: str = "",
    data: dict | None = None,
) -> ObligationStep:
    return ObligationStep.objects.create(
        obligation=obligation, step=step, actor=actor, party=party, at=timezone.now(), note=note, data=data or {}
    )


# At sealing ----------------------------------------------------------------------------------


def _instalments(terms: list[dict]) -> dict[int, tuple[int, int]]:
    """Term number -> (n, of) for each instalment: from the term's own "instalment"
    when the drafting form set it, else numbered here for two or more payments from
    the same party to the same party, by due date (then by their order)."""
    numbered: dict[int, tuple[int, int]] = {}
    groups: dict[tuple, list[tuple[dt.date, int]]] = {}
    for number, term in enumerate(terms, start=1):
        if term.get("kind") != "payment":
            continue
        given = term.get("instalment")
        if isinstance(given, dict) and given.get("n") and given.get("of"):
            numbered[number] = (int(given["n"]), int(given["of"]))
            continue
        due = parse_due_date(term) or dt.date.max
        groups.setdefault((term.get("obligor"), term.get("obligee")), []).append((due, number))
    for rows in groups.values():
        if len(rows) < 2:
            continue
        for n, (_due, number) in enumerate(sorted(rows), start=1):
            numbered[number] = (n, len(rows))
    return numbered


def _amount(term: dict) -> Decimal | None:
    if term.get("kind") != "payment":
        return None
    try:
        return Decimal(str(term.get("amount", ""))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def create_obligations(agreement: Agreement, *, today: dt.date | None = None) -> list[Obligation]:
    """Each payment or act term of the sealed version becomes an obligation. Called by
    `seal_agreement` inside its transaction (the case locked); idempotent: an agreement
    whose obligations exist gets none again. A term whose due date has already passed
    is overdue at once; a term without a date is never overdue."""
    existing = list(agreement.obligations.all())
    if existing:
        return existing
    today = today or local_today()
    terms = (agreement.current_version.content or {}).get("terms") or []
    parties = {party.pk: party for party in Party.objects.filter(case_id=agreement.case_id)}
    numbered = _instalments(terms)
    created = []
    for number, term in enumerate(terms, start=1):
        if term.get("kind") not in Obligation.Kind.values:
            continue
        obligor, obligee = parties.get(term.get("obligor")), parties.get(term.get("obligee"))
        if obligor is None or obligee is None:
            logger.error("Term %s of agreement %s names a party not of its case", number, agreement.pk)
            continue
        n, of = numbered.get(number, (None, None))
        description = term.get("method", "") if term.get("kind") == "payment" else term.get("act", "")
        obligation = Obligation.objects.create(
            case_id=agreement.case_id,
            agreement=agreement,
            term_number=number,
            instalment=n,
            instalments=of,
            kind=term["kind"],
            obligor=obligor,
            obligee=obligee,
            amount=_amount(term),
            description=description,
            due_date=parse_due_date(term),
        )
        obligation.case = agreement.case
        _record(obligation, None, "create", due_date=term.get("due_date") or None)
        created.append(obligation)
    if created:
        record_case_event(
            agreement.case,
            actor=None,
            action="obligations_created",
            data={"agreement": agreement.pk, "count": len(created)},
        )
    for obligation in created:
        if obligation.due_date is not None and obligation.due_date < today:
            _become_overdue(obligation, today)
    return created


# The obligor's report ------------------------------------------------------------------------


def _clean_note(note: str, *, field: str, required: bool, missing: str) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({field: missing})
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError({field: _("At most %(max)s characters.") % {"max": MAX_NOTE_LENGTH}})
    return note


@transaction.atomic
def report_performed(
    *,
    obligation: Obligation,
    actor: User,
    performed_on: dt.date | None,
    note: str = "",
    evidence: list[Document] | tuple = (),
    receipt: bytes | None = None,
    receipt_name: str = "",
) -> Obligation:
    """The obligor's side says the term is performed, on `performed_on`, with evidence:
    documents of the case that the obligee's side may see, and/or a receipt uploaded
    with the report (stored as evidence of performance, for the whole case). Refused
    for anyone else, once reported or performed, for a day in the future or before the
    agreement was sealed, and for documents of another case or one side only."""
    obligation = _lock(obligation)
    check_action(obligation, actor, "report_performed")
    today = local_today()
    problems: dict[str, list[str]] = {}
    sealed_on = timezone.localdate(obligation.agreement.sealed_at) if obligation.agreement.sealed_at else None
    if performed_on is None:
        problems["performed_on"] = [_("Give the day it was performed.")]
    elif performed_on > today:
        problems["performed_on"] = [_("The day it was performed cannot be in the future.")]
    elif sealed_on is not None and performed_on < sealed_on:
        problems["performed_on"] = [
            _("The day it was performed cannot be before the agreement was sealed (%(date)s).")
            % {"date": sealed_on.isoformat()}
        ]
    evidence = list(evidence)
    if len(evidence) > MAX_EVIDENCE:
        problems["evidence"] = [_("At most %(max)s documents.") % {"max": MAX_EVIDENCE}]
    for document in evidence:
        if document.case_id != obligation.case_id:
            problems.setdefault("evidence", []).append(
                _("Document %(id)s is not a document of this case.") % {"id": document.pk}
            )
        elif document.visibility != Document.Visibility.CASE:
            problems.setdefault("evidence", []).append(
                _("Document %(id)s is shown to one side only: the side it is owed to must be able to see the evidence.")
                % {"id": document.pk}
            )
        elif document.kind == Document.Kind.RECORDING:
            # Who may see a recording is the court's decision, not the evidence's.
            problems.setdefault("evidence", []).append(
                _("Document %(id)s is a recording: it cannot be evidence of performance.") % {"id": document.pk}
            )
    try:
        note = _clean_note(note, field="note", required=False, missing="")
    except ValidationError as error:
        problems.update(error.message_dict)
    if problems:
        raise ValidationError(problems)
    if receipt is not None:
        evidence.append(
            store_document(
                case=obligation.case,
                actor=actor,
                data=receipt,
                filename=receipt_name or "receipt",
                kind=Document.Kind.PERFORMANCE_EVIDENCE,
                title=_("Evidence of performance, term %(n)s") % {"n": obligation.term_number},
                visibility=Document.Visibility.CASE,
                party=obligation.obligor,
            )
        )
    from_status = obligation.status
    obligation.status = Status.REPORTED
    obligation.performed_on = performed_on
    obligation.reported_at = timezone.now()
    obligation.save(update_fields=["status", "performed_on", "reported_at"])
    step = _step(
        obligation,
        Step.REPORTED,
        actor=actor,
        party=acting_party(actor, obligation, "report_performed"),
        note=note,
        data={"performed_on": performed_on.isoformat()},
    )
    step.evidence.set(evidence)
    _record(
        obligation,
        actor,
        "report_performed",
        **{"from": from_status},
        performed_on=performed_on.isoformat(),
        evidence=[document.blob_id for document in evidence],
    )
    _timeline(obligation, actor, "obligation_reported")
    post_case_event(case=obligation.case, kind="obligation.reported", actor=actor, data=_event_data(obligation))
    notify(
        recipients=_side_users(obligation.obligee_id),
        kind="obligation.reported",
        params={"number": obligation.case.number, "term": obligation.term_number},
        url=performance_url(obligation.case),
    )
    return obligation


# The obligee's answer ------------------------------------------------------------------------


@transaction.atomic
def confirm_performance(*, obligation: Obligation, actor: User) -> Obligation:
    """The obligee's side confirms the reported performance: final."""
    obligation = _lock(obligation)
    check_action(obligation, actor, "confirm")
    obligation.status = Status.PERFORMED
    obligation.confirmed_at = timezone.now()
    obligation.save(update_fields=["status", "confirmed_at"])
    _step(obligation, Step.CONFIRMED, actor=actor, party=acting_party(actor, obligation, "confirm"))
    _record(obligation, actor, "confirm", **{"from": Status.REPORTED})
    _timeline(obligation, actor, "obligation_confirmed")
    post_case_event(case=obligation.case, kind="obligation.confirmed", actor=actor, data=_event_data(obligation))
    notify(
        recipients=[*_side_users(obligation.obligor_id), obligation.case.mediator],
        kind="obligation.confirmed",
        params={"number": obligation.case.number, "term": obligation.term_number},
        url=performance_url(obligation.case),
    )
    return obligation


@transaction.atomic
def dispute_performance(*, obligation: Obligation, actor: User, reason: str) -> Obligation:
    """The obligee's side disputes the report, saying why; the obligor's side may
    report again, and the mediator follows it."""
    obligation = _lock(obligation)
    check_action(obligation, actor, "dispute")
    reason = _clean_note(
        reason,
        field="reason",
        required=True,
        missing=_("Say why you dispute it, so the other side and the mediator know."),
    )
    obligation.status = Status.DISPUTED
    obligation.save(update_fields=["status"])
    _step(obligation, Step.DISPUTED, actor=actor, party=acting_party(actor, obligation, "dispute"), note=reason)
    _record(obligation, actor, "dispute", **{"from": Status.REPORTED})
    _timeline(obligation, actor, "obligation_disputed")
    post_case_event(case=obligation.case, kind="obligation.disputed", actor=actor, data=_event_data(obligation))
    notify(
        recipients=[*_side_users(obligation.obligor_id), obligation.case.mediator],
        kind="obligation.disputed",
        params={"number": obligation.case.number, "term": obligation.term_number},
        url=performance_url(obligation.case),
    )
    return obligation


# The mediator's urging -----------------------------------------------------------------------


@transaction.atomic
def urge_performance(*, obligation: Obligation, actor: User, note: str) -> Obligation:
    """The case's mediator records how they urged the obligor's side to perform
    (督促履行: phoned, wrote ...); the obligor's side is told. The state stays."""
    obligation = _lock(obligation)
    check_action(obligation, actor, "urge")
    note = _clean_note(
        note, field="note", required=True, missing=_("Say what you did to urge performance (phoned, wrote ...).")
    )
    _step(obligation, Step.URGED, actor=actor, note=note)
    _record(obligation, actor, "urge")
    _timeline(obligation, actor, "obligation_urged")
    post_case_event(case=obligation.case, kind="obligation.urged", actor=actor, data=_event_data(obligation))
    notify(
        recipients=_side_users(obligation.obligor_id),
        kind="obligation.urged",
        params={"number": obligation.case.number, "term": obligation.term_number},
        url=performance_url(obligation.case),
    )
    return obligation


# On the clock --------------------------------------------------------------------------------


def _become_overdue(obligation: Obligation, today: dt.date) -> None:
    """DUE (or its report disputed) past its due date: overdue since the day after it;
    the mediator is told to urge performance. The caller holds the lock."""
    from_status = obligation.status
    obligation.status = Status.OVERDUE
    obligation.overdue_since = obligation.due_date + dt.timedelta(days=1)
    obligation.save(update_fields=["status", "overdue_since"])
    _step(obligation, Step.OVERDUE, actor=None, data={"due_date": obligation.due_date.isoformat()})
    _record(obligation, None, "become_overdue", **{"from": from_status})
    _timeline(obligation, None, "obligation_overdue")
    post_case_event(case=obligation.case, kind="obligation.overdue", actor=None, data=_event_data(obligation))
    notify(
        recipients=[obligation.case.mediator],
        kind="obligation.overdue",
        params={
            "number": obligation.case.number,
            "term": obligation.term_number,
            "due": obligation.due_date.isoformat(),
        },
        url=performance_url(obligation.case),
    )


def _pending_reminders(obligation: Obligation, today: dt.date) -> list[str]:
    """The reminders due now and not yet sent: "before_3" from three days before,
    "before_0" on the day; a sweep that missed the first sends only the nearer one."""
    if obligation.status not in (Status.DUE, Status.DISPUTED) or obligation.due_date is None:
        return []
    left = (obligation.due_date - today).days
    return [
        f"before_{days}"
        for days in REMINDER_DAYS_BEFORE
        if 0 <= left <= days and f"before_{days}" not in obligation.reminders_sent
    ]


@transaction.atomic
def _follow_one(obligation_id: int, today: dt.date) -> dict[str, int]:
    obligation = _lock(Obligation.objects.select_related("case").get(pk=obligation_id))
    done = {"reminders": 0, "overdue": 0, "judge": 0}
    pending = _pending_reminders(obligation, today)
    if pending:
        left = (obligation.due_date - today).days
        obligation.reminders_sent = [*obligation.reminders_sent, *pending]
        obligation.save(update_fields=["reminders_sent"])
        _step(obligation, Step.REMINDED, actor=None, data={"days_before": left})
        _record(obligation, None, "remind", days_before=left)
        notify(
            recipients=_side_users(obligation.obligor_id),
            kind="obligation.due_today" if left == 0 else "obligation.due_soon",
            params={
                "number": obligation.case.number,
                "term": obligation.term_number,
                "due": obligation.due_date.isoformat(),
            },
            url=performance_url(obligation.case),
        )
        done["reminders"] += 1
    if obligation.allows("become_overdue") and obligation.due_date is not None and obligation.due_date < today:
        _become_overdue(obligation, today)
        done["overdue"] += 1
    if (
        obligation.status == Status.OVERDUE
        and obligation.case.judge_id
        and "judge" not in obligation.reminders_sent
        and days_overdue(obligation, today) >= OVERDUE_JUDGE_DAYS
    ):
        obligation.reminders_sent = [*obligation.reminders_sent, "judge"]
        obligation.save(update_fields=["reminders_sent"])
        _record(obligation, None, "tell_judge", days_overdue=days_overdue(obligation, today))
        notify(
            recipients=[obligation.case.judge],
            kind="obligation.overdue_judge",
            params={
                "number": obligation.case.number,
                "term": obligation.term_number,
                "due": obligation.due_date.isoformat(),
                "days": days_overdue(obligation, today),
            },
            url=performance_url(obligation.case),
        )
        done["judge"] += 1
    return done


def follow_obligations(today: dt.date | None = None) -> dict[str, int]:
    """The sweep (FOLLOW_UPS): reminders to the obligor's side three days before and on
    the due date, once each; DUE past its date becomes OVERDUE and the mediator is told;
    overdue OVERDUE_JUDGE_DAYS days, the case's judge is told, once. Each obligation
    in its own transaction; idempotent."""
    from documents.selectors_performance import obligations_to_follow

    today = today or local_today()
    report = {"reminders": 0, "overdue": 0, "judge": 0}
    for obligation_id in obligations_to_follow(today):
        for label, count in _follow_one(obligation_id, today).items():
            report[label] += count
    return report
