"""Two-track supervision of mediation cases (双轨制督办), as for work orders
(mediation.services.supervision).

Track one is `check_case_deadlines`, run by the `check_deadlines` command: a warning
when 75 % of a case's mediation period has passed and an overdue flag once its
deadline has passed, to the mediator and the judge (the organisation's admins while
a delegated case has no mediator). Track two is the supervision notice (督办) that
the judge, a department head or the general liaison issues on a case, with a date to
answer by, and the mediator's answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from mediation import policy
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import CaseDeadlineAlert, CaseSupervisionNotice, MediationCase, User
from mediation.notifications import notify
from mediation.roles import Role
from mediation.services.case_deadlines import warning_date
from mediation.services.cases import case_url, lock_case, lock_case_for_action, record_case_event
from mediation.services.work_orders import general_liaisons
from mediation.working_calendar import local_zone

MAX_NOTICE_LENGTH = 2000


def organisation_admins(case: MediationCase) -> list[User]:
    if case.organisation_id is None:
        return []
    return list(case.organisation.admins.filter(is_active=True, groups__name=Role.ORGANISATION_ADMIN))


def responsible_for(case: MediationCase) -> list[User]:
    """Who answers for a case's progress now: its mediator, or, while a delegated case
    has none, its organisation's admins (who dispatch it)."""
    if case.mediator_id is not None:
        return [case.mediator]
    return organisation_admins(case)


def overseers_of(case: MediationCase) -> list[User]:
    """Who watches over it: the case's judge, else the general liaisons."""
    return [case.judge] if case.judge_id is not None else general_liaisons()


# -- track one: the automatic check ------------------------------------------------


@dataclass
class CaseDeadlineReport:
    warnings: int = 0
    overdue: int = 0


def check_case_deadlines(*, today: dt.date | None = None) -> CaseDeadlineReport:
    """Warn at 75 % of each open case's period and flag it once its deadline has
    passed. Idempotent: each (case, level, deadline) is alerted once, guarded by a
    unique constraint; an extension gives a new deadline, hence new alerts."""
    today = today or timezone.localdate()
    report = CaseDeadlineReport()
    alerted = CaseDeadlineAlert.objects.filter(case=OuterRef("pk"), deadline=OuterRef("deadline"))
    candidates = (
        MediationCase.objects.filter(status__in=MediationCase.OPEN_STATUSES)
        .annotate(
            warned=Exists(alerted.filter(level=CaseDeadlineAlert.Level.WARNING)),
            flagged=Exists(alerted.filter(level=CaseDeadlineAlert.Level.OVERDUE)),
        )
        .filter(flagged=False)
        .select_related("mediator", "judge", "organisation")
    )
    for case in candidates.iterator(chunk_size=500):
        if case.deadline < today:
            if _alert(case, CaseDeadlineAlert.Level.OVERDUE, today):
                report.overdue += 1
        elif (
            not case.warned
            and today >= warning_date(case.started_on, case.deadline)
            and _alert(case, CaseDeadlineAlert.Level.WARNING, today)
        ):
            report.warnings += 1
    return report


def _alert(case: MediationCase, level: str, today: dt.date) -> bool:
    params = {"number": case.number, "due": case.deadline.isoformat(), "days": (case.deadline - today).days}
    if case.mediator_id is None:
        kind = "case_deadline.unassigned" if level == CaseDeadlineAlert.Level.WARNING else "case_deadline.overdue"
    else:
        kind = f"case_deadline.{level}"
    try:
        with transaction.atomic():
            CaseDeadlineAlert.objects.create(case=case, level=level, deadline=case.deadline)
            if level == CaseDeadlineAlert.Level.OVERDUE:
                record_case_event(
                    case, actor=None, action="deadline_overdue", data={"deadline": case.deadline.isoformat()}
                )
            notify(recipients=responsible_for(case) + overseers_of(case), kind=kind, params=params, url=case_url(case))
    except IntegrityError:
        return False
    return True


# -- track two: supervision notices --------------------------------------------------


def _format_due(moment: dt.datetime) -> str:
    return formats.date_format(moment.astimezone(local_zone()), "Y-m-d H:i")


@transaction.atomic
def issue_case_supervision_notice(
    *, case: MediationCase, actor: User, content: str, due_at: dt.datetime
) -> CaseSupervisionNotice:
    """The judge, the general liaison or a department head of the case's people asks
    for an account of an open case by `due_at`; the mediator (the organisation's
    admins while it has none) is told, and the judge when someone else issued it."""
    case = lock_case_for_action(case, actor, "supervise")
    content = content.strip()
    errors = {}
    if not content:
        errors["content"] = _("Write what the supervision notice asks for.")
    elif len(content) > MAX_NOTICE_LENGTH:
        errors["content"] = _("Keep the notice under %(limit)s characters.") % {"limit": MAX_NOTICE_LENGTH}
    if due_at <= timezone.now():
        errors["due_at"] = _("The answer deadline must be in the future.")
    if errors:
        raise ValidationError(errors)
    notice = CaseSupervisionNotice.objects.create(case=case, issued_by=actor, content=content, due_at=due_at)
    record_case_event(
        case,
        actor=actor,
        action="supervise",
        note=content,
        data={"notice": notice.pk, "due_at": due_at.isoformat()},
    )
    recipients = responsible_for(case) + [person for person in overseers_of(case) if person != actor]
    notify(
        recipients=recipients,
        kind="case.supervised",
        params={"number": case.number, "due": _format_due(due_at)},
        url=case_url(case),
    )
    return notice


@transaction.atomic
def answer_case_supervision_notice(
    *, notice: CaseSupervisionNotice, actor: User, response: str
) -> CaseSupervisionNotice:
    """The case's mediator answers a notice, once; whoever issued it is told."""
    case = lock_case(notice.case)
    notice = CaseSupervisionNotice.objects.select_for_update().get(pk=notice.pk)
    if not policy.can_on_case(actor, "answer_supervision", case):
        raise ActionForbidden(_("You may not answer this supervision notice."))
    if not notice.is_open:
        raise TransitionNotAllowed(_("This supervision notice has already been answered."))
    response = response.strip()
    if not response:
        raise ValidationError({"response": _("Write the answer to the notice.")})
    if len(response) > MAX_NOTICE_LENGTH:
        raise ValidationError(
            {"response": _("Keep the answer under %(limit)s characters.") % {"limit": MAX_NOTICE_LENGTH}}
        )
    notice.response = response
    notice.responded_by = actor
    notice.responded_at = timezone.now()
    notice.save(update_fields=["response", "responded_by", "responded_at"])
    record_case_event(case, actor=actor, action="answer_supervision", note=response, data={"notice": notice.pk})
    notify(
        recipients=[notice.issued_by],
        kind="case.supervision_answered",
        params={"number": case.number},
        url=case_url(case),
    )
    return notice
