"""A party's to-do list in a case: what they have to do next, in order (consent to
electronic service, acknowledge what was served, the next session and how to join
it, sign the agreement when it is their turn), and what they are waiting for when
nothing is theirs to do.

A task is stored as a code and parameters and rendered in the reader's language
(`Task.text`). It is built from the rules the pages themselves follow: who may sign
now is `documents.agreement_rules.signing_options`, which services a party may
follow is `documents.access.visible_services` (only services on them are tasks),
which sessions they may know of is `mediation.participation.rooms_of_user`. So a
task never names the other side's caucus or a document shown to one side only.

It lives in documents, not mediation, because mediation imports nothing from the
apps built on it; the case pages reach it through the `case_tags` template tags.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from documents import selectors
from documents.access import visible_services
from documents.agreement_rules import party_slot, signer_slots_of, signing_authority_refusal, signing_options
from documents.models import Agreement, Obligation, Service
from mediation.models import MediationCase, MediationSession, Participant, RoomKind, User
from mediation.participation import rooms_of_user

# A session not started by then is not the next one any more (the longest a session
# is planned for is a day).
MAX_SESSION_LENGTH = dt.timedelta(days=1)

# What each task says, by code. A waiting item ("waiting.*") is something the party
# cannot act on; the others are theirs to do.
TEXTS = {
    "consent": _("Agree to receive the documents of this case electronically."),
    "acknowledge": _("Read the documents served on you and acknowledge receipt."),
    "session": _("Join the mediation session on %(starts)s (%(room)s)."),
    "session.now": _("The mediation session has started: join it now (%(room)s)."),
    "sign": _("Read the settlement agreement and sign it: it is your turn."),
    "waiting.mediator_signs": _(
        "The settlement agreement is final. The mediator signs it first; you will be told when it is your turn."
    ),
    "waiting.signers": _("You have signed. Waiting for %(names)s to sign."),
    "waiting.seal": _("Everyone has signed. The platform seals the agreement; you will be told when it is sealed."),
    "waiting.agreement_draft": _("The mediator is drafting the settlement agreement."),
    "waiting.mediator": _("Nothing for you to do now. The mediator prepares the next step of the mediation."),
    "done.sealed": _("The settlement agreement is signed and sealed: download it."),
    # Performance of the agreed terms (documents.performance_rules decides who may).
    "obligation.report": _("Term %(term)s of the agreement is due on %(due)s: report it performed once done."),
    "obligation.report.undated": _("Term %(term)s of the agreement: report it performed once done."),
    "obligation.confirm": _("The other side reports term %(term)s of the agreement performed: confirm or dispute it."),
    "confirmation.sign": _("Sign the application for judicial confirmation, by %(date)s."),
    # An agent's, until they may sign (documents.agreement_rules.signing_authority_refusal).
    "power_of_attorney.upload": _(
        "Upload your power of attorney with special authority to settle: you can sign the settlement agreement "
        "once the mediator has checked it."
    ),
    "power_of_attorney.rejected": _("The mediator rejected your power of attorney: read why and upload a new one."),
    "power_of_attorney.scope": _(
        "Your power of attorney does not give you authority to settle and sign the agreement: upload one that does."
    ),
    "power_of_attorney.expired": _("Your power of attorney has expired: upload a new one."),
    "waiting.power_of_attorney": _(
        "The mediator checks your power of attorney; you can sign the settlement agreement once it is checked."
    ),
}

# The task of an agent who may not sign, by the refusal's code.
AUTHORITY_TASKS = {
    "no_power_of_attorney": "power_of_attorney.upload",
    "power_of_attorney_rejected": "power_of_attorney.rejected",
    "power_of_attorney_scope": "power_of_attorney.scope",
    "power_of_attorney_expired": "power_of_attorney.expired",
    "power_of_attorney_unchecked": "waiting.power_of_attorney",
}


def names_listed(names: list[str]) -> str:
    """Names in a row as the reader's language lists them (A, B; 甲、乙)."""
    return pgettext("between names in a list", ", ").join(names)


