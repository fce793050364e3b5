"""The case page's delegation panel (mediation.selectors.delegation)."""

from django import template

from mediation.selectors.delegation import delegation_panel as panel_of

register = template.Library()


@register.simple_tag
def delegation_panel(case, user):
    return panel_of(case, user)
