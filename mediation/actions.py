"""The work-order actions a person can take from a page or the API: one table of
form (what to ask) and service call (what to do), shared by both faces."""

from django.utils.translation import gettext_lazy

from mediation.forms import (
    AssignForm,
    CloseForm,
    ContactForm,
    DispatchForm,
    NoteForm,
    ReasonForm,
    ReferForm,
    ReplyForm,
    ReturnVisitForm,
    SupervisionForm,
)
from mediation.services import cases, supervision
from mediation.services import work_orders as services


def _dispatch(order, user, data):
    return services.dispatch_work_order(
        order=order, actor=user, department=data["department"], assignee=data["assignee"], note=data["note"]
    )


def _reply(order, user, data):
    extra = {"replied_at": data["replied_at"]} if data["replied_at"] else {}
    return services.reply_to_requester(
        order=order, actor=user, content=data["content"], channel=data["channel"], **extra
    )


def _contact(order, user, data):
    extra = {"contacted_at": data["contacted_at"]} if data["contacted_at"] else {}
    return services.record_contact(order=order, actor=user, note=data["note"], **extra)


def _refer(order, user, data):
    return cases.refer_to_mediation(
        order=order,
        actor=user,
        mediator=data["mediator"],
        cause_of_action=data["cause_of_action"],
        claim_amount=data["claim_amount"],
        facts=data["facts"],
    )


WORK_ORDER_ACTIONS = {
    "refer_to_mediation": (ReferForm, _refer),
    "dispatch": (DispatchForm, _dispatch),
    "assign": (
        AssignForm,
        lambda order, user, data: services.assign_work_order(
            order=order, actor=user, assignee=data["assignee"], note=data["note"]
        ),
    ),
    "return": (
        ReasonForm,
        lambda order, user, data: services.return_work_order(order=order, actor=user, reason=data["reason"]),
    ),
    "start": (
        NoteForm,
        lambda order, user, data: services.start_work_order(order=order, actor=user, note=data["note"]),
    ),
    "record_contact": (ContactForm, _contact),
    "pause": (
        ReasonForm,
        lambda order, user, data: services.pause_work_order(order=order, actor=user, reason=data["reason"]),
    ),
    "resume": (
        NoteForm,
        lambda order, user, data: services.resume_work_order(order=order, actor=user, note=data["note"]),
    ),
    "reply": (ReplyForm, _reply),
    "submit": (
        NoteForm,
        lambda order, user, data: services.submit_for_confirmation(order=order, actor=user, note=data["note"]),
    ),
    "close": (
        CloseForm,
        lambda order, user, data: services.close_work_order(order=order, actor=user, outcome=data["outcome"]),
    ),
    "supervise": (
        SupervisionForm,
        lambda order, user, data: supervision.issue_supervision_notice(
            order=order, actor=user, content=data["content"], due_at=data["due_at"]
        ),
    ),
    "return_visit": (
        ReturnVisitForm,
        lambda order, user, data: supervision.record_return_visit(
            order=order,
            actor=user,
            reached=data["reached"],
            resolved=data["resolved"],
            satisfaction=data["satisfaction"],
            comment=data["comment"],
            reopen=data["reopen"],
        ),
    ),
}


# What the buttons say (the timeline uses services.work_orders.ACTION_LABELS).
ACTION_BUTTONS = {
    "dispatch": gettext_lazy("Dispatch"),
    "assign": gettext_lazy("Assign to a judge"),
    "return": gettext_lazy("Return to the general liaison"),
    "start": gettext_lazy("Take up the order"),
    "record_contact": gettext_lazy("Record a contact"),
    "pause": gettext_lazy("Wait for the requester"),
    "resume": gettext_lazy("Resume the clock"),
    "reply": gettext_lazy("Record the answer"),
    "refer_to_mediation": gettext_lazy("Refer to mediation"),
    "submit": gettext_lazy("Submit for confirmation"),
    "close": gettext_lazy("Confirm and close"),
    "supervise": gettext_lazy("Issue a supervision notice"),
    "return_visit": gettext_lazy("Record a return visit"),
}


def form_for(action, order, data=None, *, prefixed=True):
    """The action's form; prefixed by the action's name on pages, where several forms
    share one page, and bare in the API."""
    form_class = WORK_ORDER_ACTIONS[action][0]
    prefix = action if prefixed else None
    if form_class is AssignForm:
        return AssignForm(data, order=order, prefix=prefix)
    if form_class is DispatchForm and data is None:
        return DispatchForm(prefix=prefix, initial={"department": order.department})
    return form_class(data, prefix=prefix)


def perform(action, order, user, data):
    """Run the action's service with the form's cleaned data."""
    return WORK_ORDER_ACTIONS[action][1](order, user, data)
