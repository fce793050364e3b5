"""Phone and resident ID numbers on pages, whole or masked for the reader by the one
rule of each (mediation.disclosure):

    {% load personal_data %}
    {% shown_phone party.phone case=case party=party %}
    {% shown_id_number order.requester_id_number order=order %}
"""

from django import template

from mediation import disclosure

register = template.Library()


def _reader(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def shown_phone(context, value, case=None, order=None, party=None) -> str:
    return disclosure.shown_phone(value, _reader(context), case=case, order=order, party=party)


@register.simple_tag(takes_context=True)
def shown_id_number(context, value, case=None, order=None) -> str:
    return disclosure.shown_id_number(value, _reader(context), case=case, order=order)
