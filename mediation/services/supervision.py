"""Two-track supervision (双轨制督办) and the return visit.

Track one is `check_deadlines`, which warns and flags by itself; track two is the
liaison's supervision notice. The return visit follows a closed order and may reopen
it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import DeadlineAlert, ReturnVisit, SupervisionNotice, User, WorkOrder
from mediation.models.work_orders import Satisfaction
from mediation.notifications import notify
from mediation.policy import can
from mediation.services import deadlines
from mediation.services.work_orders import (
    apply_transition,
    department_managers,
    general_liaisons,
    lock_for_action,
    lock_order,
    order_url,
    record_event,
    update_order,
)
from mediation.working_calendar import WorkingCalendar, local_zone


def _responsible(order: WorkOrder) -> list[User]:
    """Who answers for an order now: its assignee, else its department's managers,
    else (not yet dispatched) the general liaisons."""
    if order.assignee is not None:
        return [order.assignee]
    if order.department is not None:
        return department_managers(order.department)
    return general_liaisons()


def _format_due(moment: dt.datetime) -> str:
    return formats.date_format(moment.astimezone(local_zone()), "Y-m-d H:i")


@transaction.atomic
def issue_supervision_notice(*, order: WorkOrder, actor: User, content: str, due_at: dt.datetime) -> SupervisionNotice:
    order = lock_for_action(order, actor, "supervise")
    errors = {}
    if not content.strip():
        errors["content"] = _("Write what the supervision notice asks for.")
    if due_at <= timezone.now():
        errors["due_at"] = _("The answer deadline must be in the future.")
    if errors:
        raise ValidationError(errors)
    notice = SupervisionNotice.objects.create(order=order, issued_by=actor, content=content.strip(), due_at=due_at)
    record_event(
        order,
        actor=actor,
        action="supervise",
        from_status=order.status,
        note=content.strip(),
        data={"notice": notice.pk, "due_at": due_at.isoformat()},
    )
    notify(
        recipients=_responsible(order) + department_managers(order.department),
        kind="work_order.supervised",
        params={"number": order.number, "due": _format_due(due_at)},
        url=order_url(order),
    )
    return notice


@transaction.atomic
def answer_supervision_notice(*, notice: SupervisionNotice, actor: User, response: str) -> SupervisionNotice:
    notice = SupervisionNotice.objects.select_for_update().select_related("order").get(pk=notice.pk)
    order = lock_order(notice.order)
    if not can(actor, "answer_supervision", order):
        raise ActionForbidden(_("You may not answer this supervision notice."))
    if not notice.is_open:
        raise TransitionNotAllowed(_("This supervision notice has already been answered."))
    if not response.strip():
        raise ValidationError({"response": _("Write the answer to the notice.")})
    notice.response = response.strip()
    notice.responded_by = actor
    notice.responded_at = timezone.now()
    notice.save(update_fields=["response", "responded_by", "responded_at"])
    record_event(
        order,
        actor=actor,
        action="answer_supervision",
        from_status=order.status,
        note=notice.response,
        data={"notice": notice.pk},
    )
    notify(
        recipients=[notice.issued_by],
        kind="work_order.supervision_answered",
        params={"number": order.number},
        url=order_url(order),
    )
    return notice


@transaction.atomic
def record_return_visit(
    *,
    order: WorkOrder,
    actor: User,
    reached: bool,
    resolved: bool | None = None,
    satisfaction: str = "",
    comment: str = "",
    reopen: bool = False,
) -> ReturnVisit:
    """Record a return visit (回访) to a closed order. Only an unsatisfied requester's
    order may be reopened; reopening restarts its completion clock."""
    order = lock_for_action(order, actor, "return_visit")
    errors = {}
    if reached and satisfaction not in Satisfaction.values:
        errors["satisfaction"] = _("Record how satisfied the requester is.")
    if not reached and (satisfaction or resolved is not None):
        errors["satisfaction"] = _("A requester who was not reached gives no rating.")
    if reopen and satisfaction != Satisfaction.UNSATISFIED:
        errors["reopen"] = _("Only an order whose requester is unsatisfied can be reopened.")
    if errors:
        raise ValidationError(errors)
    if reopen and not can(actor, "reopen", order):
        raise ActionForbidden(_("You may not reopen this work order."))
    visit = ReturnVisit.objects.create(
        order=order,
        visitor=actor,
        reached=reached,
        resolved=resolved if reached else None,
        satisfaction=satisfaction if reached else "",
        comment=comment.strip(),
        reopened=reopen,
    )
    # An unreached requester counts as visited but keeps any earlier rating.
    visit_fields = {"return_visited_at": visit.visited_at}
    if reached:
        visit_fields["return_visit_satisfaction"] = satisfaction
    update_order(order, **visit_fields)
    record_event(
        order,
        actor=actor,
        action="return_visit",
        from_status=order.status,
        note=comment.strip(),
        data={"reached": reached, "resolved": resolved, "satisfaction": satisfaction},
    )
    if reopen:
        _reopen(order, actor=actor, reason=comment.strip())
    return visit


def _reopen(order: WorkOrder, *, actor: User, reason: str) -> None:
    now = timezone.now()
    fields = {
        "replied_at": None,
        "closed_at": None,
        **deadlines.restarted_completion_clock(calendar=WorkingCalendar.load(), order=order, moment=now),
    }
    from_status = apply_transition(order, "reopen", **fields)
    record_event(order, actor=actor, action="reopen", from_status=from_status, note=reason)
    notify(
        recipients=_responsible(order) + department_managers(order.department),
        kind="work_order.reopened",
        params={"number": order.number},
        url=order_url(order),
    )


@dataclass
class DeadlineCheckReport:
    warnings: int = 0
    overdue: int = 0


CLOCKS = {
    DeadlineAlert.Clock.FIRST_CONTACT: {
        "due": "first_contact_due",
        "warn_at": "first_contact_warn_at",
        "filter": {"first_contacted_at__isnull": True},
    },
    DeadlineAlert.Clock.COMPLETION: {
        "due": "completion_due",
        "warn_at": "completion_warn_at",
        "filter": {"paused_at__isnull": True},
    },
}


def check_deadlines(*, now: dt.datetime | None = None) -> DeadlineCheckReport:
    """Warn at 75 % of each clock and flag overdue orders once the clock has run out.
    Idempotent: each (order, clock, level, deadline) is alerted once, guarded by a
    unique constraint, so concurrent or repeated runs send nothing twice."""
    now = now or timezone.now()
    report = DeadlineCheckReport()
    for clock, spec in CLOCKS.items():
        already_alerted = DeadlineAlert.objects.filter(order=OuterRef("pk"), clock=clock, due_at=OuterRef(spec["due"]))
        candidates = (
            WorkOrder.objects.filter(
                status__in=WorkOrder.CLOCK_RUNNING_STATUSES,
                **{f"{spec['warn_at']}__lte": now},
                **spec["filter"],
            )
            .annotate(
                warned=Exists(already_alerted.filter(level=DeadlineAlert.Level.WARNING)),
                flagged=Exists(already_alerted.filter(level=DeadlineAlert.Level.OVERDUE)),
            )
            .filter(flagged=False)
            .select_related("assignee", "department")
        )
        for order in candidates.iterator(chunk_size=500):
            due = getattr(order, spec["due"])
            if due <= now:
                if _alert(order, clock, DeadlineAlert.Level.OVERDUE, due):
                    report.overdue += 1
            elif not order.warned and _alert(order, clock, DeadlineAlert.Level.WARNING, due):
                report.warnings += 1
    return report


def _alert(order: WorkOrder, clock: str, level: str, due: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            DeadlineAlert.objects.create(order=order, clock=clock, level=level, due_at=due)
            if level == DeadlineAlert.Level.OVERDUE:
                recipients = _responsible(order) + department_managers(order.department)
                record_event(
                    order,
                    actor=None,
                    action="deadline_overdue",
                    from_status=order.status,
                    data={"clock": clock, "due_at": due.isoformat()},
                )
            else:
                recipients = _responsible(order)
            notify(
                recipients=recipients,
                kind=f"deadline.{clock}.{level}",
                params={"number": order.number, "due": _format_due(due)},
                url=order_url(order),
            )
    except IntegrityError:
        return False
    return True
