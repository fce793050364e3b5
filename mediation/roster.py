"""The roster's rules: who may be assigned a case, and whom the referral form
recommends for a dispute. Every place that gives a case a mediator (opening,
referral, delegation's dispatch and acceptance, recusal) asks `assignment_refusal`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import causes
from mediation.models import MediationCase, MediationOrganisation, MediatorProfile, User
from mediation.roles import Role, has_role


def profile_of(user: User) -> MediatorProfile | None:
    try:
        return user.mediator_profile
    except MediatorProfile.DoesNotExist:
        return None


def assignment_refusal(
    user: User, *, on: dt.date | None = None, organisation: MediationOrganisation | None = None
) -> str | None:
    """Why this person may not be given a case on the day (today by default), or None.
    With `organisation`, they must also be one of its mediators. A member of the
    mediator group without a roster profile is a court staff mediator: assignable,
    but belongs to no organisation."""
    on = on or timezone.localdate()
    if not user.is_active or not has_role(user, Role.MEDIATOR):
        return _("%(name)s is not a mediator.") % {"name": user}
    profile = profile_of(user)
    if profile is None:
        if organisation is not None:
            return _("%(name)s is not a mediator of %(organisation)s.") % {"name": user, "organisation": organisation}
        return None
    if organisation is not None and profile.organisation_id != organisation.pk:
        return _("%(name)s is not a mediator of %(organisation)s.") % {"name": user, "organisation": organisation}
    if not profile.organisation.is_active:
        return _("%(organisation)s is no longer on the roster.") % {"organisation": profile.organisation}
    if profile.status != MediatorProfile.Status.ACTIVE:
        return _("%(name)s is %(status)s and cannot be assigned cases.") % {
            "name": user,
            "status": profile.get_status_display().lower(),
        }
    if on < profile.term_starts_on:
        return _("%(name)s's appointment starts on %(date)s.") % {"name": user, "date": profile.term_starts_on}
    if on > profile.term_ends_on:
        return _("%(name)s's appointment ended on %(date)s.") % {"name": user, "date": profile.term_ends_on}
    return None


def assignable_mediators(*, on: dt.date | None = None, organisation: MediationOrganisation | None = None):
    """Everyone `assignment_refusal` accepts, as a queryset (same rule, in SQL)."""
    on = on or timezone.localdate()
    mediators = User.objects.filter(is_active=True, groups__name=Role.MEDIATOR)
    on_roster = Q(
        mediator_profile__status=MediatorProfile.Status.ACTIVE,
        mediator_profile__organisation__is_active=True,
        mediator_profile__term_starts_on__lte=on,
        mediator_profile__term_ends_on__gte=on,
    )
    if organisation is not None:
        return mediators.filter(on_roster, mediator_profile__organisation=organisation).distinct()
    return mediators.filter(on_roster | Q(mediator_profile__isnull=True)).distinct()


@dataclass
class Recommendation:
    mediator: User
    profile: MediatorProfile | None
    open_cases: int
    specialties: list[str] = field(default_factory=list)
    # Why they are recommended, in the reader's language, e.g. "specialises in 租赁合同纠纷".
    reasons: list[str] = field(default_factory=list)


def recommend_mediators(
    cause_of_action: str, *, organisation: MediationOrganisation | None = None, limit: int = 5
) -> list[Recommendation]:
    """Assignable mediators for a dispute, best first: those whose specialty covers the
    cause of action before the others, then the fewest open cases, then by name."""
    mediators = (
        assignable_mediators(organisation=organisation)
        .select_related("mediator_profile__organisation")
        .prefetch_related("mediator_profile__specialties")
        .annotate(
            open_cases=Count(
                "mediated_cases", filter=Q(mediated_cases__status__in=MediationCase.OPEN_STATUSES), distinct=True
            )
        )
    )
    ranked = []
    for mediator in mediators:
        profile = profile_of(mediator)
        specialties = [s.cause_of_action for s in profile.specialties.all()] if profile else []
        matching = [s for s in specialties if causes.matches(cause_of_action, s)]
        reasons = []
        if matching:
            reasons.append(_("specialises in %(causes)s") % {"causes": "、".join(matching)})
        reasons.append(
            _("%(count)s open cases") % {"count": mediator.open_cases} if mediator.open_cases != 1 else _("1 open case")
        )
        ranked.append(
            (
                (0 if matching else 1, mediator.open_cases, mediator.full_name, mediator.pk),
                Recommendation(mediator, profile, mediator.open_cases, specialties, reasons),
            )
        )
    ranked.sort(key=lambda pair: pair[0])
    return [recommendation for _key, recommendation in ranked[:limit]]
