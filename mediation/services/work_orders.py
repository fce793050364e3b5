"""Work-order actions, one verb each.

Every function checks that the actor may act and that the order's state allows it,
then changes the order under a row lock, writes one timeline entry and one audit
entry, and schedules notifications for after the commit, all in one transaction. If
any check fails, a `DomainError` or `ActionForbidden` is raised and nothing changes.

`actor=None` means the platform itself (a management command); it bypasses the role
check, never the state check.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation import audit, phones, policy
from mediation.errors import ActionForbidden, TransitionNotAllowed
from mediation.models import Department, User, WorkOrder, WorkOrderEvent, WorkOrderReply
from mediation.models.work_orders import Category, Channel, ReplyChannel, RequesterRole
from mediation.notifications import notify
from mediation.roles import Role
from mediation.services import deadlines, webhooks
from mediation.services.numbering import next_sequence_value
from mediation.working_calendar import WorkingCalendar, local_zone

# How far in the future a caller's clock may be before `received_at` is refused.
CLOCK_SKEW_TOLERANCE = dt.timedelta(minutes=2)

ACTION_LABELS = {
    "receive": gettext_lazy("Received"),
    "import": gettext_lazy("Imported from the ledger"),
    "dispatch": gettext_lazy("Dispatched"),
    "assign": gettext_lazy("Assigned"),
    "return": gettext_lazy("Returned"),
    "start": gettext_lazy("Taken up"),
    "record_contact": gettext_lazy("Requester contacted"),
    "pause": gettext_lazy("Waiting for the requester"),
    "resume": gettext_lazy("Clock resumed"),
    "pause_for_mediation": gettext_lazy("Clock stopped during mediation"),
    "resume_after_mediation": gettext_lazy("Clock resumed after mediation"),
    "reply": gettext_lazy("Requester answered"),
    "submit": gettext_lazy("Submitted for confirmation"),
    "close": gettext_lazy("Closed"),
    "reopen": gettext_lazy("Reopened"),
    "supervise": gettext_lazy("Supervision notice"),
    "answer_supervision": gettext_lazy("Supervision notice answered"),
    "return_visit": gettext_lazy("Return visit"),
    "deadline_overdue": gettext_lazy("Deadline passed"),
    "refer_to_mediation": gettext_lazy("Referred to mediation"),
    "mediation_outcome": gettext_lazy("Mediation outcome"),
    "transfer_to_filing": gettext_lazy("Filed as an ordinary case"),
    "enforcement_application": gettext_lazy("Application for enforcement made"),
    "mediation_resumed": gettext_lazy("Mediation resumed: the court rejected the settlement"),
}


def normalise_case_number(value: str) -> str:
    """Case numbers are typed with full-width or half-width brackets; store one form."""
    return value.strip().replace("（", "(").replace("）", ")").replace(" ", "")


def order_url(order: WorkOrder) -> str:
    return reverse("work_order_detail", args=[order.number])


def lock_order(order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.select_for_update().get(pk=order.pk)


def _check(actor: User | None, action: str, order: WorkOrder) -> None:
    # The state first: whoever may see the order may know its state, and "not
    # possible now" is the more useful answer to someone who will be allowed later.
    if not order.allows(action):
        raise TransitionNotAllowed(
            _("Work order %(number)s is “%(status)s”; “%(action)s” is not possible now.")
            % {
                "number": order.number,
                "status": order.get_status_display(),
                "action": ACTION_LABELS.get(action, action),
            }
        )
    if actor is not None and not policy.can(actor, action, order):
        raise ActionForbidden(_("You may not do this to work order %(number)s.") % {"number": order.number})


def lock_for_action(order: WorkOrder, actor: User | None, action: str) -> WorkOrder:
    """Lock the order's row and check the action against the fresh row."""
    locked = lock_order(order)
    _check(actor, action, locked)
    return locked


def record_event(
    order: WorkOrder,
    *,
    actor: User | None,
    action: str,
    from_status: str,
    note: str = "",
    data: dict | None = None,
) -> WorkOrderEvent:
    event = WorkOrderEvent.objects.create(
        order=order,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=order.status,
        note=note,
        data=data or {},
    )
    audit.record(
        actor=actor,
        action=f"work_order.{action}",
        target=order,
        data={"from": from_status, "to": order.status, "note": note, **(data or {})},
    )
    return event


def apply_transition(order: WorkOrder, action: str, **fields) -> str:
    from_status = order.status
    _target_states, to_status = WorkOrder.TRANSITIONS[action]
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "updated_at", *fields])
    return from_status


def update_order(order: WorkOrder, **fields) -> None:
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["updated_at", *fields])


def _staff_of(department: Department | None, role: Role) -> list[User]:
    if department is None:
        return []
    return list(User.objects.filter(department=department, groups__name=role, is_active=True))


