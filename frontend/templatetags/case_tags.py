"""Template access to the parts of a case that live in the apps built on mediation
(its rooms), so that mediation's own code never imports them."""

from django import template

from documents import next_step as next_steps
from documents import selectors as document_selectors
from documents import todo
from mediation.participation import rooms_of_user
from rooms.membership import rooms_for_user
from rooms.views import ROOM_TAB_ORDER

register = template.Library()


@register.simple_tag
def latest_agreement(case):
    return case.agreements.order_by("-created_at").first()


@register.simple_tag
def rooms_of_case(case, user):
    """The case's rooms this user may enter, joint room first."""
    return sorted(rooms_for_user(user).filter(case=case), key=lambda room: ROOM_TAB_ORDER.index(room.kind))


@register.simple_tag
def sessions_of_case(case, user, staff_view=False):
    """The case's sessions this user may know of. Court staff who follow the whole case
    (`staff_view`: its mediator and judge, the general liaison, the operator) see every
    one, as the case's timeline already shows them. A party's people see only those
    held in a room they may enter (`mediation.participation`, the one rule of who may be
    in which room): the other side's caucus sessions, their times and their status stay unknown
    to them."""
    sessions = case.sessions.all()
    if staff_view:
        return sessions
    return sessions.filter(rooms_of_user(user, kind_field="room_kind"))


@register.simple_tag
def party_tasks(case, user):
    """What one of the case's parties' people has to do next, and waits for
    (`documents.todo`); empty for court staff."""
    return todo.party_tasks(case, user)


@register.filter
def open_task_count(tasks):
    return todo.open_task_count(tasks)


@register.simple_tag
def next_step(case, user):
    """The hint of what this reader should do next in the case (documents.next_step),
    or None."""
    return next_steps.next_step(case, user)


@register.simple_tag
def confirmation_panel(case, user):
    """Judicial confirmation on the case page (documents.selectors.confirmation_panel),
    or None before the agreement is sealed."""
    return document_selectors.confirmation_panel(case, user)


@register.simple_tag
def court_confirmation(case, user):
    """The court's side of the case's latest application for judicial confirmation, as
    the case page shows it (documents.services.confirmation_court), or None before the
    court has it."""
    from documents.services.confirmation_court import case_panel

    return case_panel(case, user)
