"""Reads for the roster's pages: the organisations a member of staff may see, their
mediators, the people who may be appointed or made admins, and the public roster."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, Q, QuerySet

from mediation import policy
from mediation.models import MediationOrganisation, MediatorProfile, MediatorSpecialty, User
from mediation.roles import Role
from mediation.roster import assignable_mediators


def visible_organisations(user: User) -> QuerySet[MediationOrganisation]:
    """All organisations for the general liaison and the operator; an admin's own for
    an organisation admin."""
    organisations = MediationOrganisation.objects.annotate(mediator_count=Count("mediators", distinct=True))
    if user.is_superuser or policy.is_general_liaison(user):
        return organisations
    if policy.is_organisation_admin(user):
        return organisations.filter(admins=user)
    return organisations.none()


def organisation_mediators(organisation: MediationOrganisation) -> QuerySet[MediatorProfile]:
    return (
        organisation.mediators.select_related("user", "organisation")
        .prefetch_related("specialties")
        .order_by("user__full_name", "id")
    )


def appointable_users() -> QuerySet[User]:
    """Active members of the mediator group not on the roster yet."""
    return User.objects.filter(is_active=True, groups__name=Role.MEDIATOR, mediator_profile__isnull=True).order_by(
        "full_name", "id"
    )


def admin_candidates(organisation: MediationOrganisation) -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True, groups__name=Role.ORGANISATION_ADMIN)
        .exclude(administered_organisations=organisation)
        .order_by("full_name", "id")
    )


def public_profiles(*, on: dt.date | None = None) -> QuerySet[MediatorProfile]:
    """The public roster: published mediators of published, active organisations who
    may be given a case today (`mediation.roster.assignable_mediators`)."""
    return (
        MediatorProfile.objects.filter(
            is_published=True,
            organisation__is_published=True,
            user__in=assignable_mediators(on=on).values("pk"),
        )
        .select_related("user", "organisation")
        .prefetch_related(Prefetch("specialties", queryset=MediatorSpecialty.objects.order_by("id")))
        .order_by("organisation__name", "user__full_name", "id")
    )


def public_organisations() -> QuerySet[MediationOrganisation]:
    return MediationOrganisation.objects.filter(is_published=True, is_active=True).order_by("name", "id")


def public_regions() -> list[str]:
    """The regions the public roster can be filtered by: those of its organisations
    and of its mediators."""
    regions = set(public_organisations().values_list("region", flat=True))
    regions.update(public_profiles().exclude(region="").values_list("region", flat=True))
    return sorted(region for region in regions if region)


def filter_public_profiles(
    profiles: QuerySet[MediatorProfile], *, cause: str = "", region: str = ""
) -> QuerySet[MediatorProfile]:
    if cause:
        profiles = profiles.filter(specialties__cause_of_action=cause)
    if region:
        profiles = profiles.filter(Q(region=region) | Q(organisation__region=region))
    return profiles.distinct()


def public_profile(profile_id) -> MediatorProfile | None:
    """A mediator on the public roster by id, or None (unknown, hidden or not assignable)."""
    try:
        profile_id = int(profile_id)
    except (TypeError, ValueError):
        return None
    return public_profiles().filter(pk=profile_id).first()
