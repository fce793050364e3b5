"""Mediation cases: opening (from a work order or directly), parties, participants,
deadline extensions and the outcome, which is fed back to the originating order.

Every function checks the actor's right and the case's state, changes the case under
a row lock, writes a timeline and an audit entry and schedules notifications, in one
transaction; `DomainError`/`ActionForbidden`/`ValidationError` mean nothing changed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import audit, disclosure, id_numbers, phones, policy, roster, signals
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import CaseEvent, MediationCase, Participant, Party, User, WorkOrder
from mediation.models.cases import Side
from mediation.notifications import notify
from mediation.roles import Role, has_role, is_court_staff
from mediation.services import applications, case_deadlines, case_webhooks, work_orders
from mediation.services.numbering import next_sequence_value
from mediation.working_calendar import local_zone

CASE_ACTION_LABELS = {
    "open": gettext_lazy("Case opened"),
    "refer": gettext_lazy("Referred from a work order"),
    "add_party": gettext_lazy("Party added"),
    "edit_party": gettext_lazy("Party's details corrected"),
    "remove_party": gettext_lazy("Party removed"),
    "invite": gettext_lazy("Invitation sent"),
    "revoke_invitation": gettext_lazy("Invitation withdrawn"),
    "join": gettext_lazy("Participant joined"),
    "remove_participant": gettext_lazy("Participant removed"),
    "schedule": gettext_lazy("Session scheduled"),
    "cancel_session": gettext_lazy("Session cancelled"),
    "start_session": gettext_lazy("Session started"),
    "end_session": gettext_lazy("Session ended"),
    "start": gettext_lazy("Mediation started"),
    "extend": gettext_lazy("Deadline extended"),
    "settle": gettext_lazy("Settled"),
    "fail": gettext_lazy("Mediation failed"),
    "withdraw": gettext_lazy("Withdrawn"),
    "transfer_to_filing": gettext_lazy("Filed as an ordinary case"),
    "enforcement_application": gettext_lazy("Application for enforcement made"),
    # Performance of the agreed terms (documents.services.performance).
    "obligations_created": gettext_lazy("Obligations to perform recorded from the agreement"),
    "obligation_reported": gettext_lazy("Obligation reported performed"),
    "obligation_confirmed": gettext_lazy("Performance confirmed"),
    "obligation_disputed": gettext_lazy("Performance disputed"),
    "obligation_overdue": gettext_lazy("Obligation overdue"),
    "obligation_urged": gettext_lazy("Mediator urged performance"),
    "resume": gettext_lazy("Mediation resumed after the court rejected the settlement"),
    "schedule_review": gettext_lazy("Session for the judge's review"),
    "confirmation.assign": gettext_lazy("Judge assigned to the application for judicial confirmation"),
    "confirmation.accept": gettext_lazy("Application for judicial confirmation accepted"),
    "confirmation.decline": gettext_lazy("Application for judicial confirmation not accepted"),
    "confirmation.review": gettext_lazy("Judicial review recorded"),
    "confirmation.review_started": gettext_lazy("Judicial review started in the joint room"),
    "confirmation.extend": gettext_lazy("Time to decide extended"),
    "confirmation.draft_ruling": gettext_lazy("Ruling drafted"),
    "confirmation.rule": gettext_lazy("Ruling sealed and served"),
    # Court documents (documents.services.court_documents) and judicial confirmation
    # (documents.services.confirmation).
    "court_document_sign": gettext_lazy("Court document signed"),
    "court_document_seal": gettext_lazy("Court document sealed"),
    "confirmation_start": gettext_lazy("Application for judicial confirmation started"),
    "confirmation_apply": gettext_lazy("Applied for judicial confirmation"),
    "confirmation_withdraw": gettext_lazy("Application for judicial confirmation withdrawn"),
    "confirmation_lapse": gettext_lazy("Application for judicial confirmation lapsed"),
    "confirmation_reminder": gettext_lazy("Reminded to apply for judicial confirmation"),
    # Acts done in person (part "offline": documents.services.in_person).
    "record_in_person": gettext_lazy("Record an act done in person"),
    "write_record": gettext_lazy("Write the mediation record"),
    "mediation_record_sent": gettext_lazy("Mediation record sent for signature"),
    "in_person_recorded": gettext_lazy("Act done in person recorded by the mediator"),
    "in_person_confirmed": gettext_lazy("Act done in person confirmed"),
    "in_person_withdrawn": gettext_lazy("Act done in person withdrawn"),
    # Delegation to a mediation organisation (mediation.services.delegation).
    "delegate": gettext_lazy("Delegated to a mediation organisation"),
    "dispatch_delegation": gettext_lazy("Delegated case dispatched to a mediator"),
    "accept_delegation": gettext_lazy("Delegated case accepted by the mediator"),
    "decline_delegation": gettext_lazy("Delegated case declined"),
    "return_delegation": gettext_lazy("Delegated case returned to the court"),
    "assign_mediator": gettext_lazy("Mediator assigned by the court"),
    # When mediation fails (failure part): the filing package for the case-filing division.
    "filing_package": gettext_lazy("Filing package sealed for the case-filing division"),
    # Supervision of cases and recusal (services.case_supervision, services.recusal).
    "deadline_overdue": gettext_lazy("Mediation period overdue"),
    "supervise": gettext_lazy("Supervision notice issued"),
    "answer_supervision": gettext_lazy("Supervision notice answered"),
    "request_recusal": gettext_lazy("Application to replace the mediator"),
    "decide_recusal": gettext_lazy("Decision on the application to replace the mediator"),
    "replace_mediator": gettext_lazy("Mediator replaced"),
}

# The longest record of the facts both sides accepted (the fail action's form says the same).
MAX_UNDISPUTED_FACTS = 20000

CREDIT_CODE_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def case_url(case: MediationCase) -> str:
    return reverse("case_detail", args=[case.pk])


def lock_case(case: MediationCase) -> MediationCase:
    return MediationCase.objects.select_for_update().get(pk=case.pk)


def check_case_action(actor: User | None, action: str, case: MediationCase) -> None:
    if not case.allows(action):
        raise TransitionNotAllowed(
            _("Mediation case %(number)s is “%(status)s”; “%(action)s” is not possible now.")
            % {
                "number": case.number,
                "status": case.get_status_display(),
                "action": CASE_ACTION_LABELS.get(action, action),
            }
        )
    if actor is not None and not policy.can_on_case(actor, action, case):
        raise ActionForbidden(_("You may not do this in mediation case %(number)s.") % {"number": case.number})


def lock_work_order_of(case: MediationCase) -> WorkOrder | None:
    """The case's work order, if it has one, locked. Taken right after the case and
    before the audit chain, as the order's own actions take it before the chain:
    taken after the chain, a clerk's action on the order could hold what the case's
    change waits for, and the other way round."""
    return work_orders.lock_order(case.work_order) if case.work_order_id else None


def lock_case_for_action(case: MediationCase, actor: User | None, action: str) -> MediationCase:
    locked = lock_case(case)
    check_case_action(actor, action, locked)
    return locked


def record_case_event(
    case: MediationCase,
    *,
    actor: User | None,
    action: str,
    from_status: str | None = None,
    note: str = "",
    data: dict | None = None,
) -> CaseEvent:
    from_status = case.status if from_status is None else from_status
    event = CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=case.status,
        note=note,
        data=data or {},
    )
    audit.record(
        actor=actor,
        action=f"mediation_case.{action}",
        target=case,
        data={"from": from_status, "to": case.status, "note": note, **(data or {})},
    )
    return event


def next_case_number(started_on: dt.date) -> str:
    value = next_sequence_value(f"mediation_case:{started_on.year}")
    return f"({started_on.year}){settings.COURT_CODE}民诉前调{value}号"


def _validate_case_fields(
    *, mediator: User | None, judge: User | None, cause_of_action: str, claim_amount, organisation=None
) -> None:
    errors = {}
    if mediator is None and organisation is None:
        errors["mediator"] = _("Choose a mediator, or an organisation to delegate the case to.")
    refusal = roster.assignment_refusal(mediator) if mediator is not None else None
    if refusal:
        errors["mediator"] = refusal
    elif mediator is not None and judge is not None and mediator.pk == judge.pk:
        # A new case has no participants yet: `case_mediator_refusal`'s rule for its judge.
        errors["mediator"] = _("The case's judge or a participant cannot mediate it.")
    if mediator is None and organisation is not None and not organisation.is_active:
        errors["organisation"] = _("%(organisation)s is no longer on the roster.") % {"organisation": organisation}
    if judge is not None and not has_role(judge, Role.JUDGE):
        errors["judge"] = _("%(name)s is not a judge.") % {"name": judge}
    if not cause_of_action.strip():
        errors["cause_of_action"] = _("Give the cause of action, e.g. 合同纠纷.")
    if claim_amount is not None and Decimal(claim_amount) < 0:
        errors["claim_amount"] = _("The claim amount cannot be negative.")
    if errors:
        raise ValidationError(errors)


def _create_case(
    *, actor, mediator, judge, cause_of_action, claim_amount, facts, work_order, organisation=None
) -> MediationCase:
    """The case, with its mediator; or, without one, delegated to `organisation`
    (status delegated, no mediator: mediation.services.delegation adds the
    delegation)."""
    today = timezone.localdate()
    if mediator is None:
        delegated = {"status": MediationCase.Status.DELEGATED, "organisation": organisation, "accepted_at": None}
    else:
        profile = roster.profile_of(mediator)
        delegated = {"organisation": profile.organisation if profile else None, "accepted_at": timezone.now()}
    case = MediationCase.objects.create(
        number=next_case_number(today),
        work_order=work_order,
        cause_of_action=cause_of_action.strip(),
        claim_amount=claim_amount,
        facts=facts.strip(),
        mediator=mediator,
        judge=judge,
        started_on=today,
        deadline=case_deadlines.mediation_deadline(today),
        created_by=actor,
        **delegated,
    )
    signals.case_opened.send(sender=MediationCase, case=case)
    if mediator is not None and mediator != actor:
        notify(recipients=[mediator], kind="case.assigned", params={"number": case.number}, url=case_url(case))
    return case


@transaction.atomic
def open_mediation_case(
    *,
    actor: User,
    cause_of_action: str,
    claim_amount: Decimal | None = None,
    facts: str = "",
    judge: User | None = None,
) -> MediationCase:
    """A mediator opens a case directly and mediates it."""
    if not policy.can_on_case(actor, "open"):
        raise ActionForbidden(_("Only a mediator may open a mediation case."))
    _validate_case_fields(mediator=actor, judge=judge, cause_of_action=cause_of_action, claim_amount=claim_amount)
    case = _create_case(
        actor=actor,
        mediator=actor,
        judge=judge,
        cause_of_action=cause_of_action,
        claim_amount=claim_amount,
        facts=facts,
        work_order=None,
    )
    record_case_event(case, actor=actor, action="open", from_status="")
    return case


@transaction.atomic
def refer_to_mediation(
    *,
    order: WorkOrder,
    actor: User,
    mediator: User | None,
    cause_of_action: str,
    claim_amount: Decimal | None = None,
    facts: str = "",
    judge: User | None = None,
    organisation=None,
) -> MediationCase:
    """A judge or the general liaison refers a work order to pre-litigation
    mediation: a case is opened and linked, and the order moves to in_progress if it
    was not. Without a mediator the case is opened delegated to `organisation`, with
    no mediator yet: only through `mediation.services.delegation.delegate_case`,
    which records the delegation in the same transaction. The case's facts are what
    the referrer writes for the parties, never the order's content: that is the
    clerk's internal note, for court staff only. An order applied for online brings
    its plaintiff and defendant (applications.plaintiff_and_defendant_of)."""
    order = work_orders.lock_for_action(order, actor, "refer_to_mediation")
    open_case = order.mediation_cases.filter(status__in=MediationCase.OPEN_STATUSES).first()
    if open_case is not None:
        raise TransitionNotAllowed(
            _("Work order %(number)s is already in mediation as case %(case)s.")
            % {"number": order.number, "case": open_case.number}
        )
    judge = judge or (order.assignee if order.assignee and has_role(order.assignee, Role.JUDGE) else None)
    _validate_case_fields(
        mediator=mediator,
        judge=judge,
        cause_of_action=cause_of_action,
        claim_amount=claim_amount,
        organisation=organisation,
    )
    case = _create_case(
        actor=actor,
        mediator=mediator,
        judge=judge,
        cause_of_action=cause_of_action,
        claim_amount=claim_amount,
        facts=facts,
        work_order=order,
        organisation=organisation,
    )
    record_case_event(case, actor=actor, action="refer", from_status="", data={"work_order": order.number})
    case_webhooks.case_referred(case)
    # An order applied for online names its parties: the applicant with the mobile
    # number they proved and the ID number they gave, and the other side. The
    # mediator types nothing again.
    for values in applications.plaintiff_and_defendant_of(order):
        party = Party.objects.create(case=case, **party_values(**values))
        record_case_event(
            case,
            actor=actor,
            action="add_party",
            data={"party": party.pk, "side": party.side, "work_order": order.number},
        )
    from_status = order.status
    if order.status in (WorkOrder.Status.DISPATCHED, WorkOrder.Status.REOPENED):
        work_orders.apply_transition(order, "start")
    work_orders.record_event(
        order,
        actor=actor,
        action="refer_to_mediation",
        from_status=from_status,
        data={"case": case.pk, "case_number": case.number},
    )
    work_orders.pause_for_mediation(order=order, actor=actor, case_number=case.number)
    return case


def _validate_party(*, side, kind, name, id_number, credit_code, phone="") -> None:
    errors = {}
    if side not in Side.values:
        errors["side"] = _("Choose plaintiff, defendant or third party.")
    if kind not in Party.Kind.values:
        errors["kind"] = _("Choose a natural person or an organisation.")
    if not name.strip():
        errors["name"] = _("Give the party's name.")
    if kind == Party.Kind.PERSON and id_number and id_number.strip():
        try:
            id_numbers.validate(id_number)
        except ValidationError as error:
            errors.update(error.message_dict)
    if phone and str(phone).strip():
        try:
            phones.to_e164(phone)
        except ValidationError as error:
            errors.update(error.message_dict)
    if kind == Party.Kind.ORGANISATION and credit_code and not CREDIT_CODE_PATTERN.match(credit_code.strip().upper()):
        errors["credit_code"] = _("A unified social credit code has 18 characters (digits and capital letters).")
    if errors:
        raise ValidationError(errors)


def party_values(
    *, side, kind, name, id_number="", credit_code="", legal_representative="", phone="", address=""
) -> dict:
    """A party's details validated and normalised, as stored: the one rule for adding a
    party and for correcting one. A person has no credit code or legal representative,
    an organisation no ID number."""
    _validate_party(side=side, kind=kind, name=name, id_number=id_number, credit_code=credit_code, phone=phone)
    return {
        "side": side,
        "kind": kind,
        "name": name.strip(),
        "id_number": id_numbers.normalise(id_number) if kind == Party.Kind.PERSON else "",
        "credit_code": credit_code.strip().upper() if kind == Party.Kind.ORGANISATION else "",
        "legal_representative": legal_representative.strip() if kind == Party.Kind.ORGANISATION else "",
        "phone": phones.to_e164(phone) if phone and str(phone).strip() else "",
        "address": address.strip(),
    }


def why_parties_are_frozen(case: MediationCase) -> str | None:
    """Why the case's parties can no longer be added, corrected or removed (the
    agreement naming them is locked for signing: `signals.parties_frozen`, answered by
    documents), or None if they can: the one rule the services and the case page's
    actions ask."""
    for _receiver, reason in signals.parties_frozen.send(sender=MediationCase, case=case):
        if reason:
            return str(reason)
    return None


def refuse_if_parties_are_frozen(case: MediationCase) -> None:
    reason = why_parties_are_frozen(case)
    if reason:
        raise TransitionNotAllowed(reason, code="parties_frozen")


@transaction.atomic
def add_party(
    *,
    case: MediationCase,
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
    case = lock_case_for_action(case, actor, "add_party")
    refuse_if_parties_are_frozen(case)
    party = Party.objects.create(
        case=case,
        **party_values(
            side=side,
            kind=kind,
            name=name,
            id_number=id_number,
            credit_code=credit_code,
            legal_representative=legal_representative,
            phone=phone,
            address=address,
        ),
    )
    record_case_event(case, actor=actor, action="add_party", data={"party": party.pk, "side": side})
    return party


def attach_participant(*, case: MediationCase, party: Party, user: User, role: str, actor: User | None) -> Participant:
    """Attach a user to a party; called with the case locked (by accepting an
    invitation, or by the demo). A person acts for one side of a case only, and court
    staff for none."""
    if user.pk in (case.mediator_id, case.judge_id):
        raise TransitionNotAllowed(
            _("The case's mediator or judge cannot also take part for a party."), code="staff_of_case"
        )
    if is_court_staff(user):
        raise TransitionNotAllowed(
            _("A court staff account cannot take part in a case for a party."), code="court_staff"
        )
    existing = Participant.active.filter(case=case, user=user).select_related("party").first()
    if existing is not None:
        if existing.party.side != party.side:
            raise TransitionNotAllowed(
                _("You already take part in this case for the other side; you cannot act for both sides."),
                code="other_side",
            )
        return existing
    participant = Participant.objects.create(case=case, party=party, user=user, role=role)
    record_case_event(
        case,
        actor=user,
        action="join",
        data={"participant": participant.pk, "party": party.pk, "side": party.side, "role": role},
    )
    signals.participant_joined.send(sender=Participant, participant=participant)
    return participant


@transaction.atomic
def remove_participant(*, participant: Participant, actor: User | None, reason: str) -> Participant:
    """Take a participant off the case. Their rights end at once: their open room
    sockets are closed as soon as this commits."""
    case = lock_case_for_action(participant.case, actor, "remove_participant")
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.removed_at is not None:
        raise TransitionNotAllowed(_("This participant has already been removed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the participant is removed.")})
    participant.removed_at = timezone.now()
    participant.removed_by = actor
    participant.removal_reason = reason.strip()
    participant.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    record_case_event(
        case, actor=actor, action="remove_participant", note=reason.strip(), data={"participant": participant.pk}
    )
    signals.participant_removed.send(sender=Participant, participant=participant)
    notify(recipients=[participant.user], kind="case.removed", params={"number": case.number}, email=False)
    return participant


@transaction.atomic
def start_mediation(*, case: MediationCase, actor: User | None) -> MediationCase:
    case = lock_case_for_action(case, actor, "start")
    from_status = case.status
    case.status = MediationCase.Status.IN_MEDIATION
    case.save(update_fields=["status", "updated_at"])
    record_case_event(case, actor=actor, action="start", from_status=from_status)
    signals.case_status_changed.send(sender=MediationCase, case=case, from_status=from_status)
    return case


@transaction.atomic
def extend_case_deadline(*, case: MediationCase, actor: User, new_deadline: dt.date, reason: str) -> MediationCase:
    """A deadline extension is approved by the case's judge or the general liaison and
    recorded with its reason. A new deadline on a day off moves to the next working
    day (case_deadlines.extended_deadline)."""
    case = lock_case_for_action(case, actor, "extend")
    new_deadline = case_deadlines.extended_deadline(new_deadline)
    errors = {}
    if new_deadline <= case.deadline:
        errors["new_deadline"] = _("The new deadline must be after the current one (%(deadline)s).") % {
            "deadline": case.deadline.isoformat()
        }
    if not reason.strip():
        errors["reason"] = _("Say why the deadline is extended.")
    if errors:
        raise ValidationError(errors)
    extension = case.extensions.create(
        previous_deadline=case.deadline, new_deadline=new_deadline, reason=reason.strip(), approved_by=actor
    )
    case.deadline = new_deadline
    case.save(update_fields=["deadline", "updated_at"])
    record_case_event(
        case,
        actor=actor,
        action="extend",
        note=reason.strip(),
        data={"previous": extension.previous_deadline.isoformat(), "new": new_deadline.isoformat()},
    )
    return case


def case_mediator_refusal(case: MediationCase, mediator: User) -> str | None:
    """Why this person may not mediate this case in particular, or None: its judge, or
    someone taking part in it for a party, never does (whoever chooses them: the
    court assigning, an organisation dispatching, the judge granting a recusal)."""
    if mediator.pk == case.judge_id or Participant.active.filter(case=case, user=mediator).exists():
        return _("The case's judge or a participant cannot mediate it.")
    return None


def set_case_mediator(
    case: MediationCase, *, mediator: User, actor: User | None, action: str, data: dict | None = None
) -> MediationCase:
    """Give a case (locked by the caller, its action checked) its mediator: on
    accepting a delegation or assigning one directly (the case goes from delegated to
    pending, TRANSITIONS[action]), or on granting a recusal (the state stays). The
    case's organisation becomes the mediator's (their roster profile), or none for a
    court mediator without a profile, who mediates for no organisation (whichever
    organisation had it before no longer does). Checks the roster rule;
    records the event, tells the new mediator and signals `case_mediator_changed`
    (the rooms follow)."""
    refusal = roster.assignment_refusal(mediator) or case_mediator_refusal(case, mediator)
    if refusal:
        raise ValidationError({"mediator": refusal})
    previous = case.mediator
    from_status = case.status
    if action in MediationCase.TRANSITIONS:
        case.status = MediationCase.TRANSITIONS[action][1]
    profile = roster.profile_of(mediator)
    case.organisation = profile.organisation if profile is not None else None
    case.mediator = mediator
    if case.accepted_at is None:
        case.accepted_at = timezone.now()
    case.save(update_fields=["status", "mediator", "organisation", "accepted_at", "updated_at"])
    record_case_event(
        case,
        actor=actor,
        action=action,
        from_status=from_status,
        data={"mediator": mediator.pk, "previous_mediator": previous.pk if previous else None, **(data or {})},
    )
    signals.case_mediator_changed.send(sender=MediationCase, case=case, previous=previous, mediator=mediator)
    if from_status != case.status:
        signals.case_status_changed.send(sender=MediationCase, case=case, from_status=from_status)
    if mediator != actor:
        notify(recipients=[mediator], kind="case.assigned", params={"number": case.number}, url=case_url(case))
    return case


def _conclude(case: MediationCase, *, actor: User | None, action: str, note: str, data: dict | None = None):
    order = lock_work_order_of(case)
    from_status = case.status
    case.status = MediationCase.TRANSITIONS[action][1]
    case.outcome_note = note
    case.concluded_at = timezone.now()
    case.save(update_fields=["status", "outcome_note", "concluded_at", "updated_at"])
    record_case_event(case, actor=actor, action=action, from_status=from_status, note=note, data=data)
    case_webhooks.case_concluded(case, action)
    # A session still running when the case ends, ends with it.
    for session in case.sessions.filter(started_at__isnull=False, ended_at__isnull=True, cancelled_at__isnull=True):
        session.ended_at = case.concluded_at
        session.save(update_fields=["ended_at"])
        signals.session_ended.send(sender=type(session), session=session)
    answers = signals.case_status_changed.send(sender=MediationCase, case=case, from_status=from_status)
    work_orders.resume_after_mediation(order=order, actor=actor, case_number=case.number)
    if order is not None:
        _record_outcome_on_order(case, order, actor=actor, note=note, data={**(data or {}), **_records_made(answers)})
    return case


def _records_made(answers) -> dict:
    """What the receivers of `case_status_changed` made of the outcome and said so
    (documents: the filing package of a failed case, `{"filing_package": {...}}`), for
    the work order's timeline entry to name."""
    made = {}
    for _receiver, answer in answers:
        if isinstance(answer, dict):
            made.update(answer)
    return made