@dataclass(frozen=True)
class Task:
    code: str
    params: dict = field(default_factory=dict)
    url: str = ""
    due: dt.datetime | None = None

    @property
    def is_waiting(self) -> bool:
        return self.code.startswith(("waiting.", "done."))

    @property
    def text(self) -> str:
        """The task in the active language (the reader's)."""
        params = dict(self.params)
        if "starts" in params:
            params["starts"] = formats.date_format(timezone.localtime(params["starts"]), "DATETIME_FORMAT")
        if "room" in params:
            params["room"] = RoomKind(params["room"]).label
        if "due" in params:
            params["due"] = formats.date_format(params["due"], "DATE_FORMAT")
        if "date" in params:
            params["date"] = formats.date_format(dt.date.fromisoformat(params["date"]), "DATE_FORMAT")
        if "names" in params:
            params["names"] = names_listed(params["names"])
        return str(TEXTS[self.code]) % params


def _participations(case: MediationCase, user: User) -> list[Participant]:
    return list(Participant.active.filter(case=case, user=user).select_related("party"))


def _consent_task(case: MediationCase, user: User) -> list[Task]:
    if not case.is_open or selectors.consent_of(case, user) is not None:
        return []
    return [Task("consent", url=reverse("case_documents", args=[case.pk]) + "#consent-heading")]


def _service_tasks(case: MediationCase, user: User) -> list[Task]:
    pending = (
        visible_services(user, case)
        .filter(recipient=user, method=Service.Method.ELECTRONIC, status__in=Service.AWAITING_RECIPIENT)
        .order_by("acknowledge_by", "pk")
    )
    return [
        Task("acknowledge", url=reverse("service_detail", args=[service.pk]), due=service.acknowledge_by)
        for service in pending
    ]


def next_session(case: MediationCase, user: User, now: dt.datetime | None = None) -> MediationSession | None:
    """The next session of the case this user may know of, neither cancelled nor
    ended: one under way, or the next one not yet over by its planned end."""
    now = now or timezone.now()
    sessions = (
        case.sessions.filter(rooms_of_user(user, kind_field="room_kind"))
        .filter(cancelled_at__isnull=True, ended_at__isnull=True, starts_at__gte=now - MAX_SESSION_LENGTH)
        .order_by("starts_at", "pk")
    )
    for session in sessions:
        if session.started_at is not None or session.starts_at + dt.timedelta(minutes=session.duration_minutes) > now:
            return session
    return None


def _session_tasks(case: MediationCase, user: User) -> list[Task]:
    if not case.is_open:
        return []
    session = next_session(case, user)
    if session is None:
        return []
    room = case.rooms.filter(kind=session.room_kind).first()
    url = reverse("room", args=[room.pk]) if room is not None else ""
    if session.started_at is not None:
        return [Task("session.now", {"room": session.room_kind}, url=url)]
    return [Task("session", {"starts": session.starts_at, "room": session.room_kind}, url=url, due=session.starts_at)]


def _authority_tasks(case: MediationCase, user: User) -> list[Task]:
    """An agent's, while the case is open and they may not sign for their party: what
    to do about their power of attorney, or that the mediator checks it."""
    if not case.is_open:
        return []
    tasks = []
    for participant in _participations(case, user):
        refusal = signing_authority_refusal(participant)
        # An interpreter's or a helper's refusal is final: no task for them.
        if refusal is not None and refusal.code in AUTHORITY_TASKS:
            tasks.append(Task(AUTHORITY_TASKS[refusal.code], url=reverse("powers_of_attorney", args=[case.pk])))
    return tasks


