"""How a person's identity level (实名) reads on pages and in the signing certificate
of a sealed agreement."""

from django import template
from django.utils.translation import gettext as _

from mediation.identity import verifier_label as label_of_verifier
from mediation.models import IdentityLevel

register = template.Library()


@register.filter
def identity_level_label(level: str) -> str:
    """The level in words; a signature from before levels were recorded says so."""
    if level in IdentityLevel.values:
        return str(IdentityLevel(level).label)
    return _("Not recorded")


@register.filter
def verifier_label(name: str) -> str:
    return label_of_verifier(name) if name else ""


@register.inclusion_tag("includes/identity_badge.html")
def identity_badge(person, with_details=False):
    """A badge with the person's level; with `with_details` (court staff), by whom or
    through what and when it was verified."""
    level = person.identity_level
    return {
        "level": level,
        "label": identity_level_label(level),
        "with_details": with_details,
        "person": person,
        "verifier": verifier_label(person.real_name_verifier) if level == IdentityLevel.REAL_NAME else "",
    }


@register.filter
def for_participant(entries: dict, participant_id):
    """The identity-check entry of one participant (`identity_check_entries`)."""
    return (entries or {}).get(participant_id)


@register.filter
def id_number_masked(value: str) -> str:
    """A resident ID number as those who need not see it whole see it."""
    from mediation.id_numbers import mask

    return mask(value) if value else ""