def _record_outcome_on_order(
    case: MediationCase, order: WorkOrder, *, actor: User | None, note: str, data: dict
) -> None:
    """Feed the mediation's outcome back to its work order (locked), as what the
    platform did: one timeline entry whose code and parameters (the case, its outcome)
    each reader sees in their own language.

    Nobody answered or contacted the requester by this, so no reply and no contact is
    recorded and the order's clocks keep running: whoever handles the order tells the
    requester and records that answer, as for any order. Only an order whose requester
    was already answered goes on to await the general liaison's confirmation. The case's
    outcome note stays on the case."""
    outcome = {"case": case.pk, "case_number": case.number, "outcome": case.status, **data}
    from_status = order.status
    if case.status == MediationCase.Status.SETTLED and order.allows("submit"):
        work_orders.apply_transition(order, "submit")
    # The order's own outcome stays for the general liaison to confirm. A note goes on
    # its timeline only if a person wrote it (a mediator's reason); the platform's own
    # wording would be in one language for every reader, and the codes say it all.
    work_orders.record_event(
        order,
        actor=actor,
        action="mediation_outcome",
        from_status=from_status,
        note=note if actor is not None else "",
        data=outcome,
    )
    params = {"number": order.number, "case": case.number, "outcome": case.status}
    url = work_orders.order_url(order)
    recipients = work_orders.general_liaisons() + work_orders.department_managers(order.department)
    notify(recipients=recipients, kind="case.concluded", params=params, url=url)
    if case.status == MediationCase.Status.FAILED:
        _return_failed_case_to_handler(order, params=params, url=url)
    elif order.allows("reply"):
        # The order still owes the requester an answer, and only a person can give it.
        for handler in _handlers_of(order):
            # Each reads the requester's number as the rule lets them (handlers whole).
            notify(
                recipients=[handler],
                kind="case.concluded.answer_requester",
                params={
                    **params,
                    "requester": order.requester_name,
                    "phone": disclosure.shown_phone(order.requester_phone, handler, order=order),
                },
                url=url,
            )


