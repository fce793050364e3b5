"""Template access to the parts of a case that live in the apps built on mediation
(its rooms), so that mediation's own code never imports them."""

from django import template

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