def _agreement_tasks(case: MediationCase, user: User) -> list[Task]:
    agreement = selectors.latest_agreement(case)
    if agreement is None:
        return []
    if agreement.is_sealed:
        return [Task("done.sealed", url=reverse("agreement_detail", args=[agreement.pk]))]
    if agreement.status == Agreement.Status.DRAFT:
        return [Task("waiting.agreement_draft")]
    version = agreement.current_version
    signed = selectors.signed_slots(version)
    options = signing_options(agreement, user, signed)
    detail = reverse("agreement_detail", args=[agreement.pk])
    if options.may_sign:
        return [Task("sign", url=reverse("agreement_sign", args=[agreement.pk]))]
    if options.waiting_for_mediator:
        return [Task("waiting.mediator_signs", url=detail)]
    if options.refusals:
        # Theirs to sign once they have the authority: the power of attorney's task says so.
        return []
    missing = [entry for entry in version.signature_slots if entry["slot"] not in signed]
    if not missing:
        return [Task("waiting.seal", url=detail)]
    mine = {party_slot(participant.party) for participant in _participations(case, user)}
    if not mine & signer_slots_of(agreement):
        return []
    waiting_for = [entry["party"] for entry in missing if entry["party"]]
    names = list(case.parties.filter(pk__in=waiting_for).values_list("name", flat=True))
    return [Task("waiting.signers", {"names": names}, url=detail)]


def _performance_tasks(case: MediationCase, user: User) -> list[Task]:
    """The obligor's side: report the next obligation it owes; the obligee's side:
    answer each report. The actions are those the performance page offers."""
    from documents.performance_rules import available_actions
    from documents.selectors_performance import obligations_of_case

    url = reverse("case_performance", args=[case.pk])
    tasks, reported = [], False
    for obligation in obligations_of_case(case).filter(status__in=Obligation.OPEN_STATUSES):
        actions = available_actions(user, obligation)
        if "confirm" in actions:
            tasks.append(Task("obligation.confirm", {"term": obligation.term_number}, url=url))
        elif "report_performed" in actions and not reported:
            # The next one only: a schedule of ten instalments is not ten tasks.
            reported = True
            if obligation.due_date is None:
                tasks.append(Task("obligation.report.undated", {"term": obligation.term_number}, url=url))
            else:
                tasks.append(
                    Task("obligation.report", {"term": obligation.term_number, "due": obligation.due_date}, url=url)
                )
    return tasks


def _confirmation_tasks(case: MediationCase, user: User) -> list[Task]:
    """The application for judicial confirmation, to sign when a place on it is theirs
    now (`court_document_signer_slots`, the sign page's rule)."""
    from documents.models import JudicialConfirmation
    from documents.services.court_documents import court_document_signer_slots

    tasks = []
    preparing = JudicialConfirmation.objects.filter(
        case=case, status=JudicialConfirmation.Status.PREPARING, application__isnull=False
    ).select_related("application", "application__case")
    for confirmation in preparing:
        if court_document_signer_slots(confirmation.application, user):
            tasks.append(
                Task(
                    "confirmation.sign",
                    {"date": confirmation.apply_by.isoformat()},
                    url=reverse("court_document_sign", args=[confirmation.application_id]),
                )
            )
    return tasks


def party_tasks(case: MediationCase, user: User) -> list[Task]:
    """The open tasks of one of the case's parties' people, in the order they come:
    theirs to do first, then what they wait for. Empty for anyone who takes part in
    the case for no party (the mediator, the judge)."""
    if not _participations(case, user):
        return []
    tasks = [
        *_consent_task(case, user),
        *_service_tasks(case, user),
        *_authority_tasks(case, user),
        *_agreement_tasks(case, user),
        *_performance_tasks(case, user),
        *_confirmation_tasks(case, user),
        *_session_tasks(case, user),
    ]
    todo = [task for task in tasks if not task.is_waiting]
    waiting = [task for task in tasks if task.is_waiting]
    if not tasks and case.is_open:
        waiting.append(Task("waiting.mediator"))
    return todo + waiting


def open_task_count(tasks: list[Task]) -> int:
    return sum(1 for task in tasks if not task.is_waiting)
