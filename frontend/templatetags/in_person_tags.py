"""The case page's panel of acts done in person (documents.InPersonAct), so that
mediation's own code never imports the documents app."""

from django import template

from documents import selectors_in_person as acts
from documents.models.in_person import InPersonAct
from mediation import policy

register = template.Library()


@register.simple_tag
def in_person_panel(case, user):
    """What the case page shows of acts done in person to this reader, or None when
    there is nothing: the parties who consented in person (confirmed), the acts
    waiting for this reader's confirmation, and for the mediator the way to record."""
    visible = acts.visible_acts(user, case)
    may_record = case.allows("record_in_person") and policy.can_on_case(user, "record_in_person", case)
    if not visible and not may_record:
        return None
    return {
        "consents": [act for act in visible if act.kind == InPersonAct.Kind.CONSENT and act.is_confirmed],
        "to_confirm": acts.acts_to_confirm(user, case),
        "awaiting": [act for act in visible if act.confirmed_at is None and act.withdrawn_at is None],
        "may_record": may_record,
    }
