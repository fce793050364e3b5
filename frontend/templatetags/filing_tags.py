"""The filing package of a failed case (documents.services.filing_package): its codes
read as labels in the reader's language, its times as the court's local time, and the
panel on the case page, so that mediation's own code never imports documents."""

import datetime as dt

from django import template

from documents.models import Service
from mediation.models import Party
from mediation.models.cases import ParticipantRole, Side

register = template.Library()

LABELS = {
    "side": Side,
    "party_kind": Party.Kind,
    "role": ParticipantRole,
    "method": Service.Method,
    "service_status": Service.Status,
}


@register.filter
def code_label(code, vocabulary: str) -> str:
    """The label of a stored code (`{{ party.side|code_label:"side" }}`); the code
    itself if the vocabulary does not know it."""
    choices = LABELS[vocabulary]
    return str(choices(code).label) if code in choices.values else (code or "")


@register.filter
def standing_label(standing: str) -> str:
    from django.utils.translation import pgettext

    if standing == "mediator":
        return pgettext("filing package", "the mediator")
    return code_label(standing, "side")


@register.filter
def local_time(value) -> str:
    """An ISO time or date of the content, as "2026-12-07 14:30" (or "2026-12-07")."""
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    if len(value) == 10:
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


@register.simple_tag
def filing_package_panel(case, user):
    """The failed case's filing package, for a reader the policy lets read it, or None."""
    from documents.services.filing_package import filing_package_of
    from mediation import policy

    if case.status != case.Status.FAILED or not policy.can_on_case(user, "read_filing_package", case):
        return None
    return filing_package_of(case)