def _handlers_of(order: WorkOrder) -> list[User]:
    return [order.assignee] if order.assignee else work_orders.department_managers(order.department)


def _return_failed_case_to_handler(order: WorkOrder, *, params: dict, url: str) -> None:
    """A failed mediation sends the order back to whoever handles it (its assignee, else
    its department's liaison and head), as an open to-do: its clock runs again
    (`work_orders.resume_after_mediation`) and the handler is told, with the requester's
    number when the requester still awaits an answer. The filing package is on the
    order's timeline. An order that waits for the general liaison or is closed is
    theirs, and they were told (`case.concluded`)."""
    if order.allows("reply"):
        kind = "case.failed.answer_requester"
    elif order.allows("submit"):
        kind = "case.failed.back_to_handler"
    else:
        return
    for handler in _handlers_of(order):
        extra = {}
        if kind == "case.failed.answer_requester":
            extra = {
                "requester": order.requester_name,
                "phone": disclosure.shown_phone(order.requester_phone, handler, order=order),
            }
        notify(recipients=[handler], kind=kind, params={**params, **extra}, url=url)


@transaction.atomic
def settle_case(*, case: MediationCase, actor: User | None, note: str, data: dict | None = None) -> MediationCase:
    """in_mediation → settled. The signed agreement calls this with its reference in
    `data`; the originating order records the outcome (see `_record_outcome_on_order`)."""
    case = lock_case_for_action(case, actor, "settle")
    return _conclude(case, actor=actor, action="settle", note=note.strip(), data=data)


