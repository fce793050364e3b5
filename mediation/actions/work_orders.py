"""The actions on a work order, in the order its page lists them. The page and the
API (`POST /api/v1/work-orders/<number>/actions/<name>/`) share them."""

from django.utils.translation import gettext, gettext_lazy

from mediation import phones, policy
from mediation.actions import Action, ActionRegistry, referral
from mediation.forms import (
    AssignForm,
    CloseForm,
    ContactForm,
    DispatchForm,
    NoteForm,
    ReasonForm,
    ReplyForm,
    ReturnVisitForm,
    SupervisionForm,
)
from mediation.selectors.work_orders import proposed_outcome
from mediation.services import supervision
from mediation.services import work_orders as services


def _dispatch(order, actor, data):
    return services.dispatch_work_order(
        order=order, actor=actor, department=data["department"], assignee=data["assignee"], note=data["note"]
    )


def _reply(order, actor, data):
    extra = {"replied_at": data["replied_at"]} if data["replied_at"] else {}
    return services.reply_to_requester(
        order=order, actor=actor, content=data["content"], channel=data["channel"], **extra
    )


def _record_contact(order, actor, data):
    extra = {"contacted_at": data["contacted_at"]} if data["contacted_at"] else {}
    return services.record_contact(order=order, actor=actor, note=data["note"], **extra)


def _return_visit(order, actor, data):
    return supervision.record_return_visit(
        order=order,
        actor=actor,
        reached=data["reached"],
        resolved=data["resolved"],
        satisfaction=data["satisfaction"],
        comment=data["comment"],
        reopen=data["reopen"],
    )


def _who_tells_the_requester(order) -> str:
    # No message reaches the requester from the platform yet (no SMS): say who must call.
    return gettext(
        "Closing sends the requester nothing. Call %(name)s on %(phone)s yourself to tell them the outcome."
    ) % {"name": order.requester_name, "phone": phones.display(order.requester_phone)}


WORK_ORDER_ACTIONS = ActionRegistry(
    [
        Action(
            name="dispatch",
            label=gettext_lazy("Dispatch"),
            form_class=DispatchForm,
            perform=_dispatch,
            rule="dispatch",
            form_kwargs=lambda order: {"initial": {"department": order.department}},
        ),
        Action(
            name="assign",
            label=gettext_lazy("Assign to a judge"),
            form_class=AssignForm,
            perform=lambda order, actor, data: services.assign_work_order(
                order=order, actor=actor, assignee=data["assignee"], note=data["note"]
            ),
            rule="assign",
            form_kwargs=lambda order: {"order": order},
        ),
        Action(
            name="start",
            label=gettext_lazy("Take up the order"),
            form_class=NoteForm,
            perform=lambda order, actor, data: services.start_work_order(order=order, actor=actor, note=data["note"]),
            rule="start",
        ),
        Action(
            name="record_contact",
            label=gettext_lazy("Record a contact"),
            form_class=ContactForm,
            perform=_record_contact,
            rule="record_contact",
        ),
        Action(
            name="pause",
            label=gettext_lazy("Wait for the requester"),
            form_class=ReasonForm,
            perform=lambda order, actor, data: services.pause_work_order(
                order=order, actor=actor, reason=data["reason"]
            ),
            rule="pause",
        ),
        Action(
            name="resume",
            label=gettext_lazy("Resume the clock"),
            form_class=NoteForm,
            perform=lambda order, actor, data: services.resume_work_order(order=order, actor=actor, note=data["note"]),
            rule="resume",
        ),
        Action(
            name="reply",
            label=gettext_lazy("Record the answer"),
            form_class=ReplyForm,
            perform=_reply,
            rule="reply",
        ),
        Action(
            name="refer_to_mediation",
            label=gettext_lazy("Refer to mediation"),
            form_class=referral.ReferralForm,
            perform=referral.refer,
            rule="refer_to_mediation",
            form_kwargs=referral.referral_form_kwargs,
            notice=referral.referral_notice,
        ),
        Action(
            name="submit",
            label=gettext_lazy("Submit for confirmation"),
            form_class=NoteForm,
            perform=lambda order, actor, data: services.submit_for_confirmation(
                order=order, actor=actor, note=data["note"]
            ),
            rule="submit",
        ),
        Action(
            name="close",
            label=gettext_lazy("Confirm and close"),
            form_class=CloseForm,
            perform=lambda order, actor, data: services.close_work_order(
                order=order, actor=actor, outcome=data["outcome"]
            ),
            rule="close",
            form_kwargs=lambda order: {"initial": {"outcome": proposed_outcome(order)}},
            confirm=gettext_lazy("Close this order? The platform does not tell the requester: you call them."),
            notice=_who_tells_the_requester,
        ),
        Action(
            name="return",
            label=gettext_lazy("Return to the general liaison"),
            form_class=ReasonForm,
            perform=lambda order, actor, data: services.return_work_order(
                order=order, actor=actor, reason=data["reason"]
            ),
            rule="return",
            confirm=gettext_lazy("Return this order to the general liaison?"),
        ),
        Action(
            name="supervise",
            label=gettext_lazy("Issue a supervision notice"),
            form_class=SupervisionForm,
            perform=lambda order, actor, data: supervision.issue_supervision_notice(
                order=order, actor=actor, content=data["content"], due_at=data["due_at"]
            ),
            rule="supervise",
        ),
        Action(
            name="return_visit",
            label=gettext_lazy("Record a return visit"),
            form_class=ReturnVisitForm,
            perform=_return_visit,
            rule="return_visit",
        ),
    ],
    may=policy.can,
    url_name="work_order_action",
    url_key=lambda order: order.number,
)