def general_liaisons() -> list[User]:
    return list(User.objects.filter(groups__name=Role.GENERAL_LIAISON, is_active=True))


def department_managers(department: Department | None) -> list[User]:
    return _staff_of(department, Role.DEPARTMENT_LIAISON) + _staff_of(department, Role.DEPARTMENT_HEAD)


def _order_params(order: WorkOrder, **extra) -> dict:
    return {"number": order.number, **extra}


def validate_received_at(received_at: dt.datetime, *, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": _("Give the time with its UTC offset, e.g. 2026-10-09T09:30:00+08:00.")})
    if received_at > now + CLOCK_SKEW_TOLERANCE:
        raise ValidationError({"received_at": _("The time the request was received cannot be in the future.")})


def validate_intake(*, channel, category, requester_name, requester_phone, content, requester_role, received_at):
    errors = {}
    if channel not in Channel.values:
        errors["channel"] = _("Unknown channel “%(value)s”; use one of: %(choices)s.") % {
            "value": channel,
            "choices": ", ".join(Channel.values),
        }
    if category not in Category.values:
        errors["category"] = _("Unknown category “%(value)s”; use one of: %(choices)s.") % {
            "value": category,
            "choices": ", ".join(Category.values),
        }
    if requester_role not in RequesterRole.values:
        errors["requester_role"] = _("Unknown role “%(value)s”.") % {"value": requester_role}
    if not (requester_name or "").strip():
        errors["requester_name"] = _("The requester's name is required.")
    try:
        phones.to_e164(requester_phone, field="requester_phone")
    except ValidationError as error:
        errors.update(error.message_dict)
    if not (content or "").strip():
        errors["content"] = _("Describe the request.")
    try:
        validate_received_at(received_at)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


def receive_work_order(
    *,
    actor: User | None,
    channel: str,
    category: str,
    requester_name: str,
    requester_phone: str,
    content: str,
    received_at: dt.datetime | None = None,
    requester_id_number: str = "",
    requester_role: str = RequesterRole.OTHER,
    case_number: str = "",
    external_source: str = "",
    external_id: str = "",
    calendar: WorkingCalendar | None = None,
) -> tuple[WorkOrder, bool]:
    """Record a new request. With an `external_id` the call is idempotent per
    `external_source`: the same id returns the order already recorded and `False`."""
    if actor is not None and not policy.can(actor, "receive"):
        raise ActionForbidden(_("You may not record work orders."))
    if external_id:
        existing = WorkOrder.objects.filter(external_source=external_source, external_id=external_id).first()
        if existing is not None:
            return existing, False
    received_at = received_at or timezone.now()
    validate_intake(
        channel=channel,
        category=category,
        requester_name=requester_name,
        requester_phone=requester_phone,
        content=content,
        requester_role=requester_role,
        received_at=received_at,
    )
    calendar = calendar or WorkingCalendar.load()
    try:
        with transaction.atomic():
            order = WorkOrder.objects.create(
                number=next_work_order_number(received_at),
                external_source=external_source,
                external_id=external_id,
                channel=channel,
                category=category,
                requester_name=requester_name.strip(),
                requester_phone=phones.to_e164(requester_phone, field="requester_phone"),
                requester_id_number=requester_id_number.strip(),
                requester_role=requester_role,
                case_number=normalise_case_number(case_number),
                content=content.strip(),
                received_at=received_at,
                created_by=actor,
                **deadlines.initial_deadlines(calendar=calendar, received_at=received_at, category=category),
            )
            record_event(order, actor=actor, action="receive", from_status="", data={"channel": channel})
    except IntegrityError:
        if not external_id:
            raise
        # Two deliveries of the same external id raced; the other one won.
        return WorkOrder.objects.get(external_source=external_source, external_id=external_id), False
    return order, True


def next_work_order_number(received_at: dt.datetime) -> str:
    from django.conf import settings

    year = received_at.astimezone(local_zone()).year
    value = next_sequence_value(f"work_order:{year}")
    return f"{settings.WORK_ORDER_NUMBER_PREFIX}-{year}-{value:06d}"


def _validate_assignee(assignee: User | None, department: Department) -> None:
    if assignee is None:
        return
    if not assignee.groups.filter(name=Role.JUDGE).exists():
        raise ValidationError({"assignee": _("%(name)s is not a judge.") % {"name": assignee}})
    if assignee.department_id != department.pk:
        raise ValidationError(
            {
                "assignee": _("%(name)s does not belong to %(department)s.")
                % {"name": assignee, "department": department}
            }
        )


@transaction.atomic
def dispatch_work_order(
    *, order: WorkOrder, actor: User | None, department: Department, assignee: User | None = None, note: str = ""
) -> WorkOrder:
    """received/returned → dispatched, to a department and optionally one of its judges.
    The department's head and liaison are told; so is the judge."""
    order = lock_for_action(order, actor, "dispatch")
    if not department.is_active:
        raise ValidationError({"department": _("This department no longer takes work orders.")})
    _validate_assignee(assignee, department)
    from_status = apply_transition(order, "dispatch", department=department, assignee=assignee)
    record_event(
        order,
        actor=actor,
        action="dispatch",
        from_status=from_status,
        note=note,
        data={"department": department.name, "assignee": assignee.pk if assignee else None},
    )
    notify(
        recipients=department_managers(department),
        kind="work_order.dispatched",
        params=_order_params(order, department=department.name),
        url=order_url(order),
    )
    if assignee is not None:
        notify(recipients=[assignee], kind="work_order.assigned", params=_order_params(order), url=order_url(order))
    return order


@transaction.atomic
def assign_work_order(*, order: WorkOrder, actor: User | None, assignee: User, note: str = "") -> WorkOrder:
    """Give the order to one of its department's judges; the state stays."""
    order = lock_for_action(order, actor, "assign")
    _validate_assignee(assignee, order.department)
    update_order(order, assignee=assignee)
    record_event(
        order, actor=actor, action="assign", from_status=order.status, note=note, data={"assignee": assignee.pk}
    )
    notify(recipients=[assignee], kind="work_order.assigned", params=_order_params(order), url=order_url(order))
    return order


@transaction.atomic
def return_work_order(*, order: WorkOrder, actor: User | None, reason: str) -> WorkOrder:
    """dispatched → returned: not this department's matter. The general liaisons are
    told and dispatch it again."""
    order = lock_for_action(order, actor, "return")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is returned.")})
    department = order.department
    from_status = apply_transition(order, "return", assignee=None)
    record_event(order, actor=actor, action="return", from_status=from_status, note=reason.strip())
    notify(
        recipients=general_liaisons(),
        kind="work_order.returned",
        params=_order_params(order, department=department.name if department else "", reason=reason.strip()),
        url=order_url(order),
    )
    return order


@transaction.atomic
def start_work_order(*, order: WorkOrder, actor: User | None, note: str = "") -> WorkOrder:
    """dispatched/reopened → in_progress: the assignee or the department takes it up."""
    order = lock_for_action(order, actor, "start")
    from_status = apply_transition(order, "start")
    record_event(order, actor=actor, action="start", from_status=from_status, note=note)
    return order


def _validate_past_moment(field: str, moment: dt.datetime, order: WorkOrder) -> None:
    if moment > timezone.now() + CLOCK_SKEW_TOLERANCE:
        raise ValidationError({field: _("This time cannot be in the future.")})
    if moment < order.received_at:
        raise ValidationError({field: _("This time cannot be before the order was received.")})


@transaction.atomic
def record_contact(
    *, order: WorkOrder, actor: User | None, note: str, contacted_at: dt.datetime | None = None
) -> WorkOrder:
    """Record a contact with the requester; the first one stops the first-contact clock."""
    order = lock_for_action(order, actor, "record_contact")
    contacted_at = contacted_at or timezone.now()
    _validate_past_moment("contacted_at", contacted_at, order)
    if not note.strip():
        raise ValidationError({"note": _("Say what was discussed with the requester.")})
    if order.first_contacted_at is None:
        update_order(order, first_contacted_at=contacted_at)
    record_event(
        order,
        actor=actor,
        action="record_contact",
        from_status=order.status,
        note=note.strip(),
        data={"contacted_at": contacted_at.isoformat()},
    )
    return order


@transaction.atomic
def pause_work_order(*, order: WorkOrder, actor: User | None, reason: str) -> WorkOrder:
    """Stop the completion clock while the order waits for the requester (materials,
    a callback)."""
    order = lock_for_action(order, actor, "pause")
    if not reason.strip():
        raise ValidationError({"reason": _("Say what the order is waiting for.")})
    update_order(
        order,
        paused_at=timezone.now(),
        pause_reason=reason.strip(),
        pause_reason_code=WorkOrder.PauseReason.REQUESTER,
    )
    record_event(
        order,
        actor=actor,
        action="pause",
        from_status=order.status,
        note=reason.strip(),
        data={"reason": WorkOrder.PauseReason.REQUESTER},
    )
    return order


def _resume_fields(order: WorkOrder, now: dt.datetime) -> dict:
    calendar = WorkingCalendar.load()
    return {
        **deadlines.resumed_deadlines(calendar=calendar, order=order, resumed_at=now),
        "paused_at": None,
        "pause_reason": "",
        "pause_reason_code": "",
    }


@transaction.atomic
def resume_work_order(*, order: WorkOrder, actor: User | None, note: str = "") -> WorkOrder:
    """Restart the completion clock; its deadline moves by the working time waited."""
    order = lock_for_action(order, actor, "resume")
    previous_due = order.completion_due
    update_order(order, **_resume_fields(order, timezone.now()))
    record_event(
        order,
        actor=actor,
        action="resume",
        from_status=order.status,
        note=note,
        data={"previous_due": previous_due.isoformat(), "completion_due": order.completion_due.isoformat()},
    )
    return order


def pause_for_mediation(*, order: WorkOrder, actor: User | None, case_number: str) -> None:
    """Stop the completion clock while the order's dispute is in mediation (the
    mediation has its own deadline). The caller opened the case and holds the order's
    row lock. An order already waiting for the requester keeps its pause, now for the
    mediation; an order whose clock does not run is left alone."""
    if order.status not in WorkOrder.CLOCK_RUNNING_STATUSES:
        return
    data = {"reason": WorkOrder.PauseReason.MEDIATION, "case_number": case_number}
    if order.is_paused:
        data["waiting_since"] = order.paused_at.isoformat()
        update_order(order, pause_reason_code=WorkOrder.PauseReason.MEDIATION, pause_reason="")
    else:
        update_order(order, paused_at=timezone.now(), pause_reason_code=WorkOrder.PauseReason.MEDIATION)
    record_event(order, actor=actor, action="pause_for_mediation", from_status=order.status, data=data)


def resume_after_mediation(*, order: WorkOrder | None, actor: User | None, case_number: str) -> None:
    """Restart the completion clock when the mediation case ends, its deadline moved by
    the working time (on the desk's working-day calendar) the mediation took. The
    caller ends the case and holds the order's row lock. Does nothing unless the
    order's clock is stopped for mediation."""
    if order is None or not order.is_in_mediation_pause:
        return
    previous_due = order.completion_due
    update_order(order, **_resume_fields(order, timezone.now()))
    record_event(
        order,
        actor=actor,
        action="resume_after_mediation",
        from_status=order.status,
        data={
            "reason": WorkOrder.PauseReason.MEDIATION,
            "case_number": case_number,
            "previous_due": previous_due.isoformat(),
            "completion_due": order.completion_due.isoformat(),
        },
    )


@transaction.atomic
def reply_to_requester(
    *,
    order: WorkOrder,
    actor: User,
    content: str,
    channel: str,
    replied_at: dt.datetime | None = None,
) -> WorkOrderReply:
    """in_progress → replied: the requester has been answered. This stops both clocks
    (and ends a pause)."""
    order = lock_for_action(order, actor, "reply")
    replied_at = replied_at or timezone.now()
    errors = {}
    if not content.strip():
        errors["content"] = _("Write the answer given to the requester.")
    if channel not in ReplyChannel.values:
        errors["channel"] = _("Choose how the requester was answered.")
    if errors:
        raise ValidationError(errors)
    _validate_past_moment("replied_at", replied_at, order)
    reply = WorkOrderReply.objects.create(
        order=order, author=actor, content=content.strip(), channel=channel, replied_at=replied_at
    )
    fields = {"replied_at": replied_at}
    if order.first_contacted_at is None:
        fields["first_contacted_at"] = replied_at
    if order.is_paused:
        fields.update(_resume_fields(order, replied_at))
    from_status = apply_transition(order, "reply", **fields)
    record_event(
        order,
        actor=actor,
        action="reply",
        from_status=from_status,
        note=content.strip(),
        data={"channel": channel, "replied_at": replied_at.isoformat()},
    )
    return reply


@transaction.atomic
def submit_for_confirmation(*, order: WorkOrder, actor: User | None, note: str = "") -> WorkOrder:
    """replied → awaiting_confirmation: the department reports its result back."""
    order = lock_for_action(order, actor, "submit")
    from_status = apply_transition(order, "submit")
    record_event(order, actor=actor, action="submit", from_status=from_status, note=note)
    notify(
        recipients=general_liaisons(),
        kind="work_order.awaiting_confirmation",
        params=_order_params(order),
        url=order_url(order),
    )
    return order


@transaction.atomic
def close_work_order(*, order: WorkOrder, actor: User | None, outcome: str) -> WorkOrder:
    """awaiting_confirmation → closed, once the general liaison confirms the outcome.
    Refused if no reply to the requester is recorded. Queues the `work_order.closed`
    webhook."""
    order = lock_for_action(order, actor, "close")
    if not outcome.strip():
        raise ValidationError({"outcome": _("Record the confirmed outcome.")})
    if order.replied_at is None:
        raise TransitionNotAllowed(_("An order cannot be closed before a reply to the requester is recorded."))
    from_status = apply_transition(order, "close", closed_at=timezone.now(), outcome=outcome.strip())
    record_event(order, actor=actor, action="close", from_status=from_status, note=outcome.strip())
    webhooks.queue_event("work_order.closed", webhooks.work_order_payload(order))
    return order
