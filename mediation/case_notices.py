"""The notices of a case's supervision and of recusal: their wording, topics and SMS
templates (imported once at start-up by MediationConfig.ready)."""

from django.utils.translation import gettext_lazy as _

from mediation.notifications import register_kind
from mediation.sms import templates as sms_templates

sms_templates.register(
    "notice_case_deadline",
    _("%(court)s: mediation case %(number)s must be concluded by %(due)s. %(link)s"),
)
sms_templates.register(
    "notice_case_overdue",
    _("%(court)s: mediation case %(number)s is past its deadline (%(due)s). %(link)s"),
)
sms_templates.register(
    "notice_case_supervised",
    _("%(court)s: supervision notice on mediation case %(number)s: answer by %(due)s. %(link)s"),
)

register_kind(
    "case_deadline.warning",
    _("Mediation case %(number)s must be concluded by %(due)s (%(days)s days left)."),
    topic="deadlines",
    sms_template="notice_case_deadline",
)
register_kind(
    "case_deadline.overdue",
    _("Mediation case %(number)s is past its deadline (%(due)s)."),
    topic="deadlines",
    sms_template="notice_case_overdue",
)
register_kind(
    "case_deadline.unassigned",
    _("Mediation case %(number)s has no mediator yet and must be concluded by %(due)s."),
    topic="deadlines",
    sms_template="notice_case_deadline",
)
register_kind(
    "case.supervised",
    _("Supervision notice on mediation case %(number)s: answer by %(due)s."),
    # Staff's topic of supervision notices (a party never gets one), so that the parties'
    # "cases" topic stays without an SMS choice.
    topic="work_orders",
    sms_template="notice_case_supervised",
)
register_kind(
    "case.supervision_answered",
    _("The supervision notice on mediation case %(number)s was answered."),
    topic="cases",
)
register_kind(
    "case.recusal_requested",
    _("A party asks for the mediator of case %(number)s to be replaced: decide on it."),
    topic="cases",
)
register_kind(
    "case.recusal_granted",
    _("Your request to replace the mediator of case %(number)s was granted: %(name)s mediates now."),
    topic="cases",
)
register_kind(
    "case.recusal_refused",
    _("Your request to replace the mediator of case %(number)s was refused; the case page says why."),
    topic="cases",
)
register_kind(
    "case.mediator_replaced",
    _("Mediation case %(number)s has a new mediator: %(name)s."),
    topic="cases",
)
register_kind(
    "case.mediator_removed",
    _("You no longer mediate case %(number)s: it was given to another mediator."),
    topic="cases",
)