@transaction.atomic
def fail_case(*, case: MediationCase, actor: User | None, reason: str, undisputed_facts: str = "") -> MediationCase:
    """pending/in_mediation → failed, with the reason and the facts both sides accepted
    (无争议事实记载; empty: the mediator recorded that they accepted none, which the
    case page's form asks to be said explicitly). The documents app seals the filing
    package for the case-filing division in this transaction (receiver of
    `case_status_changed`), and the originating order records the outcome with it and
    goes back to its handler (`_record_outcome_on_order`)."""
    case = lock_case_for_action(case, actor, "fail")
    if not reason.strip():
        raise ValidationError({"reason": _("Record why the mediation failed.")})
    if len(undisputed_facts) > MAX_UNDISPUTED_FACTS:
        raise ValidationError(
            {
                "undisputed_facts": _("Keep the undisputed facts under %(count)s characters.")
                % {"count": MAX_UNDISPUTED_FACTS}
            }
        )
    case.undisputed_facts = undisputed_facts.strip()
    case.save(update_fields=["undisputed_facts", "updated_at"])
    return _conclude(
        case,
        actor=actor,
        action="fail",
        note=reason.strip(),
        data={"undisputed_facts": bool(case.undisputed_facts)},
    )


@transaction.atomic
def withdraw_case(*, case: MediationCase, actor: User | None, reason: str) -> MediationCase:
    case = lock_case_for_action(case, actor, "withdraw")
    if not reason.strip():
        raise ValidationError({"reason": _("Record why the case was withdrawn.")})
    return _conclude(case, actor=actor, action="withdraw", note=reason.strip())


