from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from mediation.services.cases import CASE_ACTION_LABELS
from mediation.services.work_orders import ACTION_LABELS

register = template.Library()

SOON_SECONDS = 24 * 60 * 60


@register.simple_tag
def status_badge(code: str, label: str):
    return format_html('<span class="badge badge--{}">{}</span>', code, label)


@register.simple_tag
def time_left(due, running=True, now=None):
    """A deadline as time left, coloured: late, due within a day, or in good time."""
    if due is None:
        return ""
    now = now or timezone.now()
    local_due = timezone.localtime(due)
    stamp = format_html('<time datetime="{}">{}</time>', local_due.isoformat(), local_due.strftime("%Y-%m-%d %H:%M"))
    if not running:
        return format_html('<span class="deadline deadline--stopped">{}</span>', stamp)
    remaining = (due - now).total_seconds()
    if remaining < 0:
        text = _("overdue by %(time)s") % {"time": timesince(due, now, depth=1)}
        state = "late"
    else:
        text = _("%(time)s left") % {"time": timeuntil(due, now, depth=1)}
        state = "soon" if remaining < SOON_SECONDS else "ok"
    return format_html('<span class="deadline deadline--{}">{} <small>({})</small></span>', state, text, stamp)


@register.filter
def phone(value) -> str:
    """A stored phone number as its reader expects it (mediation.phones.display)."""
    from mediation.phones import display

    return display(value)


@register.filter
def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@register.filter
def case_action_label(action: str) -> str:
    return str(CASE_ACTION_LABELS.get(action, action))


@register.filter
def event_summary(event) -> str:
    """What a timeline entry's parameters say, in the reader's language: the entry
    stores codes (a case's number, its outcome), never a sentence."""
    from mediation.models import MediationCase

    data = event.data or {}
    if event.action == "mediation_outcome" and data.get("case_number"):
        outcome = data.get("outcome", "")
        label = MediationCase.Status(outcome).label if outcome in MediationCase.Status.values else outcome
        summary = _("Mediation case %(case)s: %(outcome)s") % {"case": data["case_number"], "outcome": label}
        if data.get("verification_code"):
            summary += " · " + _("sealed agreement %(code)s") % {"code": data["verification_code"]}
        if (data.get("filing_package") or {}).get("verification_code"):
            summary += " · " + _("filing package %(code)s") % {"code": data["filing_package"]["verification_code"]}
        return summary
    if event.action == "enforcement_application" and data.get("case_number"):
        return _("Mediation case %(case)s: application for enforcement %(code)s") % {
            "case": data["case_number"],
            "code": data.get("verification_code", ""),
        }
    return ""


@register.filter
def status_label(code: str) -> str:
    from mediation.models import WorkOrder

    return str(dict(WorkOrder.Status.choices).get(code, code))


@register.filter
def percent(rate):
    if rate is None:
        return "—"
    # A non-breaking space keeps "8.33 %" on one line.
    return f"{rate * 100:.2f}\u00a0%"


@register.filter
def is_overdue(order, now=None) -> bool:
    return order.is_overdue(now)