@transaction.atomic
def transfer_to_filing(*, case: MediationCase, actor: User, filed_case_number: str) -> MediationCase:
    """A failed mediation becomes an ordinary case filing (转立案); the order's timeline
    records the new case number."""
    case = lock_case_for_action(case, actor, "transfer_to_filing")
    order = lock_work_order_of(case)
    if case.filed_case_number:
        raise TransitionNotAllowed(
            _("This case has already been filed as %(number)s.") % {"number": case.filed_case_number}
        )
    number = work_orders.normalise_case_number(filed_case_number)
    if not number:
        raise ValidationError({"filed_case_number": _("Give the number of the new case.")})
    case.filed_case_number = number
    case.filed_at = timezone.now()
    case.save(update_fields=["filed_case_number", "filed_at", "updated_at"])
    record_case_event(case, actor=actor, action="transfer_to_filing", data={"filed_case_number": number})
    if order is not None:
        work_orders.record_event(
            order,
            actor=actor,
            action="transfer_to_filing",
            from_status=order.status,
            data={"case": case.pk, "case_number": case.number, "filed_case_number": number},
        )
    return case


@transaction.atomic
def resume_mediation(*, case: MediationCase, actor: User) -> MediationCase:
    """settled → in_mediation, only when the court rejected the application to confirm
    the settlement (`MediationCase.court_rejected_settlement`), by the case's mediator,
    to amend the agreement. The originating work order, whose clock restarted when the
    case settled, has it stopped again for the mediation (an order whose clock no longer
    runs, waiting for the general liaison or closed, is left in its state) and records
    on its timeline that the mediation resumed, for whoever handles it. The caller (the
    documents app) reopens the rooms and starts the new agreement in this transaction."""
    case = lock_case_for_action(case, actor, "resume")
    order = lock_work_order_of(case)
    from_status = case.status
    case.status = MediationCase.Status.IN_MEDIATION
    case.concluded_at = None
    case.save(update_fields=["status", "concluded_at", "updated_at"])
    record_case_event(case, actor=actor, action="resume", from_status=from_status, data={"reason": "rejected"})
    signals.case_status_changed.send(sender=MediationCase, case=case, from_status=from_status)
    if order is not None:
        work_orders.record_event(
            order,
            actor=actor,
            action="mediation_resumed",
            from_status=order.status,
            data={"case": case.pk, "case_number": case.number, "reason": "confirmation_rejected"},
        )
        work_orders.pause_for_mediation(order=order, actor=actor, case_number=case.number)
    return case


def localtime_label(moment: dt.datetime) -> str:
    return moment.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
